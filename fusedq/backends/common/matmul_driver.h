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
int fq_matmul(const fq_kernels *k, const uint8_t *w, int64_t rows, int64_t row_bytes, int64_t cols,
              const float *x, int64_t n, int use_q8, float *out, int nthreads);
int fq_openmp_compiled(void);

#endif
