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

FQ_AVX_DEFINE_DOTS(iq4_nl, 32, 18, 1, 0)
FQ_AVX_DEFINE_DOTS(iq4_xs, K, 136, 1, 0)
FQ_AVX_DEFINE_GEMM(iq4_nl, 32, 18, 1, 0, 1)
FQ_AVX_DEFINE_GEMM(iq4_xs, K, 136, 1, 0, 1)
FQ_AVX_DEFINE_GEMV_32(iq4_nl, 18, 1, 0)
FQ_AVX_DEFINE_GEMV_K(iq4_xs, 136, 1, 0)
