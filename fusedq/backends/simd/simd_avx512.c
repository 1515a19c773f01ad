/* The simd kernels compiled a second time for AVX-512 (F, BW, VL, DQ, VNNI): the same AVX2
 * intrinsics with EVEX encodings and 32 vector registers, vpdpbusd for the integer dots
 * (FQ_SIMD_VNNI in avx2_common.h), exported as fq_avx512_*. Chosen at run time only
 * where the CPU and OS support it (simd/__init__.py); simd_table.c tables both sets. */
#define FQ_SIMD_AVX512 1
#define FQ_SIMD_ISA avx512
#include "simd_float.c"
#include "simd_legacy.c"
#include "simd_kquants.c"
#include "simd_iq4.c"
