/* AVX2 unpackers of the K-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks). q is
 * kept unsigned (offsets of Q3_K/Q6_K folded into the mins, see unpack_generic.h), so the shared
 * dot loops of avx2_common.h feed it to maddubs directly; every q <= 63 (no saturation). */
#include "avx2_common.h"
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

FQ_AVX_INLINE void fq_avx_unpack_q3_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q3_K *x = (const block_q3_K *)p;
    u->d = u->dmin = fq_avx_half(&x->d);
    for (int g = 0; g < 16; g++) u->sc[g] = (int16_t)fq_q3_K_scale(x->scales, g);
    const __m256i sc = _mm256_load_si256((const __m256i *)u->sc);
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

FQ_AVX_DEFINE_DOTS(q2_K, K, 84, 0, 1)
FQ_AVX_DEFINE_DOTS(q3_K, K, 110, 0, 1)
FQ_AVX_DEFINE_DOTS(q4_K, K, 144, 0, 1)
FQ_AVX_DEFINE_DOTS(q5_K, K, 176, 0, 1)
FQ_AVX_DEFINE_DOTS(q6_K, K, 210, 0, 1)
