/* f32-mode GEMM of the quantized types (gemm_f32 of their table rows) on FMA tiles. Four rows at
 * a time are decoded to their exact float values (d q + m, d sc q - dmin mn: one rounding each,
 * as the dots' terms), FQ_QGEMM_KC values per row into a tile on the stack (L1): by the types'
 * AVX2 decoders in the AVX2 build, by the zmm GEMV's decoders in the AVX-512 build
 * (avx512_zdecode.h; Q2_K, Q3_K, Q6_K in their FQ_X_WORDS16 order, x too). A tile of
 * accumulators passes it once per group of columns: 4 x 6 zmm in the AVX-512 build (24 FMAs per
 * 10 loads), the float types' 4 x 3 ymm tile in the AVX2 build. A weight is decoded once per
 * call for all n columns, where dot_f32 decodes it once per FQ_COLS_PER_CALL columns. The tile
 * is the working set of one call, never W: no f32 copy of W exists. Chunks of FQ_QGEMM_KC values
 * add into out in order, so an output's summation order depends on neither the thread count nor
 * the rows a call gets. */
#ifndef FQ_AVX2_QGEMM_F32_H
#define FQ_AVX2_QGEMM_F32_H

#include "avx2_common.h"
#include "avx2_float_tile.h"

#if FQ_SIMD_AVX512
/* 1024 values per row (16 KB for 4 rows): with 2048, n = 8 Q4_K 1.39 -> 1.24 ms, n = 32
 * 3.73 -> 3.44 (the rows of x a pass reads stay in L1 with the tile) */
enum { FQ_QGEMM_KC = 1024, FQ_QGEMM_RG = 4, FQ_QGEMM_CG = 6 };
#else
enum { FQ_QGEMM_KC = 2048, FQ_QGEMM_RG = 4, FQ_QGEMM_CG = 3 };
#endif

/* Blocks [0, nblk) of one row to floats at dst. */
FQ_AVX_INLINE void fq_qgemm_decode_32(fq_avx_floats32_fn floats, const int ts, const int has_min,
                                      const uint8_t *w, int64_t nblk, float *dst) {
    for (int64_t b = 0; b < nblk; b++) {
        __m256 q[4];
        float d, m;
        floats(w + b * ts, q, &d, &m);
        const __m256 dv = _mm256_set1_ps(d), mv = _mm256_set1_ps(has_min ? m : 0.0f);
        for (int k = 0; k < 4; k++) _mm256_storeu_ps(dst + 32 * b + 8 * k, _mm256_fmadd_ps(dv, q[k], mv));
    }
}

/* The same for 256-blocks: dsc[g] q - dmn[16-value group] (kscales, kfloats as in
 * fq_avx_dot_f32_K; G = 32: the scale of 32 values c at dsc[2c]). */
FQ_AVX_INLINE void fq_qgemm_decode_K(fq_avx_kscales_fn kscales, fq_avx_kfloats_fn kfloats, const int V,
                                     const int G, const int ts, const int has_min, const uint8_t *w,
                                     int64_t nblk, float *dst) {
    float dsc[16] __attribute__((aligned(32))), dmn[16] __attribute__((aligned(32)));
    for (int64_t b = 0; b < nblk; b++) {
        const uint8_t *blk = w + b * ts;
        kscales(blk, dsc, dmn);
#pragma GCC unroll 8
        for (int p = 0; p < 8 / V; p++)
#pragma GCC unroll 2
            for (int half = 0; half < 2; half++) {
                __m256 wv[2][4];
                kfloats(blk, p, half, wv);
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) {
                    const int e = 32 * (V * p + v) + 16 * half, g16 = e / 16;
                    const __m256 s = _mm256_set1_ps(dsc[G == 16 ? g16 : g16 & ~1]);
                    const __m256 m = _mm256_set1_ps(has_min ? dmn[g16] : 0.0f);
                    for (int k = 0; k < 2; k++)
                        _mm256_storeu_ps(dst + FQ_QK * b + e + 8 * k, _mm256_fmsub_ps(s, wv[k][v], m));
                }
            }
    }
}

/* out[c * os + r] (+)= tile row r . x column c over kc values, for r < R, c < C. */
#if FQ_SIMD_AVX512
FQ_AVX_INLINE void fq_qgemm_tile(const float *tile, int64_t kc, const float *x, int64_t xs, float *out,
                                 int64_t os, const int R, const int C, const int add) {
    __m512 acc[FQ_QGEMM_RG][FQ_QGEMM_CG];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
    for (int64_t i = 0; i < kc; i += 16) {
        __m512 wv[FQ_QGEMM_RG];
        for (int r = 0; r < R; r++) {
            wv[r] = _mm512_load_ps(tile + r * kc + i);
            __asm__("" : "+v"(wv[r]));   /* one load per weight vector, not one per FMA */
        }
        for (int c = 0; c < C; c++) {
            const __m512 xv = _mm512_loadu_ps(x + c * xs + i);
            for (int r = 0; r < R; r++) acc[r][c] = _mm512_fmadd_ps(wv[r], xv, acc[r][c]);
        }
    }
    for (int c = 0; c < C; c++)
        for (int r = 0; r < R; r++) {
            const float s = _mm512_reduce_add_ps(acc[r][c]);
            out[c * os + r] = add ? out[c * os + r] + s : s;
        }
}
#else
FQ_AVX_INLINE void fq_qgemm_tile(const float *tile, int64_t kc, const float *x, int64_t xs, float *out,
                                 int64_t os, const int R, const int C, const int add) {
    float part[FQ_TILE_CMAX][FQ_TILE_RMAX];
    fq_avx_float_tile(FQ_W_F32, (const uint8_t *)tile, 4 * kc, kc, x, xs, add ? &part[0][0] : out,
                      add ? FQ_TILE_RMAX : os, R, C);
    for (int c = 0; add && c < C; c++)
        for (int r = 0; r < R; r++) out[c * os + r] += part[c][r];
}
#endif

#define FQ_QGEMM_TILE_CASE(R, C)                                                                   \
    case FQ_QGEMM_CG * (R) + (C):                                                                \
        fq_qgemm_tile(tile, kc, xc, xs, oc, os, R, C, b0 > 0);                                   \
        break;
#if FQ_SIMD_AVX512
#define FQ_QGEMM_TILE_ROW(R)                                                                       \
    FQ_QGEMM_TILE_CASE(R, 1) FQ_QGEMM_TILE_CASE(R, 2) FQ_QGEMM_TILE_CASE(R, 3)                   \
    FQ_QGEMM_TILE_CASE(R, 4) FQ_QGEMM_TILE_CASE(R, 5) FQ_QGEMM_TILE_CASE(R, 6)
#else
#define FQ_QGEMM_TILE_ROW(R)                                                                       \
    FQ_QGEMM_TILE_CASE(R, 1) FQ_QGEMM_TILE_CASE(R, 2) FQ_QGEMM_TILE_CASE(R, 3)
#endif
/* Columns of group g when n columns are split into the fewest groups of at most FQ_QGEMM_CG, as
 * evenly as they go (8 = 4 + 4, not 6 + 2: a 2-column tile loads 4 weight vectors per 8 FMAs). */
#define FQ_QGEMM_GROUPS(n) (((n) + FQ_QGEMM_CG - 1) / FQ_QGEMM_CG)
#define FQ_QGEMM_COLS(n, g) ((int)((n) / FQ_QGEMM_GROUPS(n) + ((g) < (n) % FQ_QGEMM_GROUPS(n))))
#define FQ_QGEMM_BLOCK_32 32
#define FQ_QGEMM_BLOCK_K FQ_QK

/* A row decoder: nblk blocks at w to their floats at dst, in natural order. */
typedef void (*fq_qgemm_row_fn)(const uint8_t *w, int64_t nblk, float *dst);

/* gemm_f32 of one quantized type (fq_gemm_f32_fn): nrows rows against n columns of x. */
FQ_AVX_INLINE void fq_qgemm_f32(fq_qgemm_row_fn decode, const int BS, const int ts, const uint8_t *w,
                                int64_t row_bytes, int nrows, int64_t nb, const float *x, int64_t xs,
                                int64_t n, float *out, int64_t os) {
    const int64_t per_chunk = FQ_QGEMM_KC / BS;
    float tile[FQ_QGEMM_RG * FQ_QGEMM_KC] __attribute__((aligned(64)));
    for (int r0 = 0; r0 < nrows; r0 += FQ_QGEMM_RG) {
        const int R = nrows - r0 < FQ_QGEMM_RG ? nrows - r0 : FQ_QGEMM_RG;
        for (int64_t b0 = 0; b0 < nb; b0 += per_chunk) {
            const int64_t nblk = nb - b0 < per_chunk ? nb - b0 : per_chunk, kc = nblk * BS;
            for (int r = 0; r < R; r++) decode(w + (r0 + r) * row_bytes + b0 * ts, nblk, tile + r * kc);
            for (int64_t c0 = 0, g = 0; c0 < n; c0 += FQ_QGEMM_COLS(n, g), g++) {
                const int C = FQ_QGEMM_COLS(n, g);
                const float *xc = x + c0 * xs + b0 * BS;
                float *oc = out + c0 * os + r0;
                switch (FQ_QGEMM_CG * R + C) {
                    FQ_QGEMM_TILE_ROW(1) FQ_QGEMM_TILE_ROW(2) FQ_QGEMM_TILE_ROW(3) FQ_QGEMM_TILE_ROW(4)
                }
            }
        }
    }
}

#if FQ_SIMD_AVX512
/* the AVX-512 build defines it over the zmm decoders (avx512_zdecode.h, FQ_Z_DEFINE_GEMMS_*) */
#define FQ_AVX_DEFINE_QGEMM_F32(name, FAMILY, ts, HAS_MIN)
#else
#define FQ_AVX_DEFINE_QGEMM_F32(name, FAMILY, ts, HAS_MIN)                                         \
    static void fq_qgemm_row_##name(const uint8_t *w, int64_t nblk, float *dst) {                \
        fq_qgemm_decode_##FAMILY(FQ_AVX_DECODERS_##FAMILY(name), ts, HAS_MIN, w, nblk, dst);     \
    }                                                                                            \
    void FQ_SIMD_FN(gemm_f32_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb,  \
                                 const float *x, int64_t xs, int64_t n, float *out, int64_t os) { \
        fq_qgemm_f32(fq_qgemm_row_##name, FQ_QGEMM_BLOCK_##FAMILY, ts, w, row_bytes, nrows, nb,  \
                     x, xs, n, out, os);                                                         \
    }
#endif

#endif
