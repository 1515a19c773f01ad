/* q8 GEMM tiles of the simd backend: FQ_GEMM_ROWS (8) weight rows against n quantized
 * activation columns in one call, written once for every quantized type.
 *
 * The 8 rows are decoded once per call, with the type's own decoders, into an interleaved tile:
 * for every 4 consecutive k, one 32-byte vector holds 4 bytes of each of the 8 rows (lane r =
 * row r). One maddubs of that vector against 4 activation bytes broadcast to all lanes yields
 * the partial dots of all 8 rows at once, so there are no horizontal sums, one float FMA per
 * block serves 8 rows, and the unpack cost is paid once for all n columns. Scales stay integer
 * inside a block (madd with a per-row int16 scale vector); mins meet the activation block sums.
 * K is processed in chunks of FQ_TILE_K so the tile (about 13 KB; 26 KB for the AVX-512 build's
 * 16 rows, which share the chunk so that both builds sum the same) stays in L1. Every output is
 * computed from the same inputs in the same order whatever the thread count. */
#ifndef FQ_AVX2_GEMM_H
#define FQ_AVX2_GEMM_H

#include "avx2_common.h"

#define FQ_TILE_K 1024   /* weight elements per row held in a tile (2048: 16-row tiles 5% slower) */
/* activation columns per pass over the tile: 4; with 32 registers (AVX-512 build) 8 for the
 * 32-blocks (GEMM n=128 Q4_0 7.0 -> 6.4 ms); the K family keeps 4 (its block sums and mins need
 * the registers: 8 was no faster) */
#define FQ_GEMM_PASS 8   /* the most: array sizes */
#if FQ_SIMD_AVX512
#define FQ_GEMM_PASS_32 8
#else
#define FQ_GEMM_PASS_32 4
#endif
#define FQ_GEMM_PASS_K 4
#define FQ_GEMM_BLOCK_32 32
#define FQ_GEMM_BLOCK_K FQ_QK

typedef struct {
    __m256i q[FQ_TILE_K / 4];     /* vector v: bytes 4v..4v+3 of each row, lane r = row r */
    __m256i sc[FQ_TILE_K / 16];   /* K family, per 16 values: int16 lanes 2r, 2r+1 = scale of row r */
    __m256i mn[FQ_TILE_K / 32];   /* K family, per 2 groups: int16 lanes 2r, 2r+1 = mins of row r */
    __m256 d[FQ_TILE_K / 32];     /* per block: scale of each row */
    __m256 m[FQ_TILE_K / 32];     /* per block: offset (32-blocks) or dmin (K family) of each row */
} fq_gemm_tile;

/* In place: v[k] lane r (dword) <- v[r] lane k. */
FQ_AVX_INLINE void fq_avx_transpose8x32(__m256i *v) {
    __m256i t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) { /* rows 0-3, rows 4-7 */
        __m256i *a = t + 4 * h, *o = u + 4 * h;
        o[0] = _mm256_unpacklo_epi64(a[0], a[2]);
        o[1] = _mm256_unpackhi_epi64(a[0], a[2]);
        o[2] = _mm256_unpacklo_epi64(a[1], a[3]);
        o[3] = _mm256_unpackhi_epi64(a[1], a[3]);
    }
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x20);
        v[k + 4] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x31);
    }
}

/* ---- packing: rows w + r * row_bytes (r < nrows; missing rows are zero), blocks b0.. ---- */

FQ_AVX_INLINE void fq_gemm_pack32(fq_avx_unpack32_fn unpack, const int ts, const int signed_q,
                                  const uint8_t *w, int64_t row_bytes, int nrows, int64_t b0,
                                  int nblk, fq_gemm_tile *t) {
    (void)signed_q;
    for (int b = 0; b < nblk; b++) {
        __m256i q[8];
        float d[8], m[8];
        for (int r = 0; r < 8; r++) {
            if (r < nrows) {
                q[r] = unpack(w + r * row_bytes + (b0 + b) * ts, d + r, m + r);
            } else {
                q[r] = _mm256_setzero_si256();
                d[r] = m[r] = 0.0f;
            }
        }
        fq_avx_transpose8x32(q);
        for (int v = 0; v < 8; v++) t->q[8 * b + v] = q[v];
        t->d[b] = _mm256_loadu_ps(d);
        t->m[b] = _mm256_loadu_ps(m);
    }
}

/* FQ_K_OFFSET_Q (VNNI build): signed q are stored as q + 128 (unsigned: no sign trick in the dot,
 * vpdpbusd has no int16 stage to saturate) and the 128 * sum(x) this adds comes back out through
 * the min machinery with mn = 128 * sc, dmin = d, subtracted in integers (same result as AVX2). */
#define FQ_K_OFFSET_Q FQ_SIMD_VNNI

FQ_AVX_INLINE void fq_gemm_packK(fq_avx_kmeta_fn kmeta, fq_avx_kq_fn kq, const int G, const int ts,
                                 const int signed_q, const uint8_t *w, int64_t row_bytes, int nrows,
                                 int64_t b0, int nblk, fq_gemm_tile *t) {
    const int offset = FQ_K_OFFSET_Q && signed_q;
    const __m256i flip = _mm256_set1_epi8(offset ? (char)0x80 : 0);
    for (int b = 0; b < nblk; b++) {
        const uint8_t *blk[8];
        float d[8], dmin[8];
        /* scales: row r's 16 int16 as duplicated pairs (dwords), mins as pairs of groups; the
         * 8 x 8 dword transposes put row r in lane r (int16 lanes 2r, 2r+1) */
        __m256i sc_lo[8], sc_hi[8], mn[8];
        for (int r = 0; r < 8; r++) {
            blk[r] = w + (r < nrows ? r : 0) * row_bytes + (b0 + b) * ts;
            __m256i sc = _mm256_setzero_si256(), m = sc;
            d[r] = dmin[r] = 0.0f;
            if (r < nrows) {
                kmeta(blk[r], &sc, &m, d + r, dmin + r);
                sc = fq_avx_scales_per16(sc, G);
            }
            sc_lo[r] = _mm256_unpacklo_epi16(sc, sc);   /* groups 0-3, 8-11 */
            sc_hi[r] = _mm256_unpackhi_epi16(sc, sc);   /* groups 4-7, 12-15 */
            mn[r] = offset ? _mm256_slli_epi16(sc, 7) : m;
            if (offset) dmin[r] = d[r];
        }
#pragma GCC unroll 8   /* constant c: the decoders' shifts and picks resolve */
        for (int c = 0; c < FQ_QK / 32; c++) {   /* q straight from the blocks, no buffer */
            __m256i q[8];
            for (int r = 0; r < 8; r++)
                q[r] = _mm256_xor_si256(r < nrows ? kq(blk[r], c) : _mm256_setzero_si256(), flip);
            fq_avx_transpose8x32(q);
            for (int v = 0; v < 8; v++) t->q[64 * b + 8 * c + v] = q[v];
        }
        fq_avx_transpose8x32(sc_lo);
        fq_avx_transpose8x32(sc_hi);
        fq_avx_transpose8x32(mn);
        for (int k = 0; k < 4; k++) {
            t->sc[16 * b + k] = sc_lo[k];
            t->sc[16 * b + 8 + k] = sc_lo[4 + k];
            t->sc[16 * b + 4 + k] = sc_hi[k];
            t->sc[16 * b + 12 + k] = sc_hi[4 + k];
        }
        for (int p = 0; p < 8; p++) t->mn[8 * b + p] = mn[p];
        t->d[b] = _mm256_loadu_ps(d);
        t->m[b] = _mm256_loadu_ps(dmin);
    }
}

/* ---- the product of a packed tile with NC columns ---- */

FQ_AVX_INLINE __m256i fq_gemm_bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* Integer sum over `count` consecutive tile vectors from `v0`, for NC columns whose activation
 * bytes start at x[j], times the rows' `scale` (int16 lanes 2r, 2r+1 = row r's; NULL: 1).
 * AVX2: int16 partial sums of `depth` vectors (depth * max|q| * 2 * 127 fits int16: the
 * caller's promise), each group of depth widened with madd against the scale. VNNI: vpdpbusd
 * sums straight into int32 (4 products per lane per vector), then the scale: where a run's sums
 * fit int16 (2 * run <= depth) one vpdpwssd multiplies and adds them into isum, else mullo + add.
 * A scale group whose sums do not fit but whose halves do is summed in two runs (Q4_K: two
 * vpdpwssd instead of a 2-uop mullo and an add; GEMM n=32 -5%). Both give the same integers. */
#define FQ_GEMM_SCALE_RUN(count, depth) (2 * (count) > (depth) && (count) <= (depth) && (count) % 2 == 0 ? (count) / 2 : (count))
FQ_AVX_INLINE void fq_gemm_dot_run(const fq_gemm_tile *t, int v0, const int count, const int depth,
                                   const int signed_q, const int8_t *const *x, const __m256i *scale,
                                   __m256i *isum, const int NC) {
#if FQ_SIMD_VNNI
    const int run = FQ_GEMM_SCALE_RUN(count, depth);
    const int fits16 = 2 * run <= depth;
    const __m256i sc32 = !scale ? _mm256_setzero_si256()
                         : fits16 ? _mm256_and_si256(*scale, _mm256_set1_epi32(0xffff))
                                  : _mm256_srai_epi32(*scale, 16);
    for (int v1 = 0; v1 < count; v1 += run) {
        __m256i s32[FQ_GEMM_PASS];
        for (int j = 0; j < NC; j++) s32[j] = _mm256_setzero_si256();
        for (int v = v1; v < v1 + run; v++) {
            const __m256i q = _mm256_load_si256(t->q + v0 + v);
            const __m256i a = signed_q ? _mm256_sign_epi8(q, q) : q;
            for (int j = 0; j < NC; j++) {
                __m256i xb = fq_gemm_bcast4(x[j] + 4 * v);
                if (signed_q) xb = _mm256_sign_epi8(xb, q);
                s32[j] = _mm256_dpbusd_epi32(s32[j], a, xb);
            }
        }
        for (int j = 0; j < NC; j++)
            isum[j] = !scale ? _mm256_add_epi32(isum[j], s32[j])
                      : fits16 ? _mm256_dpwssd_epi32(isum[j], s32[j], sc32)
                               : _mm256_add_epi32(isum[j], _mm256_mullo_epi32(s32[j], sc32));
    }
#else
    const __m256i widen = scale ? *scale : _mm256_set1_epi16(1);
    for (int g = 0; g < count; g += depth) {
        __m256i s16[FQ_GEMM_PASS];
        for (int v = g; v < (g + depth < count ? g + depth : count); v++) {
            const __m256i q = _mm256_load_si256(t->q + v0 + v);
            const __m256i a = signed_q ? _mm256_sign_epi8(q, q) : q;
            for (int j = 0; j < NC; j++) {
                __m256i xb = fq_gemm_bcast4(x[j] + 4 * v);
                if (signed_q) xb = _mm256_sign_epi8(xb, q);
                const __m256i p = _mm256_maddubs_epi16(a, xb);
                s16[j] = v == g ? p : _mm256_add_epi16(s16[j], p);
            }
        }
        for (int j = 0; j < NC; j++) isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(s16[j], widen));
    }
#endif
}

#define FQ_GR_LANES 8
#define FQ_GR_TILE fq_gemm_tile
#define FQ_GR_F __m256
#define FQ_GR_I __m256i
#define FQ_GR_V(op) _mm256_##op
#define FQ_GR_ZERO_I _mm256_setzero_si256
#define FQ_GR_FN(f) f
#define FQ_GR_DOT_RUN fq_gemm_dot_run
#define FQ_GR_BCAST4 fq_gemm_bcast4
#include "avx2_qgemm_f32.h"
#include "gemm_run.h"

/* What a family's packer decodes with: the 32-blocks' unpacker, the K family's kmeta and kq. */
#define FQ_GEMM_DECODERS_32(name) fq_avx_unpack_##name
#define FQ_GEMM_DECODERS_K(name) fq_avx_kmeta_##name, fq_avx_kq_##name, fq_avx_kg_##name

/* Values per scale: a whole block for 32-blocks, the type's G (16 or 32) for the K family. */
#define FQ_GEMM_G_32(name) 32
#define FQ_GEMM_G_K(name) fq_avx_kg_##name

/* The exported tile kernel of one type (signature fq_gemm_q8_fn in kernel_table.h): up to
 * FQ_GEMM_ROWS (16) rows, in tiles of 8 rows, or of 16 (avx512_gemm16.h) in the AVX-512 build
 * from FQ_GEMM16_MIN_COLS_<family> columns (below, packing two 8-row tiles and merging them costs
 * more than the wider tile saves: K-family GEMM n=8 +12%). FAMILY: 32 or K; DEPTH: maddubs
 * results summed in int16 before widening (see dot_run). */
#define FQ_GEMM8_BODY(name, FAMILY, ts, SIGNED, HAS_MIN, DEPTH)                                    \
    enum { PER_TILE = FQ_TILE_K / FQ_GEMM_BLOCK_##FAMILY };                                      \
    fq_gemm_tile tile;                                                                           \
    for (int r0 = 0; r0 < nrows; r0 += 8) {                                                      \
        const int rows8 = nrows - r0 < 8 ? nrows - r0 : 8;                                       \
        for (int64_t b0 = 0; b0 < nb; b0 += PER_TILE) {                                          \
            const int nblk = (int)(nb - b0 < PER_TILE ? nb - b0 : PER_TILE);                     \
            fq_gemm_pack##FAMILY(FQ_GEMM_DECODERS_##FAMILY(name), ts, SIGNED, w + r0 * row_bytes, row_bytes, \
                                 rows8, b0, nblk, &tile);                                        \
            int64_t j = 0;                                                                       \
            for (; j + FQ_GEMM_PASS_##FAMILY <= n; j += FQ_GEMM_PASS_##FAMILY)                   \
                fq_gemm_run##FAMILY(&tile, nblk, b0, FQ_GEMM_G_##FAMILY(name), SIGNED, HAS_MIN,  \
                                    DEPTH, xq + j * xs, xs, out + j * os + r0, os, rows8,        \
                                    b0 > 0, FQ_GEMM_PASS_##FAMILY);                              \
            for (; j < n; j++)                                                                   \
                fq_gemm_run##FAMILY(&tile, nblk, b0, FQ_GEMM_G_##FAMILY(name), SIGNED, HAS_MIN,  \
                                    DEPTH, xq + j * xs, xs, out + j * os + r0, os, rows8,        \
                                    b0 > 0, 1);                                                  \
        }                                                                                        \
    }
#if FQ_SIMD_AVX512
#include "avx512_gemm16.h"
#define FQ_GEMM16_MIN_COLS_32 1  /* measured: 16 rows win from n = 8 (the fewest gemm gets) */
#define FQ_GEMM16_MIN_COLS_K 12  /* K family: 8-row tiles 5-10% faster at n = 8, 16-row 4-7% at n = 16 */
#define FQ_GEMM16_BODY(name, FAMILY, ts, SIGNED, HAS_MIN, DEPTH)                                   \
    enum { PER_TILE16 = FQ_TILE16_K / FQ_GEMM_BLOCK_##FAMILY };                                  \
    fq_gemm_tile t8;                                                                             \
    fq_gemm_tile16 tile;                                                                         \
    for (int64_t b0 = 0; b0 < nb; b0 += PER_TILE16) {                                            \
        const int nblk = (int)(nb - b0 < PER_TILE16 ? nb - b0 : PER_TILE16);                     \
        FQ_GEMM_PACK16(FAMILY, name, ts, SIGNED, w, row_bytes, nrows, b0, nblk,                  \
                       &t8, &tile);                                                              \
        int64_t j = 0;                                                                           \
        for (; j + FQ_GEMM_PASS_##FAMILY <= n; j += FQ_GEMM_PASS_##FAMILY)                       \
            fq_gemm_run##FAMILY##_16(&tile, nblk, b0, FQ_GEMM_G_##FAMILY(name), SIGNED, HAS_MIN, \
                                     DEPTH, xq + j * xs, xs, out + j * os, os, nrows, b0 > 0,    \
                                     FQ_GEMM_PASS_##FAMILY);                                     \
        for (; j < n; j++)                                                                       \
            fq_gemm_run##FAMILY##_16(&tile, nblk, b0, FQ_GEMM_G_##FAMILY(name), SIGNED, HAS_MIN, \
                                     DEPTH, xq + j * xs, xs, out + j * os, os, nrows, b0 > 0, 1); \
    }
#define FQ_AVX_DEFINE_GEMM(name, FAMILY, ts, SIGNED, HAS_MIN, DEPTH)                               \
    void FQ_SIMD_FN(gemm_q8_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb,  \
                                const uint8_t *xq, int64_t xs, int64_t n, float *out,            \
                                int64_t os) {                                                    \
        if (n >= FQ_GEMM16_MIN_COLS_##FAMILY) {                                                  \
            FQ_GEMM16_BODY(name, FAMILY, ts, SIGNED, HAS_MIN, DEPTH)                             \
        } else {                                                                                 \
            FQ_GEMM8_BODY(name, FAMILY, ts, SIGNED, HAS_MIN, DEPTH)                              \
        }                                                                                        \
    }                                                                                            \
    FQ_AVX_DEFINE_QGEMM_F32(name, FAMILY, ts, HAS_MIN)
#else
#define FQ_AVX_DEFINE_GEMM(name, FAMILY, ts, SIGNED, HAS_MIN, DEPTH)                               \
    void FQ_SIMD_FN(gemm_q8_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb,  \
                                const uint8_t *xq, int64_t xs, int64_t n, float *out,            \
                                int64_t os) {                                                    \
        FQ_GEMM8_BODY(name, FAMILY, ts, SIGNED, HAS_MIN, DEPTH)                                  \
    }                                                                                            \
    FQ_AVX_DEFINE_QGEMM_F32(name, FAMILY, ts, HAS_MIN)
#endif

#endif
