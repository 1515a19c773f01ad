/* f32-mode GEMM of the quantized types on AMX-BF16 tiles (the AVX-512 build; used only where the
 * CPU has AMX-TILE and AMX-BF16, the OS saves the tile state and granted this process its use).
 *
 * A float splits exactly into three bf16 parts: hi = its top 8 significand bits (truncation),
 * mid = the top 8 of what is left, lo = the remaining 8, so hi + mid + lo == v bit for bit. The
 * weights are decoded to their exact floats (the AVX2 decoders of avx2_qgemm_f32.h, one
 * rounding each) and split; x is split once per call (x_bf16x3, the driver). Every product of
 * two bf16 parts is exact in f32, and TDPBF16PS sums them in f32, so w . x is
 *   sum over k of  wh xh + wh xm + wh xl + wm xh + wm xm + wl xh
 * where the dropped terms (wm xl, wl xm, wl xl) are below 2^-24 of |w x|: the exact products
 * summed in f32, like the FMA kernels, in another order. Each column of x is scaled by a power
 * of two first (its largest |x| in [1, 2)) and the results by the inverse, so that no part of
 * a small x falls below f32's normal range (tiles flush denormals to zero).
 *
 * Tiles (16 rows x 64 bytes each): A = 16 weight rows x 32 values (one part), B = 16 pairs of
 * values x 16 columns of x (one part, the pair layout TDPBF16PS reads), C = 16 x 16 f32 sums
 * (weight row, column). tmm4-6 hold a block's three weight parts, tmm7 one x part of one column
 * tile, tmm0-3 the sums of 4 column tiles (64 columns). Weight parts are decoded FQ_AMX_KC values
 * at a time into a 24 KB stack tile (L1); sums pass through a stack buffer between chunks and
 * are transposed into out at the end. Every output's sum runs over the blocks in order with
 * the same six products per block, whatever the thread count, row tile or column count. */
#ifndef FQ_AMX_GEMM_F32_H
#define FQ_AMX_GEMM_F32_H

#if FQ_SIMD_AVX512

#include <float.h>
#include <math.h>
#include <string.h>

#include "avx2_common.h"

#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,amx-tile,amx-bf16")
#include <immintrin.h>

enum {
    FQ_AMX_KC = 256,          /* weight values per row decoded at a time */
    FQ_AMX_KB = FQ_AMX_KC / 32, /* blocks of 32 (one tile's depth) per chunk */
    FQ_AMX_CT = 32,           /* column tiles per pass (512 columns): the sums' buffer, 32 KB */
    FQ_AMX_PART = 16 * 32,    /* bf16 values in one tile */
};

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} fq_amx_config;

/* Palette 1, tiles 0-7 of 16 rows x 64 bytes (per thread: the tile state is per thread). */
FQ_AVX_INLINE void fq_amx_configure(void) {
    fq_amx_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 8; t++) {
        c.colsb[t] = 64;
        c.rows[t] = 16;
    }
    _tile_loadconfig(&c);
}

/* 32 floats (v0: values 0-15, v1: 16-31) -> their three bf16 parts, 32 values each in order. */
FQ_AVX_INLINE void fq_amx_split32(__m512 v0, __m512 v1, __m512i part[3]) {
    const __m512i high = _mm512_set1_epi32((int)0xFFFF0000u);
    const __m512i odd_words = _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37,
                                               35, 33, 31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9,
                                               7, 5, 3, 1);
    for (int p = 0; p < 2; p++) {
        const __m512i h0 = _mm512_and_si512(_mm512_castps_si512(v0), high);
        const __m512i h1 = _mm512_and_si512(_mm512_castps_si512(v1), high);
        part[p] = _mm512_permutex2var_epi16(h0, odd_words, h1);
        v0 = _mm512_sub_ps(v0, _mm512_castsi512_ps(h0));   /* exact: the bits below h0 */
        v1 = _mm512_sub_ps(v1, _mm512_castsi512_ps(h1));
    }
    /* what is left has at most 8 significant bits: its top half is all of it */
    part[2] = _mm512_permutex2var_epi16(_mm512_castps_si512(v0), odd_words, _mm512_castps_si512(v1));
}

/* Values 32 b .. 32 b + 31 of row x in `order` (FQ_X_*, as the weights' decoders give them):
 * FQ_X_WORDS16 position 16 (4 f + o) + i of a 256-block holds value 128 (i >> 3) + 32 f + 4 (i & 7) + o. */
FQ_AVX_INLINE void fq_amx_x32(const float *x, int64_t b, int order, __m512 *v0, __m512 *v1) {
    if (order != FQ_X_WORDS16) {
        *v0 = _mm512_loadu_ps(x + 32 * b);
        *v1 = _mm512_loadu_ps(x + 32 * b + 16);
        return;
    }
    const __m512i lane = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 128, 132, 136, 140, 144, 148, 152, 156);
    const int vec = 2 * (int)(b & 7), f = vec / 4, o = vec % 4;   /* vectors vec, vec + 1 */
    const float *blk = x + 256 * (b >> 3) + 32 * f + o;
    *v0 = _mm512_i32gather_ps(lane, blk, 4);
    *v1 = _mm512_i32gather_ps(lane, blk + 1, 4);
}

/* x_bf16x3 (fq_x_bf16x3_fn): B tiles of one column tile, [block][part][pair r][column j][2]. */
void FQ_SIMD_FN(x_bf16x3)(const float *x, int64_t xs, int ncols, int64_t cols, int order,
                          uint8_t *dst, float *col_scale) {
    uint32_t *out = (uint32_t *)dst;
    __m512 scale[FQ_BF16X3_COLS];
    for (int j = 0; j < FQ_BF16X3_COLS; j++) {
        __m512 most = _mm512_setzero_ps();
        for (int64_t i = 0; j < ncols && i < cols; i += 16)
            most = _mm512_max_ps(most, _mm512_abs_ps(_mm512_loadu_ps(x + j * xs + i)));
        const float top = _mm512_reduce_max_ps(most);   /* inf (NaN) scale as usual: they propagate */
        int e = 0;
        if (top > 0.0f && top <= FLT_MAX) (void)frexpf(top, &e), e -= 1;   /* top in [2^e, 2^e+1) */
        e = e < -126 ? -126 : e > 126 ? 126 : e;
        scale[j] = _mm512_set1_ps(ldexpf(1.0f, -e));
        if (j < ncols) col_scale[j] = ldexpf(1.0f, e);
    }
    const __m512i gather = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                                12, 13, 14, 15), _mm512_set1_epi32(16));
    uint32_t packed[3][FQ_BF16X3_COLS][16] __attribute__((aligned(64)));   /* [part][column][pair] */
    for (int64_t b = 0; b < cols / 32; b++) {
        for (int j = 0; j < FQ_BF16X3_COLS; j++) {
            __m512i part[3];
            __m512 v0 = _mm512_setzero_ps(), v1 = _mm512_setzero_ps();
            if (j < ncols) {
                fq_amx_x32(x + j * xs, b, order, &v0, &v1);
                v0 = _mm512_mul_ps(v0, scale[j]);
                v1 = _mm512_mul_ps(v1, scale[j]);
            }
            fq_amx_split32(v0, v1, part);
            for (int p = 0; p < 3; p++) _mm512_store_si512(packed[p][j], part[p]);
        }
        for (int p = 0; p < 3; p++)
            for (int r = 0; r < 16; r++)   /* tile row r: pair r of every column */
                _mm512_storeu_si512(out + ((b * 3 + p) * 16 + r) * 16,
                                    _mm512_i32gather_epi32(gather, &packed[p][0][r], 4));
    }
}

/* C tiles J0 .. J5 += the six part products of block k0 + b with column tile T. */
#define FQ_AMX_BLOCK_DOTS6(T, J0, J1, J2, J3, J4, J5)                                              \
    {                                                                                            \
        const uint8_t *xb = xs + (T) * tile_bytes + (k0 + b) * 3 * 1024;                         \
        _tile_loadd(7, xb, 64);                                                                  \
        _tile_dpbf16ps(J0, 4, 7);                                                                \
        _tile_dpbf16ps(J1, 5, 7);                                                                \
        _tile_dpbf16ps(J2, 6, 7);                                                                \
        _tile_loadd(7, xb + 1024, 64);                                                           \
        _tile_dpbf16ps(J3, 4, 7);                                                                \
        _tile_dpbf16ps(J4, 5, 7);                                                                \
        _tile_loadd(7, xb + 2048, 64);                                                           \
        _tile_dpbf16ps(J5, 4, 7);                                                                \
    }
#define FQ_AMX_BLOCK_DOTS(J, T) FQ_AMX_BLOCK_DOTS6(T, J, J, J, J, J, J)
#define FQ_AMX_LOAD_A(b)                                                                           \
    _tile_loadd(4, a[b][0], 64);                                                                 \
    _tile_loadd(5, a[b][1], 64);                                                                 \
    _tile_loadd(6, a[b][2], 64);
/* One chunk (kb blocks) for NT column tiles from t. Four or three tiles: C tile J sums tile
 * t + J. One or two (n <= 32, or the last of many): a product waits for the one before it into
 * the same C tile, so each column tile's products go round 4 / NT C tiles (one: product i of the
 * chunk into C i % 4; two: alternately), which are added at the end of the chunk,
 * ((C0 + C1) + (C2 + C3)). */
#define FQ_AMX_CHUNK(NT)                                                                           \
    {                                                                                            \
        enum { SPLIT = NT <= 2 ? 4 / NT : 1, USED = NT * SPLIT };                                \
        for (int j = 0; j < USED; j++)                                                           \
            if (k0 > 0 && j % SPLIT == 0) fq_amx_load_c(j, sums[t - c0 + j / SPLIT]);             \
            else fq_amx_zero_c(j);                                                               \
        for (int64_t b = 0; b < kb; b++) {                                                       \
            FQ_AMX_LOAD_A(b)                                                                     \
            if (SPLIT == 4) {                                                                    \
                if (b & 1) FQ_AMX_BLOCK_DOTS6(t, 2, 3, 0, 1, 2, 3)                               \
                else FQ_AMX_BLOCK_DOTS6(t, 0, 1, 2, 3, 0, 1)                                     \
            } else if (SPLIT == 2) {                                                             \
                FQ_AMX_BLOCK_DOTS6(t, 0, 1, 0, 1, 0, 1)                                          \
                FQ_AMX_BLOCK_DOTS6(t + 1, 2, 3, 2, 3, 2, 3)                                      \
            } else {                                                                             \
                FQ_AMX_BLOCK_DOTS(0, t) FQ_AMX_BLOCK_DOTS(1, t + 1) FQ_AMX_BLOCK_DOTS(2, t + 2)  \
                if (NT == 4) FQ_AMX_BLOCK_DOTS(3, t + 3)                                         \
            }                                                                                    \
        }                                                                                        \
        fq_amx_store_sums(NT, SPLIT, sums + (t - c0), split);                                    \
    }

/* Tile intrinsics take tile numbers as constants: these switch over them. */
FQ_AVX_INLINE void fq_amx_zero_c(int j) {
    switch (j) {
        case 0: _tile_zero(0); break;
        case 1: _tile_zero(1); break;
        case 2: _tile_zero(2); break;
        default: _tile_zero(3); break;
    }
}
FQ_AVX_INLINE void fq_amx_load_c(int j, const float *src) {
    switch (j) {
        case 0: _tile_loadd(0, src, 64); break;
        case 1: _tile_loadd(1, src, 64); break;
        case 2: _tile_loadd(2, src, 64); break;
        default: _tile_loadd(3, src, 64); break;
    }
}
/* C tiles 0..nt*split-1 -> sums[0..nt-1]: tile j belongs to column tile j / split. */
FQ_AVX_INLINE void fq_amx_store_sums(const int nt, const int split, float (*sums)[256], float (*split_buf)[256]) {
    float (*dst)[256] = split == 1 ? sums : split_buf;
    _tile_stored(0, dst[0], 64);
    if (nt * split > 1) _tile_stored(1, dst[1], 64);
    if (nt * split > 2) _tile_stored(2, dst[2], 64);
    if (nt * split > 3) _tile_stored(3, dst[3], 64);
    if (split == 1) return;
    for (int c = 0; c < nt; c++)
        for (int i = 0; i < 256; i += 16) {
            const float *p = split_buf[c * split];
            __m512 s = _mm512_add_ps(_mm512_load_ps(p + i), _mm512_load_ps(p + 256 + i));
            if (split == 4)
                s = _mm512_add_ps(s, _mm512_add_ps(_mm512_load_ps(p + 512 + i), _mm512_load_ps(p + 768 + i)));
            _mm512_store_ps(sums[c] + i, s);
        }
}

/* A tiles of one chunk: a[block][part] holds 16 rows x 32 values of one bf16 part. */
typedef uint16_t fq_amx_a_tiles[FQ_AMX_KB][3][FQ_AMX_PART];

/* Weight values 32 b .. 32 b + 31 of row r (v0: the first 16) into the A tiles. */
FQ_AVX_INLINE void fq_amx_put32(fq_amx_a_tiles a, int64_t b, int r, __m512 v0, __m512 v1) {
    __m512i part[3];
    fq_amx_split32(v0, v1, part);
    for (int p = 0; p < 3; p++) _mm512_store_si512(a[b] [p] + 32 * r, part[p]);
}

/* The row decoders: FQ_AMX_KC values of row r from its blocks at w into the A tiles, in the order
 * of the type's zmm GEMV (avx512_gemv_f32.h; x is split in the same order), each value exact to one
 * rounding: d q (+ m), d sc q - dmin mn. 32-blocks: 8 blocks. */
FQ_AVX_INLINE void fq_amx_decode_32(fq_z_vals32_fn vals, const int ts, const int has_min, const uint8_t *w,
                                    int r, fq_amx_a_tiles a) {
    float d[16] __attribute__((aligned(64))), m[16] __attribute__((aligned(64)));
    __m512 mv;
    _mm512_store_ps(d, fq_z_block_halves(w, ts, FQ_AMX_KB, has_min ? &mv : NULL));
    if (has_min) _mm512_store_ps(m, mv);
#pragma GCC unroll 8
    for (int b = 0; b < FQ_AMX_KB; b++) {
        __m512 lo, hi;
        vals(w + b * ts, &lo, &hi);
        const __m512 dv = _mm512_set1_ps(d[b]);
        if (has_min) {
            const __m512 mb = _mm512_set1_ps(m[b]);
            fq_amx_put32(a, b, r, _mm512_fmadd_ps(dv, lo, mb), _mm512_fmadd_ps(dv, hi, mb));
        } else {
            fq_amx_put32(a, b, r, _mm512_mul_ps(dv, lo), _mm512_mul_ps(dv, hi));
        }
    }
}

/* 256-blocks in natural order (zkvals: ZV groups of 16 per pass, G values per scale). */
FQ_AVX_INLINE void fq_amx_decode_K(fq_z_kscales_fn kscales, fq_z_kvals_fn kvals, const int ZV, const int G,
                                   const int has_min, const uint8_t *w, int r, fq_amx_a_tiles a) {
    float dsc[16] __attribute__((aligned(64))), dmn[16] __attribute__((aligned(64)));
    kscales(w, dsc, dmn);
#pragma GCC unroll 16
    for (int p = 0; p < 16 / ZV; p++) {
        __m512 v[16];
        kvals(w, p, v);
#pragma GCC unroll 16
        for (int k = 0; k < ZV; k += 2) {
            const int g = ZV * p + k;
            const __m512 s0 = _mm512_set1_ps(dsc[g / (G / 16)]), s1 = _mm512_set1_ps(dsc[(g + 1) / (G / 16)]);
            const __m512 m0 = _mm512_set1_ps(has_min ? dmn[g] : 0.0f), m1 = _mm512_set1_ps(has_min ? dmn[g + 1] : 0.0f);
            fq_amx_put32(a, g / 2, r, _mm512_fmsub_ps(s0, v[k], m0), _mm512_fmsub_ps(s1, v[k + 1], m1));
        }
    }
}

/* 256-blocks in FQ_X_WORDS16 order (zwvals, zwscales: Q2_K, Q3_K, Q6_K). */
FQ_AVX_INLINE void fq_amx_decode_words(fq_z_wscales_fn wscales, fq_z_wvals_fn wvals, const uint8_t *w, int r,
                                       fq_amx_a_tiles a) {
    const __m512i group = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 8, 8, 8, 8, 9, 9, 9, 9);
    __m512 dsc, dmn;
    wscales(w, &dsc, &dmn);
#pragma GCC unroll 4
    for (int f = 0; f < 4; f++) {
        __m512 v[4];
        wvals(w, f, v);
        const __m512i g = _mm512_add_epi32(group, _mm512_set1_epi32(2 * f));
        const __m512 sc = _mm512_permutexvar_ps(g, dsc), mn = _mm512_permutexvar_ps(g, dmn);
        fq_amx_put32(a, 2 * f, r, _mm512_fmsub_ps(sc, v[0], mn), _mm512_fmsub_ps(sc, v[1], mn));
        fq_amx_put32(a, 2 * f + 1, r, _mm512_fmsub_ps(sc, v[2], mn), _mm512_fmsub_ps(sc, v[3], mn));
    }
}

/* A type's row decoder, as fq_amx_gemm calls it. */
typedef void (*fq_amx_decode_fn)(const uint8_t *w, int r, fq_amx_a_tiles a);

FQ_AVX_INLINE void fq_amx_gemm(fq_amx_decode_fn decode, const int bs, const int ts, const uint8_t *w,
                               int64_t row_bytes, int nrows, int64_t nb, const uint8_t *xs,
                               const float *col_scale, int64_t n, float *out, int64_t os) {
    const int64_t nkb = nb * bs / 32, ntiles = (n + FQ_BF16X3_COLS - 1) / FQ_BF16X3_COLS;
    const int64_t tile_bytes = FQ_BF16X3_TILE_BYTES(nb * bs);
    fq_amx_a_tiles a __attribute__((aligned(64)));
    float sums[FQ_AMX_CT][16 * 16] __attribute__((aligned(64)));
    float split[4][16 * 16] __attribute__((aligned(64)));
    if (nrows < 16) memset(a, 0, sizeof a);   /* rows past nrows stay zero */
    fq_amx_configure();
    for (int64_t c0 = 0; c0 < ntiles; c0 += FQ_AMX_CT) {
        const int64_t c1 = c0 + FQ_AMX_CT < ntiles ? c0 + FQ_AMX_CT : ntiles;
        for (int64_t k0 = 0; k0 < nkb; k0 += FQ_AMX_KB) {
            const int64_t kb = nkb - k0 < FQ_AMX_KB ? nkb - k0 : FQ_AMX_KB;
            for (int r = 0; r < nrows; r++) decode(w + r * row_bytes + k0 * 32 / bs * ts, r, a);
            for (int64_t t = c0; t < c1; t += 4) {
                switch (c1 - t < 4 ? c1 - t : 4) {
                    case 1: FQ_AMX_CHUNK(1) break;
                    case 2: FQ_AMX_CHUNK(2) break;
                    case 3: FQ_AMX_CHUNK(3) break;
                    default: FQ_AMX_CHUNK(4) break;
                }
            }
        }
        for (int64_t t = c0; t < c1; t++)   /* sums[t][row r][column j] -> out[column][r] */
            for (int j = 0; j < FQ_BF16X3_COLS && t * FQ_BF16X3_COLS + j < n; j++) {
                const int64_t c = t * FQ_BF16X3_COLS + j;
                for (int r = 0; r < nrows; r++) out[c * os + r] = sums[t - c0][16 * r + j] * col_scale[c];
            }
    }
    _tile_release();
}

/* gemm_bf16x3 of one quantized type (fq_gemm_bf16x3_fn), by family: 32-blocks, 256-blocks in
 * natural order, 256-blocks in FQ_X_WORDS16 order. */
#define FQ_AMX_DEFINE_GEMM(name, bs, ts, DECODE)                                                   \
    static void fq_amx_decode_##name(const uint8_t *w, int r, fq_amx_a_tiles a) { DECODE; }      \
    void FQ_SIMD_FN(gemm_bf16x3_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb, \
                                    const uint8_t *xs, const float *col_scale, int64_t n,        \
                                    float *out, int64_t os) {                                    \
        fq_amx_gemm(fq_amx_decode_##name, bs, ts, w, row_bytes, nrows, nb, xs, col_scale, n, out, os); \
    }
#define FQ_AMX_DEFINE_32(name, ts, HAS_MIN)                                                        \
    FQ_AMX_DEFINE_GEMM(name, 32, ts, fq_amx_decode_32(fq_z_vals32_##name, ts, HAS_MIN, w, r, a))
#define FQ_AMX_DEFINE_K(name, ts, HAS_MIN)                                                         \
    FQ_AMX_DEFINE_GEMM(name, 256, ts, fq_amx_decode_K(fq_z_kscales_##name, fq_z_kvals_##name,    \
                                                      fq_z_kv_##name, fq_avx_kg_##name, HAS_MIN, w, r, a))
#define FQ_AMX_DEFINE_WORDS(name, ts)                                                              \
    FQ_AMX_DEFINE_GEMM(name, 256, ts, fq_amx_decode_words(fq_z_wscales_##name, fq_z_wvals_##name, w, r, a))

#else /* the AVX2 build: no AMX kernels */
#define FQ_AMX_DEFINE_32(name, ts, HAS_MIN)
#define FQ_AMX_DEFINE_K(name, ts, HAS_MIN)
#define FQ_AMX_DEFINE_WORDS(name, ts)
#endif

#endif
