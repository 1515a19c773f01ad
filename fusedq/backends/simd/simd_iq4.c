/* AVX2 unpackers of the non-linear 4-bit grid types IQ4_NL (32-blocks) and IQ4_XS (256-blocks):
 * nibbles become grid values with one byte shuffle. q stays signed (-127..113). */
#include "avx2_gemm.h"
#include "avx2_gemv.h"
#include "simd_kernels.h"

FQ_AVX_INLINE __m256i fq_avx_unpack_iq4_nl(const uint8_t *p, float *d, float *m) {
    const block_iq4_nl *x = (const block_iq4_nl *)p;
    *d = fq_avx_half(&x->d);
    *m = 0.0f;
    return _mm256_shuffle_epi8(fq_avx_iq4_table(), fq_avx_nibbles16(x->qs));
}

FQ_AVX_INLINE void fq_avx_unpack_iq4_xs(const uint8_t *p, fq_unpackedK *u) {
    const block_iq4_xs *x = (const block_iq4_xs *)p;
    const __m256i table = fq_avx_iq4_table();
    u->d = fq_avx_half(&x->d);
    u->dmin = 0.0f;
    for (int j = 0; j < 8; j++) {
        u->sc[2 * j] = u->sc[2 * j + 1] = (int16_t)fq_iq4_xs_scale(x, j);
        u->mn[2 * j] = u->mn[2 * j + 1] = 0;
        _mm256_store_si256((__m256i *)(u->q + 32 * j),
                           _mm256_shuffle_epi8(table, fq_avx_nibbles16(x->qs + 16 * j)));
    }
}

/* Grid values of 16 bytes of nibbles (low nibbles or high) as 2 x 8 floats. */
FQ_AVX_INLINE void fq_avx_iq4_floats16(const uint8_t *qs, int high, __m256 *w0, __m256 *w1) {
    const __m128i v = _mm_loadu_si128((const __m128i *)qs), m4 = _mm_set1_epi8(15);
    const __m128i g = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)fq_iq4nl_values),
                                       _mm_and_si128(high ? _mm_srli_epi16(v, 4) : v, m4));
    *w0 = fq_avx_i8_to_ps(g);
    *w1 = fq_avx_i8_to_ps(_mm_srli_si128(g, 8));
}

FQ_AVX_INLINE void fq_avx_floats_iq4_nl(const uint8_t *p, __m256 *q, float *d, float *m) {
    const block_iq4_nl *x = (const block_iq4_nl *)p;
    *d = fq_avx_half(&x->d);
    *m = 0.0f;
    fq_avx_iq4_floats16(x->qs, 0, &q[0], &q[1]);
    fq_avx_iq4_floats16(x->qs, 1, &q[2], &q[3]);
}
FQ_AVX_DEFINE_DOTS(iq4_nl, 32, 18, 1, 0)
/* IQ4_XS q8, dedicated block sums: nibbles become grid values in registers (one shuffle, no
 * unpack buffer) and each 32-value sub-block's 6-bit scale enters the integer sum through madd. */
FQ_AVX_INLINE void fq_avx_ksums_iq4_xs(const uint8_t *blk, const uint8_t *xq, int64_t xs, int64_t b,
                                       const int nx, __m256i *isum, __m256i *msum, float *d, float *dmin) {
    const block_iq4_xs *x = (const block_iq4_xs *)blk;
    const __m256i table = fq_avx_iq4_table();
    (void)msum;
    for (int j = 0; j < nx; j++) isum[j] = _mm256_setzero_si256();
    for (int s = 0; s < 8; s++) {
        const __m256i q = _mm256_shuffle_epi8(table, fq_avx_nibbles16(x->qs + 16 * s));
        const __m256i a = _mm256_sign_epi8(q, q);
        const __m256i sc = _mm256_set1_epi16((short)fq_iq4_xs_scale(x, s));
        for (int j = 0; j < nx; j++) {
            const fq_q8_K *y = (const fq_q8_K *)(xq + j * xs) + b;
            const __m256i yv = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(y->qs + 32 * s)), q);
            isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(_mm256_maddubs_epi16(a, yv), sc));
        }
    }
    *d = fq_avx_half(&x->d);
    *dmin = 0.0f;
}

FQ_AVX_DEFINE_DOT_Q8(iq4_xs, K, 136, 1, 0)
/* IQ4_XS f32: one sub-block of 32 per pass (V = 1), grid values straight to floats; no mins. */
enum { fq_avx_kv_iq4_xs = 1, fq_avx_kg_iq4_xs = 32 };

FQ_AVX_INLINE void fq_avx_kscales_iq4_xs(const uint8_t *p, float *dsc, float *dmn) {
    const block_iq4_xs *x = (const block_iq4_xs *)p;
    int sc[8];
    (void)dmn;
    for (int j = 0; j < 8; j++) sc[j] = fq_iq4_xs_scale(x, j);
    fq_avx_store_pairs(dsc, _mm256_mul_ps(_mm256_set1_ps(fq_avx_half(&x->d)),
                                          _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)sc))));
}

FQ_AVX_INLINE void fq_avx_kfloats_iq4_xs(const uint8_t *p, int j, int half, __m256 w[2][4]) {
    fq_avx_iq4_floats16(((const block_iq4_xs *)p)->qs + 16 * j, half, &w[0][0], &w[1][0]);
}

FQ_AVX_DEFINE_DOT_F32(iq4_xs, K, 136, 0)
FQ_AVX_DEFINE_GEMM(iq4_nl, 32, 18, 1, 0, 1)
FQ_AVX_DEFINE_GEMM(iq4_xs, K, 136, 1, 0, 1)
FQ_AVX_DEFINE_GEMV_32(iq4_nl, 18, 1, 0.0f, 0)
FQ_AVX_DEFINE_GEMV_K(iq4_xs)
