# The simd backend's compiled module: the shared Cython layer over the AVX2 / AVX-512 kernel tables.
# Call nothing here before checking cpu_features() (see __init__.py): the kernels need AVX2.
include "backend_api.pxi"


cdef extern from "simd_kernels.h":
    void fq_simd_select_isa(int avx512)


def select_isa(bint avx512):
    """Switch the kernel table between the AVX2 and AVX-512 builds (check cpu_features() first)."""
    fq_simd_select_isa(avx512)
