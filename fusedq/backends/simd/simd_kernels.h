/* The exported AVX2 kernels of the simd backend (defined in simd_*.c, tabled in simd_table.c). */
#ifndef FQ_SIMD_KERNELS_H
#define FQ_SIMD_KERNELS_H

#include "kernel_table.h"

#define FQ_AVX_DECLARE_DOTS(name)                                                                  \
    void fq_avx2_dot_q8_##name(const uint8_t *w, int64_t nb, const uint8_t *xq, int64_t xs,      \
                               int nx, float *out, int64_t os);                                  \
    void fq_avx2_dot_f32_##name(const uint8_t *w, int64_t nb, const float *x, int64_t xs,        \
                                int nx, float *out, int64_t os);                                 \
    void fq_avx2_gemm_q8_##name(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb,      \
                                const uint8_t *xq, int64_t xs, int64_t n, float *out, int64_t os); \
    void fq_avx2_gemv_q8_##name(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb,  \
                                const uint8_t *xq, float *out);                                  \
    void fq_avx2_gemv_f32_##name(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb, \
                                 const float *x, float *out);

/* simd_float.c: float weights (q8 mode is f32 mode for them) */
#define FQ_AVX_DECLARE_FLOAT_GEMM(name)                                                            \
    void fq_avx2_gemm_f32_##name(const uint8_t *w, int64_t row_bytes, int nrows, int64_t n,      \
                                 const float *x, int64_t xs, int64_t ncols, float *out, int64_t os);
FQ_AVX_DECLARE_FLOAT_GEMM(f32)
FQ_AVX_DECLARE_FLOAT_GEMM(f16)
FQ_AVX_DECLARE_FLOAT_GEMM(bf16)
void fq_avx2_dot_f32_f32(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx, float *out, int64_t os);
void fq_avx2_dot_f32_f16(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx, float *out, int64_t os);
void fq_avx2_dot_f32_bf16(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx, float *out, int64_t os);

/* simd_legacy.c: 32-element blocks */
FQ_AVX_DECLARE_DOTS(q4_0)
FQ_AVX_DECLARE_DOTS(q4_1)
FQ_AVX_DECLARE_DOTS(q5_0)
FQ_AVX_DECLARE_DOTS(q5_1)
FQ_AVX_DECLARE_DOTS(q8_0)
/* simd_kquants.c: 256-element K-quants */
FQ_AVX_DECLARE_DOTS(q2_K)
FQ_AVX_DECLARE_DOTS(q3_K)
FQ_AVX_DECLARE_DOTS(q4_K)
FQ_AVX_DECLARE_DOTS(q5_K)
FQ_AVX_DECLARE_DOTS(q6_K)
/* simd_iq4.c: the non-linear 4-bit grid */
FQ_AVX_DECLARE_DOTS(iq4_nl)
FQ_AVX_DECLARE_DOTS(iq4_xs)

#endif
