/* f32-mode GEMM of the quantized types on AMX-BF16 tiles (the AVX-512 build; used only where the
 * CPU has AMX-TILE and AMX-BF16, the OS saves the tile state and granted this process its use).
 *
 * A float splits exactly into three bf16 parts: hi = its top 16 bits (sign, exponent, 7 fraction
 * bits: truncation), mid = the top 16 bits of what is left, lo = the rest, which has at most 8
 * significant bits, so hi + mid + lo == v bit for bit. The weights are decoded to their exact
 * floats (the zmm decoders of avx512_zdecode.h, one rounding each) and split; x is split once per
 * call (x_bf16x3, by the driver). Every product of two bf16 parts is exact in f32, and
 * TDPBF16PS sums them in f32, so w . x is
 *   sum over k of  wh xh + wh xm + wh xl + wm xh + wm xm + wl xh
 * where the dropped terms (wm xl, wl xm, wl xl) are below 2^-24 of |w x|: the exact products
 * summed in f32, like the FMA tiles, in another order. Each column of x is scaled by a power of
 * two first (its largest |x| in [1, 2)) and the results by the inverse, so that no part of a
 * small x falls below f32's normal range (tiles flush denormals to zero).
 *
 * Tiles (16 rows x 64 bytes each): A = 16 weight rows x 32 values (one part), B = 16 pairs of
 * values x 16 columns of x (one part, the pair layout TDPBF16PS reads), C = 16 x 16 f32 sums
 * (weight row, column). tmm4-6 hold a block's three weight parts, tmm7 one x part of one column
 * tile, tmm0-3 the sums of up to 4 column tiles. Weight parts are decoded FQ_AMX_KC values per
 * row at a time (1024: 96 KB, L2; 256 was 10-15% slower at n = 32 and 128); sums pass through a
 * buffer between chunks and are transposed into out at the end (fq_amx_scratch, the caller's). Every output's sum runs over the blocks in order with the same
 * six products per block, whatever the thread count or row tile. */
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
    FQ_AMX_KC = 1024,         /* weight values per row decoded at a time */
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

/* 32 floats (v0: values 0-15, v1: 16-31) -> their three bf16 parts, each as 16 pairs: dword i
 * holds value i (low half) and value 16 + i (high half). TDPBF16PS multiplies pair i of a weight
 * row with pair i of an x column, so both sides only need the same pairing, and this one costs
 * a shift and a bit select where the values in order would take a word permute. */
FQ_AVX_INLINE void fq_amx_split32(__m512 v0, __m512 v1, __m512i part[3]) {
    const __m512i high = _mm512_set1_epi32((int)0xFFFF0000u);
    for (int p = 0; p < 2; p++) {
        const __m512i b0 = _mm512_castps_si512(v0), b1 = _mm512_castps_si512(v1);
        part[p] = fq_z_select_bits(b1, _mm512_srli_epi32(b0, 16), (int)0xFFFF0000u);
        v0 = _mm512_sub_ps(v0, _mm512_castsi512_ps(_mm512_and_si512(b0, high)));   /* exact: the bits */
        v1 = _mm512_sub_ps(v1, _mm512_castsi512_ps(_mm512_and_si512(b1, high)));   /* below the part */
    }
    /* what is left has at most 8 significant bits: its top half is all of it */
    part[2] = fq_z_select_bits(_mm512_castps_si512(v1), _mm512_srli_epi32(_mm512_castps_si512(v0), 16),
                               (int)0xFFFF0000u);
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
        if (top > 0.0f && top <= FLT_MAX) (void)frexpf(top, &e), e -= 1;   /* top in [2^e, 2^(e+1)) */
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
/* The products of one x part p (0: hi, 1: mid, 2: lo) with the weight parts it meets (those
 * whose sum of levels is at most 2), into C tile J from column tile T. */
#define FQ_AMX_PART_DOTS(J, T, p)                                                                  \
    {                                                                                            \
        _tile_loadd(7, xs + (T) * tile_bytes + ((k0 + b) * 3 + (p)) * 1024, 64);                 \
        _tile_dpbf16ps(J, 4, 7);                                                                 \
        if ((p) < 2) _tile_dpbf16ps(J, 5, 7);                                                    \
        if ((p) < 1) _tile_dpbf16ps(J, 6, 7);                                                    \
    }
/* Three or four column tiles: x parts outermost, so that a C tile's products are at most three in
 * a row (a product waits for the one before it into the same C tile): 2-3% at n = 128 against
 * FQ_AMX_BLOCK_DOTS6 tile by tile (measured alternately). */
#define FQ_AMX_BLOCK_DOTS_WIDE(NT)                                                                 \
    for (int p = 0; p < 3; p++) {                                                                \
        FQ_AMX_PART_DOTS(0, t, p)                                                                \
        FQ_AMX_PART_DOTS(1, t + 1, p)                                                            \
        FQ_AMX_PART_DOTS(2, t + 2, p)                                                            \
        if ((NT) == 4) FQ_AMX_PART_DOTS(3, t + 3, p)                                             \
    }
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
                FQ_AMX_BLOCK_DOTS_WIDE(NT)                                                       \
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
typedef uint16_t fq_amx_parts[3][FQ_AMX_PART];   /* one block: its three parts */

/* Weight values 32 b .. 32 b + 31 of row r (v0: the first 16) into the A tiles. */
FQ_AVX_INLINE void fq_amx_put32(fq_amx_parts *a, int64_t b, int r, __m512 v0, __m512 v1) {
    __m512i part[3];
    fq_amx_split32(v0, v1, part);
    for (int p = 0; p < 3; p++) _mm512_store_si512(a[b][p] + 32 * r, part[p]);
}

/* A call's working memory (FQ_BF16X3_SCRATCH bytes from the caller): the weight parts of one
 * chunk, the sums of a pass of column tiles, the split sums of one or two column tiles. */
typedef struct {
    fq_amx_parts a[FQ_AMX_KB];
    float sums[FQ_AMX_CT][16 * 16];
    float split[4][16 * 16];
} fq_amx_scratch;
_Static_assert(sizeof(fq_amx_scratch) <= FQ_BF16X3_SCRATCH, "FQ_BF16X3_SCRATCH holds a call's buffers");

/* The decoders' sink for the A tiles (avx512_zdecode.h): dst is the chunk's fq_amx_parts. */
FQ_AVX_INLINE void fq_amx_sink(void *dst, int r, int64_t b, __m512 v0, __m512 v1) {
    fq_amx_put32((fq_amx_parts *)dst, b, r, v0, v1);
}

/* A type's row decoder, as fq_amx_gemm calls it. */
typedef void (*fq_amx_decode_fn)(const uint8_t *w, int r, int nblk, fq_amx_parts *a);

FQ_AVX_INLINE void fq_amx_gemm(fq_amx_decode_fn decode, const int bs, const int ts, const uint8_t *w,
                               int64_t row_bytes, int nrows, int64_t nb, const uint8_t *xs,
                               const float *col_scale, int64_t n, float *out, int64_t os, uint8_t *scratch) {
    const int64_t nkb = nb * bs / 32, ntiles = (n + FQ_BF16X3_COLS - 1) / FQ_BF16X3_COLS;
    const int64_t tile_bytes = FQ_BF16X3_TILE_BYTES(nb * bs);
    fq_amx_scratch *own = (fq_amx_scratch *)scratch;
    fq_amx_parts *a = own->a;
    float (*sums)[256] = own->sums, (*split)[256] = own->split;
    if (nrows < 16) memset(a, 0, sizeof own->a);   /* rows past nrows stay zero */
    fq_amx_configure();
    for (int64_t c0 = 0; c0 < ntiles; c0 += FQ_AMX_CT) {
        const int64_t c1 = c0 + FQ_AMX_CT < ntiles ? c0 + FQ_AMX_CT : ntiles;
        for (int64_t k0 = 0; k0 < nkb; k0 += FQ_AMX_KB) {
            const int64_t kb = nkb - k0 < FQ_AMX_KB ? nkb - k0 : FQ_AMX_KB;
            for (int r = 0; r < nrows; r++)   /* 256 values (8 blocks of 32, or fewer at the end) a call */
                for (int64_t u = 0; u < kb; u += 8)
                    decode(w + r * row_bytes + (k0 + u) * 32 / bs * ts, r, kb - u < 8 ? (int)(kb - u) : 8, a + u);
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

/* gemm_bf16x3 of one quantized type (fq_gemm_bf16x3_fn) over its zmm decoders (DECODE: a
 * statement decoding the 256 values at w of row r, nblk blocks of 32 for the 32-blocks). */
#define FQ_AMX_DEFINE_GEMM(name, bs, ts, DECODE)                                                   \
    static void fq_amx_decode_##name(const uint8_t *w, int r, int nblk, fq_amx_parts *a) {       \
        (void)nblk;                                                                              \
        DECODE;                                                                                  \
    }                                                                                            \
    void FQ_SIMD_FN(gemm_bf16x3_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb, \
                                    const uint8_t *xs, const float *col_scale, int64_t n,        \
                                    float *out, int64_t os, uint8_t *scratch) {                  \
        fq_amx_gemm(fq_amx_decode_##name, bs, ts, w, row_bytes, nrows, nb, xs, col_scale, n, out, os, \
                    scratch);                                                                    \
    }

#endif

#endif
