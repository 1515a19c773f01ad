/* AVX2 unpackers of the K-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks). q is
 * kept unsigned (offsets of Q3_K/Q6_K folded into the mins, see unpack_generic.h), so the shared
 * dot loops of avx2_common.h feed it to maddubs directly; every q <= 63 (no saturation). */
#include <stddef.h>

#include "avx2_gemm.h"
#include "avx2_gemv.h"
#include "simd_kernels.h"

FQ_AVX_INLINE __m256i fq_avx_bits2(__m256i v, int shift) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(3));
}

FQ_AVX_INLINE void fq_avx_unpack_q2_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q2_K *x = (const block_q2_K *)p;
    u->d = fq_avx_half(&x->d);
    u->dmin = fq_avx_half(&x->dmin);
    const __m128i s = _mm_loadu_si128((const __m128i *)x->scales);
    const __m256i s16 = _mm256_cvtepu8_epi16(s);
    _mm256_store_si256((__m256i *)u->sc, _mm256_and_si256(s16, _mm256_set1_epi16(15)));
    _mm256_store_si256((__m256i *)u->mn, _mm256_srli_epi16(s16, 4));
    for (int h = 0; h < 2; h++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * h));
        for (int s2 = 0; s2 < 4; s2++)
            _mm256_store_si256((__m256i *)(u->q + 128 * h + 32 * s2), fq_avx_bits2(v, 2 * s2));
    }
}

/* The 16 six-bit scales of Q3_K (minus 32) as int16. */
FQ_AVX_INLINE __m256i fq_avx_q3_K_scales(const uint8_t *scales) {
    uint32_t a[3];
    memcpy(a, scales, 12);
    const uint32_t lo4 = 0x0f0f0f0fu, lo2 = 0x03030303u;
    const __m128i sc8 = _mm_setr_epi32((int)((a[0] & lo4) | ((a[2] & lo2) << 4)),
                                       (int)((a[1] & lo4) | (((a[2] >> 2) & lo2) << 4)),
                                       (int)(((a[0] >> 4) & lo4) | (((a[2] >> 4) & lo2) << 4)),
                                       (int)(((a[1] >> 4) & lo4) | (((a[2] >> 6) & lo2) << 4)));
    return _mm256_sub_epi16(_mm256_cvtepu8_epi16(sc8), _mm256_set1_epi16(32));
}

FQ_AVX_INLINE void fq_avx_unpack_q3_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q3_K *x = (const block_q3_K *)p;
    u->d = u->dmin = fq_avx_half(&x->d);
    const __m256i sc = fq_avx_q3_K_scales(x->scales);
    _mm256_store_si256((__m256i *)u->sc, sc);
    _mm256_store_si256((__m256i *)u->mn, _mm256_slli_epi16(sc, 2));
    const __m256i hm = _mm256_loadu_si256((const __m256i *)x->hmask), one = _mm256_set1_epi8(1);
    for (int h = 0; h < 2; h++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * h));
        for (int s2 = 0; s2 < 4; s2++) {
            const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + s2), one);
            const __m256i q = _mm256_or_si256(fq_avx_bits2(v, 2 * s2), _mm256_slli_epi16(hb, 2));
            _mm256_store_si256((__m256i *)(u->q + 128 * h + 32 * s2), q);
        }
    }
}

FQ_AVX_INLINE void fq_avx_unpack_q4_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q4_K *x = (const block_q4_K *)p;
    u->d = fq_avx_half(&x->d);
    u->dmin = fq_avx_half(&x->dmin);
    fq_avx_k_scales(x->scales, u);
    const __m256i m4 = _mm256_set1_epi8(15);
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * c));
        _mm256_store_si256((__m256i *)(u->q + 64 * c), _mm256_and_si256(v, m4));
        _mm256_store_si256((__m256i *)(u->q + 64 * c + 32), _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
    }
}

FQ_AVX_INLINE void fq_avx_unpack_q5_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q5_K *x = (const block_q5_K *)p;
    u->d = fq_avx_half(&x->d);
    u->dmin = fq_avx_half(&x->dmin);
    fq_avx_k_scales(x->scales, u);
    const __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
    const __m256i hv = _mm256_loadu_si256((const __m256i *)x->qh);
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * c));
        const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(hv, 2 * c), one);
        const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(hv, 2 * c + 1), one);
        _mm256_store_si256((__m256i *)(u->q + 64 * c),
                           _mm256_or_si256(_mm256_and_si256(v, m4), _mm256_slli_epi16(h0, 4)));
        _mm256_store_si256((__m256i *)(u->q + 64 * c + 32),
                           _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4),
                                           _mm256_slli_epi16(h1, 4)));
    }
}

FQ_AVX_INLINE void fq_avx_unpack_q6_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q6_K *x = (const block_q6_K *)p;
    u->d = u->dmin = fq_avx_half(&x->d);
    const __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
    _mm256_store_si256((__m256i *)u->sc, sc);
    _mm256_store_si256((__m256i *)u->mn, _mm256_slli_epi16(sc, 5));
    const __m256i m4 = _mm256_set1_epi8(15);
    for (int h = 0; h < 2; h++) {
        const __m256i l0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h));
        const __m256i l1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h + 32));
        const __m256i hv = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
        const __m256i lows[4] = {_mm256_and_si256(l0, m4), _mm256_and_si256(l1, m4),
                                 _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                 _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4)};
        for (int s = 0; s < 4; s++)
            _mm256_store_si256((__m256i *)(u->q + 128 * h + 32 * s),
                               _mm256_or_si256(lows[s], _mm256_slli_epi16(fq_avx_bits2(hv, 2 * s), 4)));
    }
}

/* ---- f32 mode: bytes straight to floats (the kscales/kfloats contract of avx2_common.h) ---- */

/* V: sub-blocks of 32 decoded per pass; G: values per scale. */
enum { fq_avx_kv_q2_K = 4, fq_avx_kv_q3_K = 4, fq_avx_kv_q4_K = 2, fq_avx_kv_q5_K = 2, fq_avx_kv_q6_K = 4 };
enum { fq_avx_kg_q2_K = 16, fq_avx_kg_q3_K = 16, fq_avx_kg_q4_K = 32, fq_avx_kg_q5_K = 32, fq_avx_kg_q6_K = 16 };

/* d*sc and dmin*mn per group of 16 from int32 scales/mins of 8 groups at a time. */
FQ_AVX_INLINE void fq_avx_scale_floats(float *dst, float d, __m256i lo8, __m256i hi8) {
    const __m256 dv = _mm256_set1_ps(d);
    _mm256_store_ps(dst, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(lo8)));
    _mm256_store_ps(dst + 8, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(hi8)));
}

FQ_AVX_INLINE void fq_avx_kscales_q2_K(const uint8_t *p, float *dsc, float *dmn) {
    const block_q2_K *x = (const block_q2_K *)p;
    const __m256i lo = fq_avx_u8x8(x->scales), hi = fq_avx_u8x8(x->scales + 8), m4 = _mm256_set1_epi32(15);
    fq_avx_scale_floats(dsc, fq_avx_half(&x->d), _mm256_and_si256(lo, m4), _mm256_and_si256(hi, m4));
    fq_avx_scale_floats(dmn, fq_avx_half(&x->dmin), _mm256_srli_epi32(lo, 4), _mm256_srli_epi32(hi, 4));
}

FQ_AVX_INLINE void fq_avx_kfloats_q2_K(const uint8_t *p, int h, int half, __m256 w[2][4]) {
    const block_q2_K *x = (const block_q2_K *)p;
    const __m256i m2 = _mm256_set1_epi32(3);
    for (int k = 0; k < 2; k++) {
        const __m256i v = fq_avx_u8x8(x->qs + 32 * h + 16 * half + 8 * k);
        for (int s = 0; s < 4; s++)
            w[k][s] = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(v, 2 * s), m2));
    }
}

/* value = d*sc*(q - 4) with q = ql + 4*hbit: mn = 4*sc and dmin = d, so dmn = 4*dsc exactly. */
FQ_AVX_INLINE void fq_avx_kscales_q3_K(const uint8_t *p, float *dsc, float *dmn) {
    const block_q3_K *x = (const block_q3_K *)p;
    const __m256i sc = fq_avx_q3_K_scales(x->scales);
    const __m256i halves[2] = {_mm256_cvtepi16_epi32(_mm256_castsi256_si128(sc)),
                               _mm256_cvtepi16_epi32(_mm256_extracti128_si256(sc, 1))};
    for (int g = 0; g < 2; g++) {
        const __m256 v = _mm256_mul_ps(_mm256_set1_ps(fq_avx_half(&x->d)), _mm256_cvtepi32_ps(halves[g]));
        _mm256_store_ps(dsc + 8 * g, v);
        _mm256_store_ps(dmn + 8 * g, _mm256_mul_ps(v, _mm256_set1_ps(4.0f)));
    }
}

FQ_AVX_INLINE void fq_avx_kfloats_q3_K(const uint8_t *p, int h, int half, __m256 w[2][4]) {
    const block_q3_K *x = (const block_q3_K *)p;
    const __m256i m2 = _mm256_set1_epi32(3), four = _mm256_set1_epi32(4);
    for (int k = 0; k < 2; k++) {
        const int i = 16 * half + 8 * k;
        const __m256i v = fq_avx_u8x8(x->qs + 32 * h + i);
        const __m256i hm = _mm256_slli_epi32(fq_avx_u8x8(x->hmask + i), 2); /* bit b at b+2 */
        for (int s = 0; s < 4; s++) {
            const __m256i hb = _mm256_and_si256(_mm256_srli_epi32(hm, 4 * h + s), four);
            w[k][s] = _mm256_cvtepi32_ps(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(v, 2 * s), m2), hb));
        }
    }
}

/* Q4_K/Q5_K: 8 six-bit scales and mins, each covering two groups of 16. */
FQ_AVX_INLINE void fq_avx_k_scale_floats(const uint8_t *scales, float d, float dmin, float *dsc, float *dmn) {
    uint32_t s[3];
    memcpy(s, scales, 12);
    const uint32_t lo6 = 0x3f3f3f3fu, lo4 = 0x0f0f0f0fu, hi2 = 0x30303030u;
    const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_setr_epi32(
        (int)(s[0] & lo6), (int)((s[2] & lo4) | ((s[0] >> 2) & hi2)), 0, 0)));
    const __m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_setr_epi32(
        (int)(s[1] & lo6), (int)(((s[2] >> 4) & lo4) | ((s[1] >> 2) & hi2)), 0, 0)));
    fq_avx_store_pairs(dsc, _mm256_mul_ps(_mm256_set1_ps(d), sc));
    fq_avx_store_pairs(dmn, _mm256_mul_ps(_mm256_set1_ps(dmin), mn));
}

FQ_AVX_INLINE void fq_avx_kscales_q4_K(const uint8_t *p, float *dsc, float *dmn) {
    const block_q4_K *x = (const block_q4_K *)p;
    fq_avx_k_scale_floats(x->scales, fq_avx_half(&x->d), fq_avx_half(&x->dmin), dsc, dmn);
}

/* pass c: bytes qs[32c + i] hold value 64c + i (low nibble) and 64c + 32 + i (high nibble). */
FQ_AVX_INLINE void fq_avx_kfloats_q4_K(const uint8_t *p, int c, int half, __m256 w[2][4]) {
    const block_q4_K *x = (const block_q4_K *)p;
    const __m256i m4 = _mm256_set1_epi32(15);
    for (int k = 0; k < 2; k++) {
        const __m256i v = fq_avx_u8x8(x->qs + 32 * c + 16 * half + 8 * k);
        w[k][0] = _mm256_cvtepi32_ps(_mm256_and_si256(v, m4));
        w[k][1] = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
    }
}

FQ_AVX_INLINE void fq_avx_kscales_q5_K(const uint8_t *p, float *dsc, float *dmn) {
    const block_q5_K *x = (const block_q5_K *)p;
    fq_avx_k_scale_floats(x->scales, fq_avx_half(&x->d), fq_avx_half(&x->dmin), dsc, dmn);
}

/* as Q4_K, plus the fifth bit: bit j of qh[i] for sub-block j. */
FQ_AVX_INLINE void fq_avx_kfloats_q5_K(const uint8_t *p, int c, int half, __m256 w[2][4]) {
    const block_q5_K *x = (const block_q5_K *)p;
    const __m256i m4 = _mm256_set1_epi32(15), b4 = _mm256_set1_epi32(16);
    for (int k = 0; k < 2; k++) {
        const int i = 16 * half + 8 * k;
        const __m256i v = fq_avx_u8x8(x->qs + 32 * c + i);
        const __m256i hq = _mm256_slli_epi32(fq_avx_u8x8(x->qh + i), 4); /* bit b at b+4 */
        const __m256i h_lo = _mm256_and_si256(_mm256_srli_epi32(hq, 2 * c), b4);
        const __m256i h_hi = _mm256_and_si256(_mm256_srli_epi32(hq, 2 * c + 1), b4);
        w[k][0] = _mm256_cvtepi32_ps(_mm256_or_si256(_mm256_and_si256(v, m4), h_lo));
        w[k][1] = _mm256_cvtepi32_ps(_mm256_or_si256(_mm256_srli_epi32(v, 4), h_hi));
    }
}

/* value = d*sc*(q - 32): dmn = 32*dsc exactly. */
FQ_AVX_INLINE void fq_avx_kscales_q6_K(const uint8_t *p, float *dsc, float *dmn) {
    const block_q6_K *x = (const block_q6_K *)p;
    const __m256 d = _mm256_set1_ps(fq_avx_half(&x->d)), k32 = _mm256_set1_ps(32.0f);
    for (int g = 0; g < 16; g += 8) {
        const __m256 v = _mm256_mul_ps(d, _mm256_cvtepi32_ps(
            _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(x->scales + g)))));
        _mm256_store_ps(dsc + g, v);
        _mm256_store_ps(dmn + g, _mm256_mul_ps(v, k32));
    }
}

/* pass h: value 128h + 32s + i = nibble (s >> 1) of ql[64h + 32(s & 1) + i] | bits 2s, 2s+1 of
 * qh[32h + i] at 4, 5. */
FQ_AVX_INLINE void fq_avx_kfloats_q6_K(const uint8_t *p, int h, int half, __m256 w[2][4]) {
    const block_q6_K *x = (const block_q6_K *)p;
    const __m256i m4 = _mm256_set1_epi32(15), m48 = _mm256_set1_epi32(48);
    for (int k = 0; k < 2; k++) {
        const int i = 16 * half + 8 * k;
        const __m256i a = fq_avx_u8x8(x->ql + 64 * h + i), b = fq_avx_u8x8(x->ql + 64 * h + 32 + i);
        const __m256i hq = _mm256_slli_epi32(fq_avx_u8x8(x->qh + 32 * h + i), 4); /* bit b at b+4 */
        const __m256i lows[4] = {_mm256_and_si256(a, m4), _mm256_and_si256(b, m4),
                                 _mm256_srli_epi32(a, 4), _mm256_srli_epi32(b, 4)};
        for (int s = 0; s < 4; s++)
            w[k][s] = _mm256_cvtepi32_ps(
                _mm256_or_si256(lows[s], _mm256_and_si256(_mm256_srli_epi32(hq, 2 * s), m48)));
    }
}

FQ_AVX_KSUMS_VIA_UNPACK(q2_K, 0, 1)
FQ_AVX_KSUMS_VIA_UNPACK(q3_K, 0, 1)
FQ_AVX_KSUMS_VIA_UNPACK(q5_K, 0, 1)
FQ_AVX_KSUMS_VIA_UNPACK(q6_K, 0, 1)
FQ_AVX_DEFINE_DOTS(q2_K, K, 84, 0, 1)
FQ_AVX_DEFINE_DOTS(q3_K, K, 110, 0, 1)
/* Q4_K q8, dedicated block sums: nibbles stay in registers (no unpack buffer) and the per-32
 * scales are picked straight from the 8 unpacked ones; mins meet the Q8_K sums pairwise. */
FQ_AVX_INLINE void fq_avx_ksums_q4_K(const uint8_t *blk, const uint8_t *xq, int64_t xs, int64_t b,
                                     const int nx, __m256i *isum, __m256i *msum, float *d, float *dmin) {
    const block_q4_K *x = (const block_q4_K *)blk;
    const __m256i m4 = _mm256_set1_epi8(15);
    uint32_t s[3];
    memcpy(s, x->scales, 12);
    const uint32_t lo6 = 0x3f3f3f3fu, lo4 = 0x0f0f0f0fu, hi2 = 0x30303030u;
    const __m128i sc16 = _mm_cvtepu8_epi16(_mm_setr_epi32(
        (int)(s[0] & lo6), (int)((s[2] & lo4) | ((s[0] >> 2) & hi2)), 0, 0));
    const __m128i mn16 = _mm_cvtepu8_epi16(_mm_setr_epi32(
        (int)(s[1] & lo6), (int)(((s[2] >> 4) & lo4) | ((s[1] >> 2) & hi2)), 0, 0));
    const __m256i scb = _mm256_broadcastsi128_si256(sc16);
    const __m256i mn_pairs = _mm256_set_m128i(_mm_unpackhi_epi16(mn16, mn16), _mm_unpacklo_epi16(mn16, mn16));
    for (int j = 0; j < nx; j++) isum[j] = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * c));
        const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        const __m256i s_lo = _mm256_shuffle_epi8(scb, _mm256_set1_epi16((short)(((4 * c + 1) << 8) | (4 * c))));
        const __m256i s_hi = _mm256_shuffle_epi8(scb, _mm256_set1_epi16((short)(((4 * c + 3) << 8) | (4 * c + 2))));
        for (int j = 0; j < nx; j++) {
            const fq_q8_K *y = (const fq_q8_K *)(xq + j * xs) + b;
            const __m256i p_lo = _mm256_madd_epi16(
                _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(y->qs + 64 * c))), s_lo);
            const __m256i p_hi = _mm256_madd_epi16(
                _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(y->qs + 64 * c + 32))), s_hi);
            isum[j] = _mm256_add_epi32(isum[j], _mm256_add_epi32(p_lo, p_hi));
        }
    }
    for (int j = 0; j < nx; j++) {
        const fq_q8_K *y = (const fq_q8_K *)(xq + j * xs) + b;
        msum[j] = _mm256_madd_epi16(mn_pairs, _mm256_loadu_si256((const __m256i *)y->bsums));
    }
    *d = fq_avx_half(&x->d);
    *dmin = fq_avx_half(&x->dmin);
}

FQ_AVX_DEFINE_DOT_Q8(q4_K, K, 144, 0, 1)
FQ_AVX_DEFINE_DOT_F32(q4_K, K, 144, 1)
FQ_AVX_DEFINE_DOTS(q5_K, K, 176, 0, 1)
FQ_AVX_DEFINE_DOTS(q6_K, K, 210, 0, 1)

/* GEMM tiles; depth: int16 sums of 4 maddubs for q <= 31, 2 for Q6_K's q <= 63. */
FQ_AVX_DEFINE_GEMM(q2_K, K, 84, 0, 1, 4)
FQ_AVX_DEFINE_GEMM(q3_K, K, 110, 0, 1, 4)
FQ_AVX_DEFINE_GEMM(q4_K, K, 144, 0, 1, 4)
FQ_AVX_DEFINE_GEMM(q5_K, K, 176, 0, 1, 4)
FQ_AVX_DEFINE_GEMM(q6_K, K, 210, 0, 1, 2)

FQ_AVX_DEFINE_GEMV_K(q2_K, 84, offsetof(block_q2_K, d), offsetof(block_q2_K, dmin), 1)
FQ_AVX_DEFINE_GEMV_K(q3_K, 110, offsetof(block_q3_K, d), offsetof(block_q3_K, d), 1)
FQ_AVX_DEFINE_GEMV_K(q4_K, 144, offsetof(block_q4_K, d), offsetof(block_q4_K, dmin), 1)
FQ_AVX_DEFINE_GEMV_K(q5_K, 176, offsetof(block_q5_K, d), offsetof(block_q5_K, dmin), 1)
FQ_AVX_DEFINE_GEMV_K(q6_K, 210, offsetof(block_q6_K, d), offsetof(block_q6_K, d), 1)
