# The simd backend's compiled module: the shared Cython layer over the AVX2 / AVX-512 kernel tables.
# Call nothing here before checking cpu_features() (see __init__.py): the kernels need AVX2.
include "backend_api.pxi"


cdef extern from "simd_kernels.h":
    void fq_simd_select_isa(int table)


def select_isa(bint avx512, bint amx=False):
    """Switch the kernel table between the AVX2 and AVX-512 builds, the latter with the AMX f32
    GEMM when amx (check cpu_features() first, and request_amx() for AMX)."""
    fq_simd_select_isa(2 if avx512 and amx else 1 if avx512 else 0)
