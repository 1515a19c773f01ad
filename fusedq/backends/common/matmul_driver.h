/* Row-parallel drivers shared by the compiled backends: they look kernels up in the backend's
 * table entry, split output rows over OpenMP threads, and never branch on the type. */
#ifndef FQ_MATMUL_DRIVER_H
#define FQ_MATMUL_DRIVER_H

#include <stdint.h>

#include "kernel_table.h"

enum { FQ_OK = 0, FQ_ENOMEM = 1 };

int fq_dequantize_rows(const fq_kernels *k, const uint8_t *w, int64_t rows, int64_t row_bytes,
                       int64_t cols, float *out, int nthreads);
int fq_get_rows(const fq_kernels *k, const uint8_t *w, int64_t row_bytes, const int64_t *ids,
                int64_t nids, int64_t cols, float *out, int nthreads);
/* Rows [r0, r1) of out[n][rows] = x @ W.T for all n columns, by what the table offers: gemv_q8
 * for one column, gemm_q8 / gemm_f32 from FQ_GEMM_MIN_COLS columns, else dot_* per row over
 * groups of FQ_COLS_PER_CALL columns. q8: xq (rows of xq_stride bytes); f32: xq NULL and xf
 * (rows of x_stride floats, with per-16 sums when k->f32_sums). Used by fq_matmul and the engine. */
void fq_row_tile(const fq_kernels *k, const uint8_t *w, int64_t row_bytes, int64_t r0, int64_t r1,
                 int64_t nb, const uint8_t *xq, int64_t xq_stride, const float *xf,
                 int64_t x_stride, int64_t n, float *out, int64_t rows);
int fq_matmul(const fq_kernels *k, const uint8_t *w, int64_t rows, int64_t row_bytes, int64_t cols,
              const float *x, int64_t n, int use_q8, float *out, int nthreads);
int fq_openmp_compiled(void);

#endif
