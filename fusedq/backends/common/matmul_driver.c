/* The row-parallel drivers. Each output element is computed by one kernel call whose inputs
 * do not depend on the thread count, so results are bitwise thread-count invariant. Activations
 * are quantized once per call; each weight row decode serves up to FQ_MAX_COLS columns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "act_quant.h"
#include "f32_rows.h"
#include "matmul_driver.h"
#include "omp_shim.h"

#define FQ_ROW_TILE 16 /* rows per scheduling unit: W tile stays in cache across column groups */
#define FQ_X_ALIGN 64  /* bytes: a cache line, a zmm */


int fq_openmp_compiled(void) { return fq_omp_compiled(); }

int fq_dequantize_rows(const fq_kernels *k, const uint8_t *w, int64_t rows, int64_t row_bytes,
                       int64_t cols, float *out, int nthreads) {
    int64_t nb = cols / k->block_size;
    (void)nthreads;
    FQ_OMP("omp parallel for num_threads(nthreads) schedule(static)")
    for (int64_t r = 0; r < rows; r++) k->dequant(w + r * row_bytes, out + r * cols, nb);
    return FQ_OK;
}

int fq_get_rows(const fq_kernels *k, const uint8_t *w, int64_t row_bytes, const int64_t *ids,
                int64_t nids, int64_t cols, float *out, int nthreads) {
    int64_t nb = cols / k->block_size;
    (void)nthreads;
    FQ_OMP("omp parallel for num_threads(nthreads) schedule(static) if(nids > 8)")
    for (int64_t i = 0; i < nids; i++) k->dequant(w + ids[i] * row_bytes, out + i * cols, nb);
    return FQ_OK;
}

void fq_row_tile(const fq_kernels *k, const uint8_t *w, int64_t row_bytes, int64_t r0, int64_t r1,
                 int64_t nb, const uint8_t *xq, int64_t xq_stride, const float *xf,
                 int64_t x_stride, int64_t n, float *out, int64_t rows) {
    if (xq && k->gemv_q8 && n <= k->gemv_cols) {
        k->gemv_q8(w + r0 * row_bytes, row_bytes, r1 - r0, nb, xq, xq_stride, (int)n, out + r0, rows);
        return;
    }
    if (xq && k->gemm_q8 && n >= FQ_GEMM_MIN_COLS) {
        for (int64_t r = r0; r < r1; r += FQ_GEMM_ROWS) {
            const int nr = (int)(r1 - r < FQ_GEMM_ROWS ? r1 - r : FQ_GEMM_ROWS);
            k->gemm_q8(w + r * row_bytes, row_bytes, nr, nb, xq, xq_stride, n, out + r, rows);
        }
        return;
    }
    if (!xq && k->gemv_f32 && n == 1) {
        k->gemv_f32(w + r0 * row_bytes, row_bytes, r1 - r0, nb, xf, out + r0);
        return;
    }
    if (!xq && k->gemm_f32 && n >= FQ_GEMM_MIN_COLS) {
        k->gemm_f32(w + r0 * row_bytes, row_bytes, (int)(r1 - r0), nb, xf, x_stride, n, out + r0, rows);
        return;
    }
    for (int64_t j0 = 0; j0 < n; j0 += FQ_COLS_PER_CALL) {
        const int nx = (int)(n - j0 < FQ_COLS_PER_CALL ? n - j0 : FQ_COLS_PER_CALL);
        for (int64_t r = r0; r < r1; r++) {
            if (xq)
                k->dot_q8(w + r * row_bytes, nb, xq + j0 * xq_stride, xq_stride, nx, out + j0 * rows + r, rows);
            else
                k->dot_f32(w + r * row_bytes, nb, xf + j0 * x_stride, x_stride, nx, out + j0 * rows + r, rows);
        }
    }
}

/* f32 GEMM on bf16 parts (kernel_table.h: gemm_bf16x3): x is split once, its column tiles in
 * parallel, then each row tile runs against all n columns. */
static int fq_matmul_bf16x3(const fq_kernels *k, const uint8_t *w, int64_t rows, int64_t row_bytes,
                            int64_t cols, const float *x, int64_t n, float *out, int nthreads) {
    const int64_t nb = cols / k->block_size, tile_bytes = FQ_BF16X3_TILE_BYTES(cols);
    const int64_t ntiles = (n + FQ_BF16X3_COLS - 1) / FQ_BF16X3_COLS;
    const size_t bytes = (size_t)(ntiles * tile_bytes + n * (int64_t)sizeof(float));
    uint8_t *xs = (uint8_t *)aligned_alloc(FQ_X_ALIGN, (bytes + FQ_X_ALIGN - 1) / FQ_X_ALIGN * FQ_X_ALIGN);
    if (!xs) return FQ_ENOMEM;
    float *col_scale = (float *)(xs + ntiles * tile_bytes);
    uint8_t *scratch = (uint8_t *)aligned_alloc(FQ_X_ALIGN, (size_t)(nthreads > 0 ? nthreads : 1) * FQ_BF16X3_SCRATCH);
    if (!scratch) {
        free(xs);
        return FQ_ENOMEM;
    }
    FQ_OMP("omp parallel for num_threads(nthreads) schedule(static) if(ntiles > 1)")
    for (int64_t t = 0; t < ntiles; t++) {
        const int64_t c0 = t * FQ_BF16X3_COLS;
        const int ncols = (int)(n - c0 < FQ_BF16X3_COLS ? n - c0 : FQ_BF16X3_COLS);
        k->x_bf16x3(x + c0 * cols, cols, ncols, cols, k->gemv_x_order, xs + t * tile_bytes, col_scale + c0);
    }
    const int64_t nrt = (rows + FQ_ROW_TILE - 1) / FQ_ROW_TILE;
    FQ_OMP("omp parallel for num_threads(nthreads) schedule(guided)")
    for (int64_t t = 0; t < nrt; t++) {
        const int64_t r0 = t * FQ_ROW_TILE, r1 = r0 + FQ_ROW_TILE < rows ? r0 + FQ_ROW_TILE : rows;
        k->gemm_bf16x3(w + r0 * row_bytes, row_bytes, (int)(r1 - r0), nb, xs, col_scale, n, out + r0, rows,
                       scratch + (size_t)fq_omp_thread_id() * FQ_BF16X3_SCRATCH);
    }
    free(scratch);
    free(xs);
    return FQ_OK;
}

int fq_matmul(const fq_kernels *k, const uint8_t *w, int64_t rows, int64_t row_bytes, int64_t cols,
              const float *x, int64_t n, int use_q8, float *out, int nthreads) {
    const int64_t nb = cols / k->block_size;
    const fq_act_format *af = (use_q8 && k->dot_q8) ? &fq_act_formats[k->partner] : NULL;
    if (!af && k->gemm_bf16x3 && n >= FQ_BF16X3_MIN_COLS)
        return fq_matmul_bf16x3(k, w, rows, row_bytes, cols, x, n, out, nthreads);
    uint8_t *xq = NULL;
    int64_t xq_stride = 0;
    if (af) {
        xq_stride = (cols / af->block) * af->block_bytes;
        xq = (uint8_t *)malloc((size_t)(n * xq_stride));
        if (!xq) return FQ_ENOMEM;
        FQ_OMP("omp parallel for num_threads(nthreads) schedule(static) if(n > 4)")
        for (int64_t i = 0; i < n; i++) af->quantize(x + i * cols, xq + i * xq_stride, cols);
    }
    const float *xf = x;
    float *xbuf = NULL;
    int64_t x_stride = cols;
    /* a copy of x when its rows need their per-16 sums after them or the GEMV reads x in its
     * own order, or when a GEMM would read rows 4 KB apart (f32_rows.h), or for a GEMV from an
     * address off the 64-byte grid (the AVX-512 f32 GEMV reloads x for every weight row: a zmm
     * load across two cache lines costs two; 15% on Q4_0) */
    const int sums = !af && k->f32_sums;
    const int gemv = !af && n == 1 && k->gemv_f32;
    const int order = af ? FQ_X_NATURAL : fq_f32_x_order(k, n);
    const int realign = gemv && ((uintptr_t)x % FQ_X_ALIGN) != 0;
    const int spread = !af && k->gemm_f32 && fq_f32_rows_alias(cols, n);
    if (sums || order != FQ_X_NATURAL || realign || spread) {
        x_stride = fq_f32_row_floats(cols, sums);
        const size_t bytes = (size_t)(n * x_stride) * sizeof(float);
        xbuf = (float *)aligned_alloc(FQ_X_ALIGN, (bytes + FQ_X_ALIGN - 1) / FQ_X_ALIGN * FQ_X_ALIGN);
        if (!xbuf) return FQ_ENOMEM;
        for (int64_t i = 0; i < n; i++) fq_f32_row(x + i * cols, cols, order, sums, xbuf + i * x_stride);
        xf = xbuf;
    }
    const int64_t ntiles = (rows + FQ_ROW_TILE - 1) / FQ_ROW_TILE;
    (void)nthreads;
    /* guided: each thread first takes a long contiguous run of rows (half, then a quarter of
     * what is left...), so its weight stream stays sequential for the hardware prefetcher; the
     * shrinking tail still lets a thread that lost its core on a shared machine be caught up.
     * 2-thread GEMV Q4_0 5632x2048: 0.26 -> 0.19 ms against 32-row dynamic chunks (1.4x -> 1.95x
     * over one thread). Which thread computes a tile never changes its result. */
    FQ_OMP("omp parallel for num_threads(nthreads) schedule(guided)")
    for (int64_t t = 0; t < ntiles; t++) {
        const int64_t r1 = (t + 1) * FQ_ROW_TILE < rows ? (t + 1) * FQ_ROW_TILE : rows;
        fq_row_tile(k, w, row_bytes, t * FQ_ROW_TILE, r1, nb, xq, xq_stride, xf, x_stride, n, out, rows);
    }
    free(xq);
    free(xbuf);
    return FQ_OK;
}
