/* The exported kernels of the simd backend (defined in simd_*.c, tabled in simd_table.c). The
 * same sources are compiled once per instruction set: FQ_SIMD_ISA (avx2 unless a wrapper such as
 * simd_avx512.c sets it) prefixes every exported name, fq_<isa>_<kernel>. No include guard:
 * simd_table.c includes this once per instruction set to declare both sets. */
#include "kernel_table.h"

#ifndef FQ_SIMD_ISA
#define FQ_SIMD_ISA avx2
#endif
#define FQ_SIMD_PASTE_(a, b, c) a##b##c
#define FQ_SIMD_PASTE(a, b, c) FQ_SIMD_PASTE_(a, b, c)
#define FQ_SIMD_FN(x) FQ_SIMD_PASTE(fq_, FQ_SIMD_ISA, _##x)

#ifndef FQ_SIMD_X_ORDERS
#define FQ_SIMD_X_ORDERS
/* The x order (gemv_x_order) of each quantized type's f32 GEMV in the AVX-512 build (the AVX2
 * build reads every x as given): Q2_K, Q3_K and Q6_K read FQ_X_WORDS16 (avx512_gemv_f32.h). */
enum {
    fq_z_x_order_q4_0 = FQ_X_NATURAL, fq_z_x_order_q4_1 = FQ_X_NATURAL,
    fq_z_x_order_q5_0 = FQ_X_NATURAL, fq_z_x_order_q5_1 = FQ_X_NATURAL,
    fq_z_x_order_q8_0 = FQ_X_NATURAL, fq_z_x_order_q2_K = FQ_X_WORDS16,
    fq_z_x_order_q3_K = FQ_X_WORDS16, fq_z_x_order_q4_K = FQ_X_NATURAL,
    fq_z_x_order_q5_K = FQ_X_NATURAL, fq_z_x_order_q6_K = FQ_X_WORDS16,
    fq_z_x_order_iq4_nl = FQ_X_NATURAL, fq_z_x_order_iq4_xs = FQ_X_NATURAL,
};
#endif

/* simd_table.c: which build's table fq_lookup returns (FQ_SIMD_TABLE_*). */
#ifndef FQ_SIMD_TABLES
#define FQ_SIMD_TABLES
enum { FQ_SIMD_TABLE_AVX2 = 0, FQ_SIMD_TABLE_AVX512 = 1, FQ_SIMD_TABLE_AMX = 2 };
#endif
void fq_simd_select_isa(int table);

/* amx_gemm_f32.h (AVX-512 build only): x split into bf16 parts for gemm_bf16x3 */
void FQ_SIMD_FN(x_bf16x3)(const float *x, int64_t xs, int ncols, int64_t cols, int order,
                          uint8_t *dst, float *col_scale);

#define FQ_AVX_DECLARE_DOTS(name)                                                                  \
    void FQ_SIMD_FN(dot_q8_##name)(const uint8_t *w, int64_t nb, const uint8_t *xq, int64_t xs,  \
                               int nx, float *out, int64_t os);                                  \
    void FQ_SIMD_FN(dot_f32_##name)(const uint8_t *w, int64_t nb, const float *x, int64_t xs,    \
                                int nx, float *out, int64_t os);                                 \
    void FQ_SIMD_FN(gemm_q8_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb,  \
                                const uint8_t *xq, int64_t xs, int64_t n, float *out, int64_t os); \
    void FQ_SIMD_FN(gemv_q8_##name)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb, \
                                const uint8_t *xq, int64_t xs, int nx, float *out, int64_t os);  \
    void FQ_SIMD_FN(gemv_f32_##name)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb, \
                                 const float *x, float *out);                                    \
    void FQ_SIMD_FN(gemm_f32_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb,  \
                                 const float *x, int64_t xs, int64_t n, float *out, int64_t os); \
    void FQ_SIMD_FN(gemm_bf16x3_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb, \
                                    const uint8_t *xs, const float *col_scale, int64_t n,        \
                                    float *out, int64_t os, uint8_t *scratch);

/* simd_float.c: float weights (q8 mode is f32 mode for them) */
#define FQ_AVX_DECLARE_FLOAT_GEMM(name)                                                            \
    void FQ_SIMD_FN(gemm_f32_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t n,  \
                                 const float *x, int64_t xs, int64_t ncols, float *out, int64_t os);
FQ_AVX_DECLARE_FLOAT_GEMM(f32)
FQ_AVX_DECLARE_FLOAT_GEMM(f16)
FQ_AVX_DECLARE_FLOAT_GEMM(bf16)
void FQ_SIMD_FN(dot_f32_f32)(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx, float *out, int64_t os);
void FQ_SIMD_FN(dot_f32_f16)(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx, float *out, int64_t os);
void FQ_SIMD_FN(dot_f32_bf16)(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx, float *out, int64_t os);

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
