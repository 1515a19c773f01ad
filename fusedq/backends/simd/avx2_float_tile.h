/* The float weight loads (F32, F16, BF16 as 8 floats) and the ymm GEMM tile of the float types
 * (simd_float.c), which the AVX2 build's f32 GEMM of the quantized types also runs over its
 * decoded rows (avx2_qgemm_f32.h). */
#ifndef FQ_AVX2_FLOAT_TILE_H
#define FQ_AVX2_FLOAT_TILE_H

#include <string.h>

#include "avx2_common.h"

enum { FQ_W_F32, FQ_W_F16, FQ_W_BF16 };

FQ_AVX_INLINE __m256 fq_avx_load8(const int kind, const uint8_t *w, int64_t i) {
    if (kind == FQ_W_F32) return _mm256_loadu_ps((const float *)w + i);
    const __m128i h = _mm_loadu_si128((const __m128i *)(w + 2 * i));
    if (kind == FQ_W_F16) return _mm256_cvtph_ps(h);
    /* BF16: each value into the top half of its float lane by one byte shuffle of the 8 values
     * broadcast to both halves (a load and a shuffle-port uop; a shift would take an FMA port) */
    const __m256i both = _mm256_broadcastsi128_si256(h);
    return _mm256_castsi256_ps(_mm256_shuffle_epi8(
        both, _mm256_setr_epi8(-1, -1, 0, 1, -1, -1, 2, 3, -1, -1, 4, 5, -1, -1, 6, 7,
                               -1, -1, 8, 9, -1, -1, 10, 11, -1, -1, 12, 13, -1, -1, 14, 15)));
}

FQ_AVX_INLINE float fq_avx_load1(const int kind, const uint8_t *w, int64_t i) {
    if (kind == FQ_W_F32) {
        float f;
        memcpy(&f, w + 4 * i, 4);
        return f;
    }
    const uint16_t h = fq_load_u16(w + 2 * i);
    return kind == FQ_W_F16 ? _cvtsh_ss(h) : fq_bf16_to_float(h);
}

/* ---- GEMM tiles: R rows x C columns of accumulators in registers (4 x 3: 12 FMA chains, 7
 * loads per 12 FMAs), so FMA throughput, not latency or loads, bounds the loop. The AVX-512
 * build has 32 vector registers and takes larger tiles (FQ_FLOAT_RG, FQ_FLOAT_CG). ---- */
enum { FQ_TILE_RMAX = 4, FQ_TILE_CMAX = 6 };
FQ_AVX_INLINE void fq_avx_float_tile(const int kind, const uint8_t *w, int64_t row_bytes, int64_t n,
                                     const float *x, int64_t xs, float *out, int64_t os,
                                     const int R, const int C) {
    __m256 acc[FQ_TILE_RMAX][FQ_TILE_CMAX];
    float tail[FQ_TILE_RMAX][FQ_TILE_CMAX];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps(), tail[r][c] = 0.0f;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wv[FQ_TILE_RMAX];
        for (int r = 0; r < R; r++) {
            wv[r] = fq_avx_load8(kind, w + r * row_bytes, i);
#if FQ_SIMD_AVX512
            /* F32: one load per weight vector in a register, not a memory operand in each of the
             * C FMAs (C + R loads per R x C FMAs instead of C + R x C: GEMM n=32 5.1 -> 4.7 ms) */
            __asm__("" : "+x"(wv[r]));
#endif
        }
        for (int c = 0; c < C; c++) {
            const __m256 xv = _mm256_loadu_ps(x + c * xs + i);
            for (int r = 0; r < R; r++) acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
        }
    }
    for (; i < n; i++)
        for (int r = 0; r < R; r++) {
            const float wf = fq_avx_load1(kind, w + r * row_bytes, i);
            for (int c = 0; c < C; c++) tail[r][c] += wf * x[c * xs + i];
        }
    for (int c = 0; c < C; c++)
        for (int r = 0; r < R; r++) out[c * os + r] = fq_avx_hsum(acc[r][c]) + tail[r][c];
}

#endif
