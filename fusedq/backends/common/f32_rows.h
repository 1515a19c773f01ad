/* The float activation rows the f32 kernels read (fq_matmul and the model engine both write
 * them here): x, in the order the GEMV asks for (gemv_x_order), then, for types with f32_sums,
 * the cols / FQ_XSUM_GROUP sums of each 16 consecutive values of x (in x's own order), rows
 * fq_f32_row_floats apart. */
#ifndef FQ_F32_ROWS_H
#define FQ_F32_ROWS_H

#include <stdint.h>
#include <string.h>

#include "kernel_table.h"

/* Floats from one row to the next: cols, plus the sums when `sums`, plus a cache line when that
 * would be a multiple of 4 KB: the GEMM tiles read 6 rows side by side, and rows 4 KB apart share
 * L1 sets (n=128 at 2 threads: F16 GEMM 16.0 -> 13.7 ms, Q4_0 f32 17.7 -> 13.4). */
static inline int64_t fq_f32_row_floats(int64_t cols, int sums) {
    const int64_t floats = cols + (sums ? cols / FQ_XSUM_GROUP : 0);
    return floats % 1024 ? floats : floats + 16;
}

/* Whether n rows of x as given (cols floats apart) would be that far apart for a GEMM. */
static inline int fq_f32_rows_alias(int64_t cols, int64_t n) {
    return n >= FQ_GEMM_MIN_COLS && cols % 1024 == 0;
}

/* The order in which the f32 kernel fq_row_tile picks for n columns reads x (gemv_x_order for
 * the GEMV and the GEMM tiles, natural for the row dots). */
static inline int fq_f32_x_order(const fq_kernels *k, int64_t n) {
    const int ordered = (n == 1 && k->gemv_f32) || (n >= FQ_GEMM_MIN_COLS && k->gemm_f32);
    return ordered ? k->gemv_x_order : FQ_X_NATURAL;
}

/* dst = x (cols floats) in `order` (FQ_X_*; FQ_X_WORDS16 needs cols % 256 == 0), then its
 * per-16 sums when `sums`. */
static inline void fq_f32_row(const float *x, int64_t cols, int order, int sums, float *dst) {
    if (order == FQ_X_WORDS16) {
        for (int64_t b = 0; b < cols; b += 256)
            for (int f = 0; f < 4; f++)
                for (int o = 0; o < 4; o++)
                    for (int i = 0; i < 16; i++)
                        dst[b + 16 * (4 * f + o) + i] = x[b + 128 * (i >> 3) + 32 * f + 4 * (i & 7) + o];
    } else {
        memcpy(dst, x, (size_t)cols * sizeof(float));
    }
    for (int64_t g = 0; sums && g < cols / FQ_XSUM_GROUP; g++) {
        float s = 0.0f;
        for (int e = 0; e < FQ_XSUM_GROUP; e++) s += x[g * FQ_XSUM_GROUP + e];
        dst[cols + g] = s;
    }
}

#endif
