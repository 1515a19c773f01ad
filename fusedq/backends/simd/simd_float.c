/* AVX2 dots of the float weight types F32, F16 (F16C conversion) and BF16 (a byte shuffle into
 * the top half of a float); in the AVX-512 build, 16-lane F16 GEMM tiles. Float weights take f32
 * activations in both modes. */
#include <limits.h>

#include "avx2_common.h"
#include "avx2_float_tile.h"
#include "simd_kernels.h"

FQ_AVX_INLINE void fq_avx_dot_float(const int kind, const uint8_t *w, int64_t n, const float *x,
                                    int64_t xs, float *out, int64_t os, const int nx) {
    /* U independent accumulators per column (4 for one column, 2 for two): one FMA chain per
     * column would bound the loop by FMA latency. */
    enum { MAXU = 4 };
    const int U = nx == 1 ? 4 : nx == 2 ? 2 : 1;
    __m256 acc[MAXU][FQ_MAX_COLS];
    float tail[FQ_MAX_COLS];
    for (int j = 0; j < nx; j++) {
        for (int u = 0; u < U; u++) acc[u][j] = _mm256_setzero_ps();
        tail[j] = 0.0f;
    }
    int64_t i = 0;
    for (; i + 8 * U <= n; i += 8 * U)
        for (int u = 0; u < U; u++) {
            const __m256 wv = fq_avx_load8(kind, w, i + 8 * u);
            for (int j = 0; j < nx; j++)
                acc[u][j] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + j * xs + i + 8 * u), acc[u][j]);
        }
    for (; i + 8 <= n; i += 8) {
        const __m256 wv = fq_avx_load8(kind, w, i);
        for (int j = 0; j < nx; j++) acc[0][j] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + j * xs + i), acc[0][j]);
    }
    for (int j = 0; j < nx; j++)
        for (int u = 1; u < U; u++) acc[0][j] = _mm256_add_ps(acc[0][j], acc[u][j]);
    for (; i < n; i++) {
        const float wf = fq_avx_load1(kind, w, i);
        for (int j = 0; j < nx; j++) tail[j] += wf * x[j * xs + i];
    }
    for (int j = 0; j < nx; j++) out[j * os] = fq_avx_hsum(acc[0][j]) + tail[j];
}

#if FQ_SIMD_AVX512
/* The F16 tile with 16-lane accumulators. F16 conversions, not FMAs, bound the ymm tile (each
 * takes an FMA port); one zmm conversion does 16 values, and a zmm FMA does twice the work of a
 * ymm one (this CPU issues two per cycle, as many as ymm; CPUs with one 512-bit unit lose
 * nothing in FLOPs). GEMM n=32 at 2 threads 4.45 -> 3.97 ms, n=128 17.3 -> 13.6-15.8 (F32 and
 * BF16 measured no faster in zmm: they keep the ymm tile). Runs over k in [k0, k1): k0 > 0
 * continues the accumulators saved in part (R * C * 16 floats), k1 < n saves them there; the
 * last range adds the remainder of n % 16 values (ymm and single steps) and writes the sums.
 * Every output sums the same products in the same order whatever the ranges (they start at
 * multiples of 16). */
FQ_AVX_INLINE void fq_avx512_f16_tile(const uint8_t *w, int64_t row_bytes, int64_t n,
                                      const float *x, int64_t xs, float *out, int64_t os,
                                      const int R, const int C, int64_t k0, int64_t k1,
                                      float *part) {
    __m512 acc[FQ_TILE_RMAX][FQ_TILE_CMAX];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            acc[r][c] = k0 ? _mm512_loadu_ps(part + 16 * (FQ_TILE_CMAX * r + c)) : _mm512_setzero_ps();
    int64_t i = k0;
    for (; i + 16 <= k1; i += 16) {
        __m512 wv[FQ_TILE_RMAX];
        for (int r = 0; r < R; r++) {
            const uint8_t *wp = w + r * row_bytes + 2 * i;
            wv[r] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)wp));
            __asm__("" : "+v"(wv[r]));
        }
        for (int c = 0; c < C; c++) {
            const __m512 xv = _mm512_loadu_ps(x + c * xs + i);
            for (int r = 0; r < R; r++) acc[r][c] = _mm512_fmadd_ps(wv[r], xv, acc[r][c]);
        }
    }
    if (k1 < n) {
        for (int r = 0; r < R; r++)
            for (int c = 0; c < C; c++)
                _mm512_storeu_ps(part + 16 * (FQ_TILE_CMAX * r + c), acc[r][c]);
        return;
    }
    float rest[FQ_TILE_CMAX][FQ_TILE_RMAX] = {{0.0f}};
    if (i < n) /* the last n % 16 values: ymm and single steps */
        fq_avx_float_tile(FQ_W_F16, w + 2 * i, row_bytes, n - i, x + i, xs, &rest[0][0],
                          FQ_TILE_RMAX, R, C);
    for (int c = 0; c < C; c++)
        for (int r = 0; r < R; r++) out[c * os + r] = _mm512_reduce_add_ps(acc[r][c]) + rest[c][r];
}
#endif

/* Tiles of RG rows x CG columns (x of those columns stays in L1 while the rows pass). In the
 * AVX2 build F32 weights fold into the FMAs as memory operands; converted F16/BF16 weights need
 * registers of their own. Measured best with 16 registers (AVX2 build): F32 4 x 3, F16 4 x 2, BF16 3 x 3;
 * with 32 (AVX-512 build) 4 x 6 for all three (GEMM n=32 at 2 threads: F32 6.3 -> 5.0 ms, F16
 * 5.6 -> 4.6, BF16 5.5 -> 4.5; 4x4, 6x4, 5x5, 3x6, 6x3 were slower). The tile shape never
 * changes an output's summation order. */
#if FQ_SIMD_AVX512
#define FQ_FLOAT_RG(kind) 4
#define FQ_FLOAT_CG(kind) 6
#else
#define FQ_FLOAT_RG(kind) ((kind) == FQ_W_BF16 ? 3 : 4)
#define FQ_FLOAT_CG(kind) ((kind) == FQ_W_F16 ? 2 : 3)
#endif
#if FQ_SIMD_AVX512
/* F16: k in ranges of FQ_FLOAT_KC (a multiple of 16) so that a column group's activations (6 x
 * 512 floats) stay in L1 while the row groups pass; the accumulators continue through part. */
#define FQ_FLOAT_KC(kind) ((kind) == FQ_W_F16 ? 512 : n)
#define FQ_FLOAT_ROWS_MAX 16 /* rows per pass: one part area per row group */
#define FQ_FLOAT_TILE_CALL(R, C)                                                                   \
    if (kind != FQ_W_F16)                                                                        \
        fq_avx_float_tile(kind, wr, row_bytes, n, xc, xs, oc + r, os, R, C);                     \
    else                                                                                         \
        fq_avx512_f16_tile(wr, row_bytes, n, xc, xs, oc + r, os, R, C, k0, k1, part[(r - rb) / RG])
#define FQ_FLOAT_WIDE_CASES(R) FQ_FLOAT_TILE_CASE(R, 6) FQ_FLOAT_TILE_CASE(R, 5) FQ_FLOAT_TILE_CASE(R, 4)
#else
#define FQ_FLOAT_KC(kind) n
#define FQ_FLOAT_ROWS_MAX INT_MAX
#define FQ_FLOAT_TILE_CALL(R, C) fq_avx_float_tile(kind, wr, row_bytes, n, xc, xs, oc + r, os, R, C)
#define FQ_FLOAT_WIDE_CASES(R)
#endif
#define FQ_FLOAT_TILE_CASE(R, C)                                                                   \
    if (rows == R && cols == C) {                                                                \
        FQ_FLOAT_TILE_CALL(R, C);                                                                \
        continue;                                                                                \
    }
#define FQ_FLOAT_TILE_ROW(R)                                                                       \
    FQ_FLOAT_WIDE_CASES(R) FQ_FLOAT_TILE_CASE(R, 3) FQ_FLOAT_TILE_CASE(R, 2) FQ_FLOAT_TILE_CASE(R, 1)
FQ_AVX_INLINE void fq_avx_float_gemm(const int kind, const uint8_t *w, int64_t row_bytes, int nrows,
                                     int64_t n, const float *x, int64_t xs, int64_t ncols,
                                     float *out, int64_t os) {
    const int RG = FQ_FLOAT_RG(kind), CG = FQ_FLOAT_CG(kind);
    const int64_t KC = FQ_FLOAT_KC(kind);
#if FQ_SIMD_AVX512
    float part[FQ_FLOAT_ROWS_MAX / FQ_TILE_RMAX][FQ_TILE_RMAX * FQ_TILE_CMAX * 16];
#endif
    for (int rb = 0; rb < nrows; rb += FQ_FLOAT_ROWS_MAX) {
        const int re = nrows - rb < FQ_FLOAT_ROWS_MAX ? nrows : rb + FQ_FLOAT_ROWS_MAX;
        for (int64_t c0 = 0; c0 < ncols; c0 += CG) {
            const int cols = (int)(ncols - c0 < CG ? ncols - c0 : CG);
            const float *xc = x + c0 * xs;
            float *oc = out + c0 * os;
            int64_t k0 = 0;
            do { /* n = 0: one pass, writing zeros */
                const int64_t k1 = n - k0 < KC ? n : k0 + KC;
                (void)k1;
                for (int r = rb; r < re; r += RG) {
                    const int rows = re - r < RG ? re - r : RG;
                    const uint8_t *wr = w + r * row_bytes;
                    FQ_FLOAT_TILE_ROW(4) FQ_FLOAT_TILE_ROW(3)
                    FQ_FLOAT_TILE_ROW(2) FQ_FLOAT_TILE_ROW(1)
                }
                k0 = k1;
            } while (k0 < n);
        }
    }
}

#define FQ_AVX_DEFINE_FLOAT_GEMM(name, kind)                                                       \
    void FQ_SIMD_FN(gemm_f32_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t n,  \
                                 const float *x, int64_t xs, int64_t ncols, float *out,          \
                                 int64_t os) {                                                   \
        fq_avx_float_gemm(kind, w, row_bytes, nrows, n, x, xs, ncols, out, os);                  \
    }

#define FQ_FLOAT_CASE(kind, N)                                                                     \
    case N:                                                                                      \
        fq_avx_dot_float(kind, w, n, x, xs, out, os, N);                                         \
        break;
#define FQ_AVX_DEFINE_FLOAT_DOT(name, kind)                                                        \
    void FQ_SIMD_FN(dot_f32_##name)(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx, \
                                float *out, int64_t os) {                                        \
        switch (nx) {                                                                            \
            FQ_FLOAT_CASE(kind, 1) FQ_FLOAT_CASE(kind, 2) FQ_FLOAT_CASE(kind, 3)                 \
            FQ_FLOAT_CASE(kind, 4) FQ_FLOAT_CASE(kind, 5) FQ_FLOAT_CASE(kind, 6)                 \
            FQ_FLOAT_CASE(kind, 7) FQ_FLOAT_CASE(kind, 8)                                        \
        }                                                                                        \
    }

FQ_AVX_DEFINE_FLOAT_DOT(f32, FQ_W_F32)
FQ_AVX_DEFINE_FLOAT_DOT(f16, FQ_W_F16)
FQ_AVX_DEFINE_FLOAT_DOT(bf16, FQ_W_BF16)

FQ_AVX_DEFINE_FLOAT_GEMM(f32, FQ_W_F32)
FQ_AVX_DEFINE_FLOAT_GEMM(f16, FQ_W_F16)
FQ_AVX_DEFINE_FLOAT_GEMM(bf16, FQ_W_BF16)
