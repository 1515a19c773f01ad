# The simd backend's compiled module: the shared Cython layer over the AVX2 kernel table.
# Call nothing here before checking cpu_features() (see __init__.py): the kernels need AVX2.
include "backend_api.pxi"
