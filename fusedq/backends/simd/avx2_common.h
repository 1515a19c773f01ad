/* AVX2 building blocks of the simd backend, written once and instantiated per type.
 * Include only from SIMD sources: it switches the rest of the file to the AVX2+FMA+F16C target
 * (no global -m flags; the backend checks the CPU with cpuid+xgetbv before calling anything).
 *
 * Per type, a source provides only an unpacker (block -> integers, unpack_generic.h semantics);
 * the loops below turn it into
 *   dot_q8:  integer dots (maddubs/madd) against quantized activations, one float FMA per block,
 *            mins through the activation block sums;
 *   dot_f32: int8 -> f32 in registers, scaled, FMA against f32 activations.
 * Each weight block is unpacked once and used for nx <= FQ_MAX_COLS activation columns; nx is
 * a compile-time constant in every instantiation so the accumulators live in registers. */
#ifndef FQ_AVX2_COMMON_H
#define FQ_AVX2_COMMON_H

#if FQ_SIMD_AVX512
/* the same intrinsics, EVEX-encoded: 32 vector registers (fewer spills in the GEMM tiles), and
 * VNNI's vpdpbusd for the integer dots (FQ_SIMD_VNNI) */
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#define FQ_SIMD_VNNI 1
#else
#define FQ_SIMD_VNNI 0
#pragma GCC target("avx2,fma,f16c")
#endif
#include <immintrin.h>

#include "kernel_table.h"
#include "unpack_generic.h"

#define FQ_AVX_INLINE static inline __attribute__((always_inline))

FQ_AVX_INLINE float fq_avx_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

FQ_AVX_INLINE float fq_avx_half(const void *p) { return _cvtsh_ss(fq_load_u16(p)); }

/* 16 packed bytes -> 32 bytes: low nibbles in bytes 0..15, high nibbles in bytes 16..31. The
 * bytes are loaded into both halves at once (a load-port broadcast) and only the upper half is
 * shifted: 2 ALU instructions instead of 4 with a lane insert. */
FQ_AVX_INLINE __m256i fq_avx_nibbles16(const uint8_t *qs) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_and_si256(_mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(15));
}

/* byte i = 0xFF where bit i of `bits` is set, else 0. */
FQ_AVX_INLINE __m256i fq_avx_bits_to_bytes(uint32_t bits) {
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* The IQ4 grid as a byte shuffle table (both lanes). */
FQ_AVX_INLINE __m256i fq_avx_iq4_table(void) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)fq_iq4nl_values));
}

/* ---- 32-element blocks: unpack returns the 32 int8 q in a register, d and m by pointer. ---- */
typedef __m256i (*fq_avx_unpack32_fn)(const uint8_t *blk, float *d, float *m);

/* acc + the sums of 4 adjacent products a*b per int32 lane (a unsigned, b signed bytes). VNNI
 * does it in one instruction without an int16 stage; the AVX2 pair (maddubs, madd) saturates
 * there unless |pair sums| <= 32767, which every caller guarantees: both give the same integers. */
FQ_AVX_INLINE __m256i fq_avx_dot4_acc(__m256i acc, __m256i a, __m256i b) {
#if FQ_SIMD_VNNI
    return _mm256_dpbusd_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
#endif
}

FQ_AVX_INLINE void fq_avx_dot_q8_32(fq_avx_unpack32_fn unpack, const int signed_q, const int ts,
                                    const int has_min, const uint8_t *w, int64_t nb,
                                    const uint8_t *xq, int64_t xs, float *out, int64_t os,
                                    const int nx) {
    __m256 acc[FQ_MAX_COLS];
    float macc[FQ_MAX_COLS];
    for (int j = 0; j < nx; j++) acc[j] = _mm256_setzero_ps(), macc[j] = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        float d, m;
        const __m256i q = unpack(w + b * ts, &d, &m);
        const __m256i uq = signed_q ? _mm256_sign_epi8(q, q) : q; /* |q| <= 128, x in [-127,127] */
        for (int j = 0; j < nx; j++) {
            const fq_q8_32 *y = (const fq_q8_32 *)(xq + j * xs) + b;
            __m256i yv = _mm256_loadu_si256((const __m256i *)y->qs);
            if (signed_q) yv = _mm256_sign_epi8(yv, q);
            const __m256i p = fq_avx_dot4_acc(_mm256_setzero_si256(), uq, yv);
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(d * y->d), _mm256_cvtepi32_ps(p), acc[j]);
            if (has_min) macc[j] += m * y->s;
        }
    }
    for (int j = 0; j < nx; j++) out[j * os] = fq_avx_hsum(acc[j]) + macc[j];
}

FQ_AVX_INLINE __m256 fq_avx_i8_to_ps(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)); }

/* f32 mode: small integers to floats by table lookup, one shuffle-port permute instead of mask
 * and convert on the FMA ports (the floats are exact: results are the same bits). f32 GEMV at 2
 * threads: Q2_K 0.45 -> 0.40 ms, IQ4_XS 0.45 -> 0.39 (AVX-512 build); no gain for Q3_K, Q4_0,
 * Q4_K, whose decoders keep the shuffle port busy enough already.
 * tab8(t, v): t[v & 7] per int32 lane (vpermps); tab16(lo, hi, v): lo[v & 7] where bit 3 of v is
 * clear, else hi[v & 7] (vpermt2ps, AVX-512 builds only). */
FQ_AVX_INLINE __m256 fq_avx_tab8_ps(__m256 t, __m256i v) { return _mm256_permutevar8x32_ps(t, v); }
#if FQ_SIMD_AVX512
FQ_AVX_INLINE __m256 fq_avx_tab16_ps(__m256 lo, __m256 hi, __m256i v) {
    return _mm256_permutex2var_ps(lo, v, hi);
}
#endif

/* sum(x * (d q + m)) = d sum(q x) + m sum(x) per block: the weights are never scaled one by one.
 * Even and odd blocks go to two accumulators per column: one FMA chain would bound the loop by
 * FMA latency. The order of operations per column is the same for every nx, so a column's
 * result does not depend on its place in a batch. Each type decodes its bytes straight to
 * floats: a block's 32 q as 4 float vectors (elements 0-7, 8-15, 16-23, 24-31), d and m. */
typedef void (*fq_avx_floats32_fn)(const uint8_t *blk, __m256 *q, float *d, float *m);

FQ_AVX_INLINE void fq_avx_dot_f32_32(fq_avx_floats32_fn floats, const int ts, const int has_min,
                                     const uint8_t *w, int64_t nb, const float *x, int64_t xs,
                                     float *out, int64_t os, const int nx) {
    __m256 acc[2][FQ_MAX_COLS];
    for (int j = 0; j < nx; j++) acc[0][j] = acc[1][j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const int u = (int)(b & 1);
        float d, m;
        __m256 wv[4];
        floats(w + b * ts, wv, &d, &m);
        const __m256 dv = _mm256_set1_ps(d), mv = _mm256_set1_ps(m);
        for (int j = 0; j < nx; j++) {
            const float *xp = x + j * xs + 32 * b;
            const __m256 x0 = _mm256_loadu_ps(xp), x1 = _mm256_loadu_ps(xp + 8);
            const __m256 x2 = _mm256_loadu_ps(xp + 16), x3 = _mm256_loadu_ps(xp + 24);
            const __m256 t = _mm256_add_ps(_mm256_fmadd_ps(wv[1], x1, _mm256_mul_ps(wv[0], x0)),
                                           _mm256_fmadd_ps(wv[3], x3, _mm256_mul_ps(wv[2], x2)));
            acc[u][j] = _mm256_fmadd_ps(dv, t, acc[u][j]);
            if (has_min)
                acc[u][j] = _mm256_fmadd_ps(mv, _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)),
                                            acc[u][j]);
        }
    }
    for (int j = 0; j < nx; j++) out[j * os] = fq_avx_hsum(_mm256_add_ps(acc[0][j], acc[1][j]));
}

/* ---- 256-element blocks: kmeta (scales, mins) and kq (32 q at a time), see below. ---- */

/* Byte shuffle giving 16-bit lanes 0-7 the scale 2c and lanes 8-15 the scale 2c+1, from a
 * vector holding 8 int16 scales (2c, 2c+1 among them) in both 128-bit halves. */
FQ_AVX_INLINE __m256i fq_avx_scale_pick(int c) {
    const char a = (char)(4 * c), b = (char)(4 * c + 2);
    return _mm256_setr_epi8(a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1,
                            b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1);
}

/* The integer work of one 256-block against nx Q8_K columns (block b of each):
 *   isum[j] = sum_g sc_g * dot(q_g, y_g)   and, with mins,   msum[j] = sum_g mn_g * bsum_g,
 * each as 8 int32 lanes to be summed; d and dmin of the block. Every K type gets it from its
 * kmeta and kq (FQ_AVX_KSUMS_FROM_CHUNKS); the row kernel below scales and accumulates it. */
typedef void (*fq_avx_ksums_fn)(const uint8_t *blk, const uint8_t *xq, int64_t xs, int64_t b, int nx,
                                __m256i *isum, __m256i *msum, float *d, float *dmin);

/* A type's 256-block in two parts (see simd_kquants.c): metadata and 32 q per chunk. G is the
 * number of values per scale: kmeta gives 16 per-16 scales (G = 16) or the 8 per-32 scales in
 * both 128-bit halves (G = 32); mins always per 16. */
typedef void (*fq_avx_kmeta_fn)(const uint8_t *blk, __m256i *sc, __m256i *mn, float *d, float *dmin);
typedef __m256i (*fq_avx_kq_fn)(const uint8_t *blk, int c);

/* Scales per 16 values (16 int16) from kmeta's form. */
FQ_AVX_INLINE __m256i fq_avx_scales_per16(__m256i sc, const int G) {
    if (G == 16) return sc;
    const __m128i s8 = _mm256_castsi256_si128(sc);
    return _mm256_set_m128i(_mm_unpackhi_epi16(s8, s8), _mm_unpacklo_epi16(s8, s8));
}

FQ_AVX_INLINE void fq_avx_k_block_sums(fq_avx_kmeta_fn kmeta, fq_avx_kq_fn kq, const int G,
                                       const int signed_q, const int has_min, const uint8_t *blk,
                                       const uint8_t *xq, int64_t xs, int64_t b, const int nx,
                                       __m256i *isum, __m256i *msum, float *d, float *dmin) {
    __m256i sc, mn;
    kmeta(blk, &sc, &mn, d, dmin);
    const __m256i sc_lo = G == 16 ? _mm256_permute2x128_si256(sc, sc, 0x00) : sc;
    const __m256i sc_hi = G == 16 ? _mm256_permute2x128_si256(sc, sc, 0x11) : sc;
    for (int j = 0; j < nx; j++) isum[j] = _mm256_setzero_si256();
#pragma GCC unroll 8 /* constant c: kq's shifts and shared loads resolve */
    for (int c = 0; c < 8; c++) { /* chunk c: one weight vector and scale vector for all columns */
        const __m256i pick = G == 16 ? fq_avx_scale_pick(c & 3) : _mm256_set1_epi16((short)(((2 * c + 1) << 8) | (2 * c)));
        const __m256i scv = _mm256_shuffle_epi8(c < 4 ? sc_lo : sc_hi, pick);
        const __m256i q = kq(blk, c);
        const __m256i uq = signed_q ? _mm256_sign_epi8(q, q) : q;
        for (int j = 0; j < nx; j++) {
            const fq_q8_K *y = (const fq_q8_K *)(xq + j * xs) + b;
            __m256i yv = _mm256_loadu_si256((const __m256i *)(y->qs + 32 * c));
            if (signed_q) yv = _mm256_sign_epi8(yv, q);
            isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(_mm256_maddubs_epi16(uq, yv), scv));
        }
    }
    if (has_min)
        for (int j = 0; j < nx; j++) {
            const fq_q8_K *y = (const fq_q8_K *)(xq + j * xs) + b;
            msum[j] = _mm256_madd_epi16(mn, _mm256_loadu_si256((const __m256i *)y->bsums));
        }
}

/* Int16 lanes 0-3 of each 128-bit half: the scale of chunk c's values there, lanes 4-7: that of
 * chunk c+1 (the lane order of packs(dots of c, dots of c+1)), from kmeta's sc as
 * fq_avx_k_block_sums reads it (G = 16: sc_lo for c < 4, sc_hi for c >= 4). */
FQ_AVX_INLINE __m256i fq_avx_scale_pair_pick(int c, const int G) {
    const int lo0 = G == 16 ? (2 * c) & 7 : c, lo1 = G == 16 ? (2 * c + 2) & 7 : c + 1;
    const int hi0 = G == 16 ? lo0 + 1 : lo0, hi1 = G == 16 ? lo1 + 1 : lo1;
    const char a = (char)(2 * lo0), b = (char)(2 * lo1), e = (char)(2 * hi0), f = (char)(2 * hi1);
    return _mm256_setr_epi8(a, a + 1, a, a + 1, a, a + 1, a, a + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1,
                            e, e + 1, e, e + 1, e, e + 1, e, e + 1, f, f + 1, f, f + 1, f, f + 1, f, f + 1);
}

/* One row's block sums (nx = 1) for types whose q <= 63 (unsigned), VNNI builds: a 4-byte dot
 * then fits int16 (4 * 63 * 127 = 32004), so each chunk is one vpdpbusd and two chunks' dots are
 * packed to int16 and scaled by one madd (6 instructions per 64 values instead of 8). Each 128-bit
 * half sums the same values times the same scales as fq_avx_k_block_sums, so the half sums the
 * GEMV reduces are the same integers in both builds. */
FQ_AVX_INLINE void fq_avx_k_row_sums_packed(fq_avx_kmeta_fn kmeta, fq_avx_kq_fn kq, const int G,
                                            const int has_min, const uint8_t *blk,
                                            const fq_q8_K *y, __m256i *isum, __m256i *msum,
                                            float *d, float *dmin) {
    __m256i sc, mn;
    kmeta(blk, &sc, &mn, d, dmin);
    const __m256i sc_lo = G == 16 ? _mm256_permute2x128_si256(sc, sc, 0x00) : sc;
    const __m256i sc_hi = G == 16 ? _mm256_permute2x128_si256(sc, sc, 0x11) : sc;
    const __m256i zero = _mm256_setzero_si256();
    __m256i acc = zero;
#pragma GCC unroll 4
    for (int c = 0; c < 8; c += 2) {
        const __m256i p0 = fq_avx_dot4_acc(zero, kq(blk, c), _mm256_loadu_si256((const __m256i *)(y->qs + 32 * c)));
        const __m256i p1 = fq_avx_dot4_acc(zero, kq(blk, c + 1), _mm256_loadu_si256((const __m256i *)(y->qs + 32 * c + 32)));
        const __m256i scv = _mm256_shuffle_epi8(c < 4 ? sc_lo : sc_hi, fq_avx_scale_pair_pick(c, G));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_packs_epi32(p0, p1), scv));
    }
    *isum = acc;
    if (has_min) *msum = _mm256_madd_epi16(mn, _mm256_loadu_si256((const __m256i *)y->bsums));
}

/* A type's fq_avx_ksums_fn from its kmeta and kq, and its one-row form for the GEMV (krow: the
 * same half sums; packed where VNNI and fq_avx_kqmax_<type> allow). */
#define FQ_AVX_KSUMS_FROM_CHUNKS(name, SIGNED, HAS_MIN)                                            \
    FQ_AVX_INLINE void fq_avx_ksums_##name(const uint8_t *blk, const uint8_t *xq, int64_t xs,    \
                                           int64_t b, int nx, __m256i *isum, __m256i *msum,      \
                                           float *d, float *dmin) {                              \
        fq_avx_k_block_sums(fq_avx_kmeta_##name, fq_avx_kq_##name, fq_avx_kg_##name, SIGNED,     \
                            HAS_MIN, blk, xq, xs, b, nx, isum, msum, d, dmin);                   \
    }                                                                                            \
    FQ_AVX_INLINE void fq_avx_krow_##name(const uint8_t *blk, const uint8_t *xq, int64_t b,      \
                                          __m256i *isum, __m256i *msum, float *d, float *dmin) { \
        if (FQ_SIMD_VNNI && !(SIGNED) && fq_avx_kqmax_##name <= 63)                              \
            fq_avx_k_row_sums_packed(fq_avx_kmeta_##name, fq_avx_kq_##name, fq_avx_kg_##name,    \
                                     HAS_MIN, blk, (const fq_q8_K *)xq + b, isum, msum, d, dmin); \
        else                                                                                     \
            fq_avx_ksums_##name(blk, xq, 0, b, 1, isum, msum, d, dmin);                          \
    }

FQ_AVX_INLINE void fq_avx_dot_q8_K(fq_avx_ksums_fn ksums, const int ts, const int has_min,
                                   const uint8_t *w, int64_t nb, const uint8_t *xq, int64_t xs,
                                   float *out, int64_t os, const int nx) {
    __m256 acc[FQ_MAX_COLS];
    for (int j = 0; j < nx; j++) acc[j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m256i isum[FQ_MAX_COLS], msum[FQ_MAX_COLS];
        float d, dmin;
        ksums(w + b * ts, xq, xs, b, nx, isum, msum, &d, &dmin);
        for (int j = 0; j < nx; j++) {
            const fq_q8_K *y = (const fq_q8_K *)(xq + j * xs) + b;
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(d * y->d), _mm256_cvtepi32_ps(isum[j]), acc[j]);
            if (has_min)
                acc[j] = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * y->d), _mm256_cvtepi32_ps(msum[j]), acc[j]);
        }
    }
    for (int j = 0; j < nx; j++) out[j * os] = fq_avx_hsum(acc[j]);
}

/* f32 activations: sum(x * (d*sc*q - dmin*mn)) = sum_g d*sc_g*sum(q*x) - dmin*mn_g*xsum_g, with
 * the per-16 sums xsum of each x row stored after it by the driver (f32_sums in the table).
 * Each type decodes its bytes straight to floats (no int8 buffer), V sub-blocks of 32 per pass:
 *   kscales(blk, dsc, dmn):    dsc[g] = d*sc_g and dmn[g] = dmin*mn_g for the 16 groups of 16;
 *   kfloats(blk, p, half, w):  w[k][v] = the 8 values at 32*(V*p + v) + 16*half + 8*k, as floats.
 * G is the scale granularity (16 or 32 values): sum(q*x) runs over G values, then one FMA with
 * its scale. Two accumulators per column; the order per column does not depend on nx. */
typedef void (*fq_avx_kscales_fn)(const uint8_t *blk, float *dsc, float *dmn);
typedef void (*fq_avx_kfloats_fn)(const uint8_t *blk, int p, int half, __m256 w[2][4]);

FQ_AVX_INLINE void fq_avx_dot_f32_K(fq_avx_kscales_fn kscales, fq_avx_kfloats_fn kfloats,
                                    const int V, const int G, const int ts, const int has_min,
                                    const uint8_t *w, int64_t nb, const float *x, int64_t xs,
                                    float *out, int64_t os, const int nx) {
    __m256 acc[2][FQ_MAX_COLS];
    float dsc[16] __attribute__((aligned(32))), dmn[16] __attribute__((aligned(32)));
    const float *xsum = x + nb * FQ_QK;
    for (int j = 0; j < nx; j++) acc[0][j] = acc[1][j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + b * ts;
        kscales(blk, dsc, dmn);
#pragma GCC unroll 8   /* constant p, half, v: decoders' shifts and the register arrays resolve */
        for (int p = 0; p < 8 / V; p++) {
            __m256 t[4][FQ_MAX_COLS];
#pragma GCC unroll 2
            for (int half = 0; half < 2; half++) {
                __m256 wv[2][4];
                kfloats(blk, p, half, wv);
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) {
                    const int e = 32 * (V * p + v) + 16 * half;   /* first value of these 16 */
                    const int fresh = G == 16 || half == 0, done = G == 16 || half == 1;
                    const int a = G == 16 ? half : (V * p + v) & 1;
                    const int g = 2 * (V * p + v) + (G == 16 ? half : 0);   /* scale group */
                    for (int j = 0; j < nx; j++) {
                        const float *xp = x + j * xs + FQ_QK * b + e;
                        const __m256 x0 = _mm256_loadu_ps(xp), x1 = _mm256_loadu_ps(xp + 8);
                        const __m256 t0 = fresh ? _mm256_mul_ps(wv[0][v], x0) : _mm256_fmadd_ps(wv[0][v], x0, t[v][j]);
                        t[v][j] = _mm256_fmadd_ps(wv[1][v], x1, t0);
                        if (done) acc[a][j] = _mm256_fmadd_ps(_mm256_broadcast_ss(dsc + g), t[v][j], acc[a][j]);
                    }
                }
            }
        }
        if (has_min) {
            const __m256 m0 = _mm256_load_ps(dmn), m1 = _mm256_load_ps(dmn + 8);
            for (int j = 0; j < nx; j++) {
                const float *sp = xsum + j * xs + 16 * b;
                acc[0][j] = _mm256_fnmadd_ps(m0, _mm256_loadu_ps(sp), acc[0][j]);
                acc[1][j] = _mm256_fnmadd_ps(m1, _mm256_loadu_ps(sp + 8), acc[1][j]);
            }
        }
    }
    for (int j = 0; j < nx; j++) out[j * os] = fq_avx_hsum(_mm256_add_ps(acc[0][j], acc[1][j]));
}

/* A type's kscales from its kmeta (simd_kquants.c): d * sc and dmin * mn as floats. */
#define FQ_AVX_KSCALES_FROM_META(name)                                                             \
    FQ_AVX_INLINE void fq_avx_kscales_##name(const uint8_t *p, float *dsc, float *dmn) {         \
        __m256i sc, mn;                                                                          \
        float d, dmin;                                                                           \
        fq_avx_kmeta_##name(p, &sc, &mn, &d, &dmin);                                             \
        fq_avx_int16_times(dsc, fq_avx_scales_per16(sc, fq_avx_kg_##name), d);                   \
        fq_avx_int16_times(dmn, mn, dmin);                                                       \
    }

/* Everything a 256-block type's kmeta and kq give besides the GEMM tiles (which take them
 * directly): q8 block sums and f32 scales. */
#define FQ_AVX_K_FROM_META(name, SIGNED, HAS_MIN)                                                  \
    FQ_AVX_KSUMS_FROM_CHUNKS(name, SIGNED, HAS_MIN)                                              \
    FQ_AVX_KSCALES_FROM_META(name)

/* dst[0..15] = f * (float)v[0..15] for 16 int16 lanes. */
FQ_AVX_INLINE void fq_avx_int16_times(float *dst, __m256i v, float f) {
    const __m256 fv = _mm256_set1_ps(f);
    _mm256_store_ps(dst, _mm256_mul_ps(fv, _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(v)))));
    _mm256_store_ps(dst + 8, _mm256_mul_ps(fv, _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, 1)))));
}

/* 8 bytes from p, zero-extended to 8 int32 lanes. */
FQ_AVX_INLINE __m256i fq_avx_u8x8(const uint8_t *p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

/* ---- instantiation: one exported function per (type, mode), nx dispatched to constants. ---- */
#define FQ_AVX_Q8_CODERS_32(name, S) fq_avx_unpack_##name, S
#define FQ_AVX_Q8_CODERS_K(name, S) fq_avx_ksums_##name
#define FQ_AVX_Q8_CASE(FAMILY, name, ts, S, M, N)                                                  \
    case N:                                                                                      \
        fq_avx_dot_q8_##FAMILY(FQ_AVX_Q8_CODERS_##FAMILY(name, S), ts, M, w, nb, xq, xs, out, os, N); \
        break;
#define FQ_AVX_DECODERS_32(name) fq_avx_floats_##name
#define FQ_AVX_DECODERS_K(name) fq_avx_kscales_##name, fq_avx_kfloats_##name, fq_avx_kv_##name, fq_avx_kg_##name
#define FQ_AVX_F32_CASE(FAMILY, name, ts, M, N)                                                    \
    case N:                                                                                      \
        fq_avx_dot_f32_##FAMILY(FQ_AVX_DECODERS_##FAMILY(name), ts, M, w, nb, x, xs, out, os, N); \
        break;

/* FAMILY is 32 or K; SIGNED: q may be negative; HAS_MIN: the type has an offset/min term. */
#define FQ_AVX_DEFINE_DOT_Q8(name, FAMILY, ts, SIGNED, HAS_MIN)                                    \
    _Static_assert(FQ_MAX_COLS == 8, "the nx switch covers 1..8");                               \
    void FQ_SIMD_FN(dot_q8_##name)(const uint8_t *w, int64_t nb, const uint8_t *xq, int64_t xs,  \
                               int nx, float *out, int64_t os) {                                 \
        switch (nx) {                                                                            \
            FQ_AVX_Q8_CASE(FAMILY, name, ts, SIGNED, HAS_MIN, 1)                                 \
            FQ_AVX_Q8_CASE(FAMILY, name, ts, SIGNED, HAS_MIN, 2)                                 \
            FQ_AVX_Q8_CASE(FAMILY, name, ts, SIGNED, HAS_MIN, 3)                                 \
            FQ_AVX_Q8_CASE(FAMILY, name, ts, SIGNED, HAS_MIN, 4)                                 \
            FQ_AVX_Q8_CASE(FAMILY, name, ts, SIGNED, HAS_MIN, 5)                                 \
            FQ_AVX_Q8_CASE(FAMILY, name, ts, SIGNED, HAS_MIN, 6)                                 \
            FQ_AVX_Q8_CASE(FAMILY, name, ts, SIGNED, HAS_MIN, 7)                                 \
            FQ_AVX_Q8_CASE(FAMILY, name, ts, SIGNED, HAS_MIN, 8)                                 \
        }                                                                                        \
    }
#define FQ_AVX_DEFINE_DOT_F32(name, FAMILY, ts, HAS_MIN)                                           \
    void FQ_SIMD_FN(dot_f32_##name)(const uint8_t *w, int64_t nb, const float *x, int64_t xs,    \
                                int nx, float *out, int64_t os) {                                \
        switch (nx) {                                                                            \
            FQ_AVX_F32_CASE(FAMILY, name, ts, HAS_MIN, 1)                                        \
            FQ_AVX_F32_CASE(FAMILY, name, ts, HAS_MIN, 2)                                        \
            FQ_AVX_F32_CASE(FAMILY, name, ts, HAS_MIN, 3)                                        \
            FQ_AVX_F32_CASE(FAMILY, name, ts, HAS_MIN, 4)                                        \
            FQ_AVX_F32_CASE(FAMILY, name, ts, HAS_MIN, 5)                                        \
            FQ_AVX_F32_CASE(FAMILY, name, ts, HAS_MIN, 6)                                        \
            FQ_AVX_F32_CASE(FAMILY, name, ts, HAS_MIN, 7)                                        \
            FQ_AVX_F32_CASE(FAMILY, name, ts, HAS_MIN, 8)                                        \
        }                                                                                        \
    }
#define FQ_AVX_DEFINE_DOTS(name, FAMILY, ts, SIGNED, HAS_MIN)                                      \
    FQ_AVX_DEFINE_DOT_Q8(name, FAMILY, ts, SIGNED, HAS_MIN)                                      \
    FQ_AVX_DEFINE_DOT_F32(name, FAMILY, ts, HAS_MIN)

#endif
