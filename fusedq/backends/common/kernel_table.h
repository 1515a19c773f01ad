/* The per-type kernel table: every backend fills one, callers look kernels up by GGML type id
 * and never switch on the type. */
#ifndef FQ_KERNEL_TABLE_H
#define FQ_KERNEL_TABLE_H

#include <stdint.h>

#define FQ_MAX_COLS 8 /* most activation columns one kernel call (one weight-row decode) takes */
/* Columns per call the drivers use: measured best on AVX2 (16 YMM registers: accumulators for
 * 8 columns spill in the K-quant and f32 kernels). Callers of dot_* should group by this. */
#define FQ_COLS_PER_CALL 4

/* 8-bit activation formats (fusedq/types.py act_partner); F32 = no quantization. */
enum fq_partner { FQ_ACT_F32 = 0, FQ_ACT_Q8_0, FQ_ACT_Q8_1, FQ_ACT_Q8_K, FQ_ACT_COUNT };

/* dst[nblocks * block_size] = the exact float values of `nblocks` consecutive blocks. */
typedef void (*fq_dequant_fn)(const uint8_t *blocks, float *dst, int64_t nblocks);
/* out[j * out_stride] = dot(weight row, x + j * x_stride) for j < nx (nx <= FQ_MAX_COLS). */
typedef void (*fq_dot_f32_fn)(const uint8_t *wrow, int64_t nblocks, const float *x,
                              int64_t x_stride, int nx, float *out, int64_t out_stride);
/* Same with activations already quantized to the partner format; xq_stride in bytes. */
typedef void (*fq_dot_q8_fn)(const uint8_t *wrow, int64_t nblocks, const uint8_t *xq,
                             int64_t xq_stride, int nx, float *out, int64_t out_stride);

/* out[j * out_stride + r] = dot(row r, column j) for r < nrows (<= FQ_GEMM_ROWS) and j < n: the
 * rows w + r * row_bytes against n quantized activation rows (stride xq_stride bytes). A GEMM
 * tile: the rows are decoded once for all n columns. */
typedef void (*fq_gemm_q8_fn)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nblocks,
                              const uint8_t *xq, int64_t xq_stride, int64_t n, float *out,
                              int64_t out_stride);
/* out[j * out_stride + r] = dot(row r, quantized activation row j) for r < nrows and j < nx
 * (<= the table's gemv_cols; rows xq_stride bytes apart): GEMV over a row tile in one call, each
 * weight block decoded once for the nx columns. */
typedef void (*fq_gemv_q8_fn)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nblocks,
                              const uint8_t *xq, int64_t xq_stride, int nx, float *out,
                              int64_t out_stride);
/* The same with float activation rows (x_stride in floats), for callers in f32 mode. */
typedef void (*fq_gemm_f32_fn)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nblocks,
                               const float *x, int64_t x_stride, int64_t n, float *out,
                               int64_t out_stride);
/* One f32 activation row (with its per-16 sums when f32_sums) against nrows weight rows. */
typedef void (*fq_gemv_f32_fn)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nblocks,
                               const float *x, float *out);
/* f32 mode on x split into three bf16 parts, hi + mid + lo == x exactly (simd AMX build,
 * amx_gemm_f32.h). x_bf16x3 writes one column tile: ncols <= FQ_BF16X3_COLS rows of x (the rest
 * zero) in `order` (the table's gemv_x_order: the order in which the type's decoders give its
 * values), each scaled by a power of two, as FQ_BF16X3_TILE_BYTES(cols) bytes at dst, and the
 * scales' inverses at col_scale[j]; gemm_bf16x3 is gemm_f32 on n columns so written (tiles
 * consecutive, col_scale[j] for column j), with FQ_BF16X3_SCRATCH bytes of working memory of its
 * own (64-byte aligned; the caller's heap, not a thread stack). */
typedef void (*fq_x_bf16x3_fn)(const float *x, int64_t x_stride, int ncols, int64_t cols, int order,
                               uint8_t *dst, float *col_scale);
typedef void (*fq_gemm_bf16x3_fn)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nblocks,
                                  const uint8_t *xs, const float *col_scale, int64_t n, float *out,
                                  int64_t out_stride, uint8_t *scratch);
#define FQ_BF16X3_COLS 16
#define FQ_BF16X3_SCRATCH (132 * 1024)
/* Fewest columns for which callers use gemm_bf16x3 (measured, 2 threads, 5632 x 2048: the AMX
 * path costs about the same for every type, ~2.2 ms at n = 16 and 2.6 at n = 24, where the FMA
 * tiles of the AVX-512 build take 1.8-2.3 and 2.5-3.4 ms; from n = 32 AMX is ahead for all). */
#define FQ_BF16X3_MIN_COLS 24
#define FQ_BF16X3_TILE_BYTES(cols) ((int64_t)(cols) / 32 * 3 * 1024)
#define FQ_GEMM_ROWS 16 /* rows per gemm_q8 call (the simd AVX-512 tiles take 16) */
#define FQ_GEMV_COLS 4  /* most columns of a several-column gemv_q8 (simd 32-blocks) */
/* Fewest columns for which callers use gemm_q8 instead of dot_q8 (measured on AVX2). */
#define FQ_GEMM_MIN_COLS 4

typedef struct fq_kernels {
    int type_id;          /* GGML type id */
    const char *name;
    int block_size;       /* elements per block */
    int type_size;        /* bytes per block */
    int partner;          /* enum fq_partner */
    fq_dequant_fn dequant;
    fq_dot_f32_fn dot_f32;
    fq_dot_q8_fn dot_q8;  /* NULL for float types: q8 mode is f32 mode */
    const char *impl;     /* how this backend implements the type, for describe()/show_config */
    /* 1: dot_f32 wants each activation row followed by its cols/16 per-16 sums (float), so
     * mins/offsets cost one FMA per 16 sums instead of one per weight (FQ_XSUM_GROUP). Every
     * caller of dot_f32 must honour it (fq_matmul does: row stride cols + cols/16). */
    int f32_sums;
    fq_gemm_q8_fn gemm_q8; /* NULL: callers use dot_q8 for every n */
    fq_gemv_q8_fn gemv_q8; /* NULL: callers use dot_q8 for n = 1 */
    fq_gemm_f32_fn gemm_f32; /* NULL: callers use dot_f32 for every n */
    fq_gemv_f32_fn gemv_f32; /* NULL: callers use dot_f32 for n = 1 */
    /* The order in which gemv_f32 and gemm_f32 read the values of their x rows (FQ_X_*,
     * f32_rows.h writes it: fq_f32_x_order): a kernel may want x permuted once per call rather
     * than once per weight row. */
    int gemv_x_order;
    /* Most columns one gemv_q8 call takes (1: one column; callers use it for n <= gemv_cols). */
    int gemv_cols;
    /* NULL where the build has no such kernel (all but the simd AMX table): callers use gemm_f32 */
    fq_x_bf16x3_fn x_bf16x3;
    fq_gemm_bf16x3_fn gemm_bf16x3;
} fq_kernels;

/* Orders of an f32 GEMV's x row (gemv_x_order). FQ_X_WORDS16 (256-blocks): in each block,
 * value 128 (i >> 3) + 32 f + 4 (i & 7) + o at position 16 (4 f + o) + i, for f, o < 4 and
 * i < 16: the values of 2-bit field f in byte o of dword i of 64 packed bytes (Q2_K's qs) in
 * lane i of vector 4 f + o. */
enum { FQ_X_NATURAL = 0, FQ_X_WORDS16 = 1 };

#define FQ_XSUM_GROUP 16

/* Each backend defines these two (its own table). */
const fq_kernels *fq_lookup(int type_id);
const fq_kernels *fq_table(int *count);
const char *fq_backend_target(void); /* e.g. "AVX2+FMA+F16C" */

#endif
