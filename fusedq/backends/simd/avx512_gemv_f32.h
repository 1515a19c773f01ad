/* f32-mode GEMV of the AVX-512 build: one weight row at a time into 16-lane accumulators.
 * Each type gives its values as floats, 16 per zmm (a table permute of the packed bits, or a
 * convert); a block (a scale group for the 256-blocks) adds scale * (values . x) lane-wise, and
 * the lanes are summed once per row instead of once per block. Per 32 Q4_0 weights that is one
 * widen, one shift, two permutes, a multiply, two FMAs: 7 instructions on the two 512-bit ports,
 * where the 4-row ymm loop of avx2_gemv.h spends ~20 (converts, per-block row reductions) on three
 * 256-bit ports. The values are exact (the tables hold the type's integers, or its grid), so
 * results differ from the AVX2 build's by summation order only.
 *
 * Per type (defined beside its other decoders, in the AVX-512 build only):
 *   32-blocks:  zvals32(blk, lo, hi): values 0-15 and 16-31 of the block, unscaled; d (and m,
 *               the half after it) of 16 blocks are fetched by one gather and converted at once;
 *   256-blocks: zkvals(blk, p, v): the ZV groups of 16 values ZV*p .. ZV*p + ZV-1 (v[k]: values
 *               16(ZV*p + k) .. +15), unscaled; zkscales(blk, dsc, dmn) their scales and mins.
 * Mins meet the per-16 activation sums the driver stores after x (f32_sums in the table). */
#ifndef FQ_AVX512_GEMV_F32_H
#define FQ_AVX512_GEMV_F32_H

#include "avx2_common.h"

#if FQ_SIMD_AVX512

typedef void (*fq_z_vals32_fn)(const uint8_t *blk, __m512 *lo, __m512 *hi);
typedef void (*fq_z_kvals_fn)(const uint8_t *blk, int p, __m512 *v);

/* 16 consecutive floats first, first + 1, ... (the tables of the linear types). */
FQ_AVX_INLINE __m512 fq_z_count16_ps(float first) {
    return _mm512_add_ps(_mm512_set1_ps(first), _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

/* 16 bytes from p, zero-extended to 16 int32 lanes. */
FQ_AVX_INLINE __m512i fq_z_u8x16(const uint8_t *p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}

/* Bit `from` of every lane moved to bit `to` (the other bits move along; callers mask or a
 * table ignores them). from, to are constants after inlining. */
FQ_AVX_INLINE __m512i fq_z_move_bit(__m512i v, const int from, const int to) {
    return from == to ? v : from < to ? _mm512_slli_epi32(v, to - from) : _mm512_srli_epi32(v, from - to);
}

/* The bits set in `mask` from a, the others from b (vpternlogd: c ? a : b). */
FQ_AVX_INLINE __m512i fq_z_select_bits(__m512i a, __m512i b, int mask) {
    return _mm512_ternarylogic_epi32(a, b, _mm512_set1_epi32(mask), 0xE4);
}

/* Bits 0-3 from a, bits 4 and up from b. */
FQ_AVX_INLINE __m512i fq_z_low4_then(__m512i a, __m512i b) { return fq_z_select_bits(a, b, 15); }

/* The mask of the first k of 16 lanes (k <= 0: none). */
FQ_AVX_INLINE __mmask16 fq_z_first(int k) {
    return k >= 16 ? (__mmask16)0xFFFF : k <= 0 ? (__mmask16)0 : (__mmask16)((1u << k) - 1);
}

/* zkscales(blk, dsc, dmn): dsc = d * each group's scale (per 16 values; G = 32: per 32, the
 * first 8), with any factor the type's zkvals leave in its values divided out; dmn = dmin * the
 * min of each 16 values. By default straight from the type's kmeta (FQ_Z_KSCALES_FROM_KMETA). */
typedef void (*fq_z_kscales_fn)(const uint8_t *blk, float *dsc, float *dmn);

FQ_AVX_INLINE void fq_z_kscales_from(fq_avx_kmeta_fn kmeta, const uint8_t *blk, float *dsc, float *dmn) {
    __m256i sc, mn;
    float d, dmin;
    kmeta(blk, &sc, &mn, &d, &dmin);
    _mm512_store_ps(dsc, _mm512_mul_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(sc))));
    _mm512_store_ps(dmn, _mm512_mul_ps(_mm512_set1_ps(dmin), _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(mn))));
}
#define FQ_Z_KSCALES_FROM_KMETA(name)                                                              \
    FQ_AVX_INLINE void fq_z_kscales_##name(const uint8_t *p, float *dsc, float *dmn) {           \
        fq_z_kscales_from(fq_avx_kmeta_##name, p, dsc, dmn);                                     \
    }

/* Two adjacent halves at p (d and dmin) as floats, each in every lane: one broadcast load, one
 * conversion, two in-lane duplicates (the scalar route costs two conversions, two broadcasts). */
FQ_AVX_INLINE void fq_z_half_pair(const void *p, __m512 *first, __m512 *second) {
    uint32_t pair;
    memcpy(&pair, p, 4);
    const __m512 both = _mm512_cvtph_ps(_mm256_set1_epi32((int)pair));
    *first = _mm512_moveldup_ps(both);
    *second = _mm512_movehdup_ps(both);
}

/* 16 bytes of nibbles through a 16-float table: low nibbles into *lo, high into *hi (vpermps
 * reads index bits 0-3 only, so the low nibbles need no mask). */
FQ_AVX_INLINE void fq_z_nibble_vals(const uint8_t *qs, __m512 tab, __m512 *lo, __m512 *hi) {
    const __m512i v = fq_z_u8x16(qs);
    *lo = _mm512_permutexvar_ps(v, tab);
    *hi = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), tab);
}

/* The half at the start of n <= 16 consecutive blocks ts bytes apart, as floats (lanes past n:
 * 0), and with m != NULL the half after it into *m. One gather of the blocks' first 4 bytes. */
FQ_AVX_INLINE __m512 fq_z_block_halves(const uint8_t *blk, const int ts, int n, __m512 *m) {
    const __m512i at = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32(ts));
    const __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), fq_z_first(n), at, blk, 1);
    if (m) *m = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(g, 16)));
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
}

/* acc += d * (lo . x[0..15] + hi . x[16..31]), lane-wise. */
FQ_AVX_INLINE __m512 fq_z_block32(fq_z_vals32_fn vals, const uint8_t *blk, const float *xb, float d, __m512 acc) {
    __m512 lo, hi;
    vals(blk, &lo, &hi);
    const __m512 t = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xb + 16), _mm512_mul_ps(lo, _mm512_loadu_ps(xb)));
    return _mm512_fmadd_ps(t, _mm512_set1_ps(d), acc);
}

/* 32-blocks. Even and odd blocks feed two accumulators (one chain would wait on FMA latency);
 * has_min: the 16 blocks' m times their activation sums (pairs of the per-16 sums) in a third.
 * Each 16 blocks prefetch the same bytes of the row FQ_GEMV_PREFETCH_ROWS on (Q4_0 -6%). */
FQ_AVX_INLINE void fq_z_gemv_f32_32(fq_z_vals32_fn vals, const int ts, const int has_min, const uint8_t *w,
                                    int64_t row_bytes, int64_t nrows, int64_t nb, const float *x, float *out) {
    const float *xsum16 = x + nb * 32;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *wr = w + r * row_bytes;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), macc = _mm512_setzero_ps();
        for (int64_t b0 = 0; b0 < nb; b0 += 16) {
            const int n = nb - b0 < 16 ? (int)(nb - b0) : 16;
            const uint8_t *blk = wr + b0 * ts;
            const float *xb = x + 32 * b0;
            fq_avx_prefetch_step(wr + FQ_GEMV_PREFETCH_ROWS * row_bytes, b0 / 16, 16 * ts);
            float d[16] __attribute__((aligned(64)));
            __m512 m;
            _mm512_store_ps(d, fq_z_block_halves(blk, ts, n, has_min ? &m : NULL));
            if (has_min) {
                const float *s = xsum16 + 2 * b0;
                const __m512 s0 = _mm512_maskz_loadu_ps(fq_z_first(2 * n), s);
                const __m512 s1 = _mm512_maskz_loadu_ps(fq_z_first(2 * n - 16), s + 16);
                const __m512 xsum = _mm512_add_ps(_mm512_permutex2var_ps(s0, even, s1),
                                                  _mm512_permutex2var_ps(s0, odd, s1));
                macc = _mm512_fmadd_ps(m, xsum, macc);
            }
            int i = 0;
            for (; i + 2 <= n; i += 2) {
                acc0 = fq_z_block32(vals, blk + i * ts, xb + 32 * i, d[i], acc0);
                acc1 = fq_z_block32(vals, blk + (i + 1) * ts, xb + 32 * (i + 1), d[i + 1], acc1);
            }
            if (i < n) acc0 = fq_z_block32(vals, blk + i * ts, xb + 32 * i, d[i], acc0);
        }
        out[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), macc));
    }
}

/* 256-blocks, G = 16 or 32 values per scale: a group's (or pair's) products, then one FMA with
 * its scale; groups alternate between two accumulators, the mins (dmn per 16 values) meet the
 * per-16 sums in a third. Each block prefetches the same block of the row FQ_GEMV_PREFETCH_ROWS
 * on (spread over the row rather than a burst at its start as in the AVX2 build: Q6_K -5%). */
FQ_AVX_INLINE void fq_z_gemv_f32_K(fq_z_kscales_fn kscales, fq_z_kvals_fn kvals, const int ZV, const int G,
                                   const int ts, const int has_min, const uint8_t *w, int64_t row_bytes,
                                   int64_t nrows, int64_t nb, const float *x, float *out) {
    const float *xsum16 = x + nb * FQ_QK;
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *wr = w + r * row_bytes;
        const uint8_t *ahead = wr + FQ_GEMV_PREFETCH_ROWS * row_bytes;
        __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()}, macc = _mm512_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = wr + b * ts;
            const float *xb = x + FQ_QK * b;
            fq_avx_prefetch_step(ahead, b, ts);
            float dsc[16] __attribute__((aligned(64))), dmn[16] __attribute__((aligned(64)));
            kscales(blk, dsc, dmn);
            /* the FMAs broadcast the scales from memory (load ports): kept in registers, each
             * would cost a shuffle-port broadcast (Q4_K GEMV +10%) */
            __asm__("" : "+m"(dsc));
#pragma GCC unroll 16   /* constant p, k: decoders' shifts, groups and accumulators resolve */
            for (int p = 0; p < 16 / ZV; p++) {
                __m512 v[16];
                kvals(blk, p, v);
#pragma GCC unroll 16
                for (int k = 0; k < ZV; k += G / 16) {
                    const int g = ZV * p + k;
                    __m512 t = _mm512_mul_ps(v[k], _mm512_loadu_ps(xb + 16 * g));
                    if (G == 32) t = _mm512_fmadd_ps(v[k + 1], _mm512_loadu_ps(xb + 16 * g + 16), t);
                    const int a = (g / (G / 16)) & 1;
                    acc[a] = _mm512_fmadd_ps(t, _mm512_set1_ps(dsc[g / (G / 16)]), acc[a]);
                }
            }
            if (has_min) macc = _mm512_fnmadd_ps(_mm512_load_ps(dmn), _mm512_loadu_ps(xsum16 + 16 * b), macc);
        }
        out[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), macc));
    }
}

/* 256-blocks with a scale per 16 values, x in FQ_X_WORDS16 order (Q2_K, Q3_K, Q6_K): lane i of
 * vector 4f + o holds value 128 (i >> 3) + 32 f + 4 (i & 7) + o, so the four vectors of one f meet
 * the same four scale groups, 8 (i >> 3) + 2 f + ((i >> 2) & 1): their products are summed first
 * and meet the scales (one permute of the 16) in one FMA, where x in its natural order costs a
 * multiply and an FMA per 16 values. The packed bytes are used as they lie (dword i = bytes
 * 4i .. 4i + 3; no widening). Per type, beside its other decoders:
 *   zwscales(blk, dsc, dmn): d * scale and dmin * min of the 16 groups, in group order;
 *   zwvals(blk, f, v): v[o] = vector 4f + o's values, unscaled. */
typedef void (*fq_z_wscales_fn)(const uint8_t *blk, __m512 *dsc, __m512 *dmn);
typedef void (*fq_z_wvals_fn)(const uint8_t *blk, int f, __m512 *v);

FQ_AVX_INLINE void fq_z_gemv_f32_words(fq_z_wscales_fn wscales, fq_z_wvals_fn wvals, const int ts,
                                       const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb,
                                       const float *x, float *out) {
    const float *xsum16 = x + nb * FQ_QK;
    const __m512i group = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 8, 8, 8, 8, 9, 9, 9, 9);
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *wr = w + r * row_bytes;
        const uint8_t *ahead = wr + FQ_GEMV_PREFETCH_ROWS * row_bytes;
        __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()}, macc = _mm512_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = wr + b * ts;
            const float *xb = x + FQ_QK * b;
            fq_avx_prefetch_step(ahead, b, ts);
            __m512 dsc, dmn;
            wscales(blk, &dsc, &dmn);
#pragma GCC unroll 4   /* constant f: the decoders' shifts and tables resolve, shared work is shared */
            for (int f = 0; f < 4; f++) {
                __m512 v[4];
                wvals(blk, f, v);
                __m512 t = _mm512_mul_ps(v[0], _mm512_loadu_ps(xb + 64 * f));
#pragma GCC unroll 3
                for (int o = 1; o < 4; o++) t = _mm512_fmadd_ps(v[o], _mm512_loadu_ps(xb + 64 * f + 16 * o), t);
                const __m512 sc = _mm512_permutexvar_ps(_mm512_add_epi32(group, _mm512_set1_epi32(2 * f)), dsc);
                acc[f & 1] = _mm512_fmadd_ps(t, sc, acc[f & 1]);
            }
            macc = _mm512_fnmadd_ps(dmn, _mm512_loadu_ps(xsum16 + 16 * b), macc);
        }
        out[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), macc));
    }
}

#endif
#endif
