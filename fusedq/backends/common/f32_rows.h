/* The float activation rows the f32 kernels read (fq_matmul and the model engine both write
 * them here): x, in the order the GEMV asks for (gemv_x_order), then, for types with f32_sums,
 * the cols / FQ_XSUM_GROUP sums of each 16 consecutive values of x (in x's own order). */
#ifndef FQ_F32_ROWS_H
#define FQ_F32_ROWS_H

#include <stdint.h>
#include <string.h>

#include "kernel_table.h"

/* Floats of one row: cols, plus the sums when `sums`. */
static inline int64_t fq_f32_row_floats(int64_t cols, int sums) {
    return cols + (sums ? cols / FQ_XSUM_GROUP : 0);
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
