/* AVX2 decoders of the non-linear 4-bit grid types IQ4_NL (32-blocks) and IQ4_XS (256-blocks):
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

/* Grid values of 16 bytes of nibbles (low nibbles or high) as 2 x 8 floats: in the AVX-512 build
 * straight from the nibbles through a 16-float table, else a byte shuffle, widen, convert. */
FQ_AVX_INLINE void fq_avx_iq4_floats16(const uint8_t *qs, int high, __m256 *w0, __m256 *w1) {
#if FQ_SIMD_AVX512
    const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)fq_iq4nl_values)));
    const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(fq_iq4nl_values + 8))));
    const __m256i v0 = fq_avx_u8x8(qs), v1 = fq_avx_u8x8(qs + 8);
    *w0 = fq_avx_tab16_ps(lo, hi, high ? _mm256_srli_epi32(v0, 4) : v0);
    *w1 = fq_avx_tab16_ps(lo, hi, high ? _mm256_srli_epi32(v1, 4) : v1);
#else
    const __m128i v = _mm_loadu_si128((const __m128i *)qs), m4 = _mm_set1_epi8(15);
    const __m128i g = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)fq_iq4nl_values),
                                       _mm_and_si128(high ? _mm_srli_epi16(v, 4) : v, m4));
    *w0 = fq_avx_i8_to_ps(g);
    *w1 = fq_avx_i8_to_ps(_mm_srli_si128(g, 8));
#endif
}

FQ_AVX_INLINE void fq_avx_floats_iq4_nl(const uint8_t *p, __m256 *q, float *d, float *m) {
    const block_iq4_nl *x = (const block_iq4_nl *)p;
    *d = fq_avx_half(&x->d);
    *m = 0.0f;
    fq_avx_iq4_floats16(x->qs, 0, &q[0], &q[1]);
    fq_avx_iq4_floats16(x->qs, 1, &q[2], &q[3]);
}
FQ_AVX_DEFINE_DOTS(iq4_nl, 32, 18, 1, 0)
/* IQ4_XS as kmeta + kq (see simd_kquants.c): 8 six-bit scales (one per 32 values, G = 32), no
 * mins; chunk c is the grid values of qs[16c .. 16c+15] (low nibbles, then high). q is signed.
 * One sub-block of 32 per f32 pass (V = 1). */
enum { fq_avx_kv_iq4_xs = 1, fq_avx_kg_iq4_xs = 32, fq_avx_kqmax_iq4_xs = 127 /* |q|, signed */ };

FQ_AVX_INLINE void fq_avx_kmeta_iq4_xs(const uint8_t *p, __m256i *sc, __m256i *mn, float *d, float *dmin) {
    const block_iq4_xs *x = (const block_iq4_xs *)p;
    uint32_t lo4;   /* fq_iq4_xs_scale for the 8 sub-blocks at once, in registers */
    memcpy(&lo4, x->scales_l, 4);
    const __m256i lo = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)lo4),
                                                          _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                                        _mm256_set1_epi32(15));
    const __m256i hi = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(fq_load_u16(&x->scales_h)),
                                                          _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
                                        _mm256_set1_epi32(3));
    const __m256i s32 = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), _mm256_set1_epi32(32));
    const __m128i s16 = _mm_packs_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    *sc = _mm256_broadcastsi128_si256(s16);
    *mn = _mm256_setzero_si256();
    *d = fq_avx_half(&x->d);
    *dmin = 0.0f;
}

FQ_AVX_INLINE __m256i fq_avx_kq_iq4_xs(const uint8_t *p, int c) {
    return _mm256_shuffle_epi8(fq_avx_iq4_table(), fq_avx_nibbles16(((const block_iq4_xs *)p)->qs + 16 * c));
}

FQ_AVX_K_FROM_META(iq4_xs, 1, 0)

FQ_AVX_INLINE void fq_avx_kfloats_iq4_xs(const uint8_t *p, int j, int half, __m256 w[2][4]) {
    fq_avx_iq4_floats16(((const block_iq4_xs *)p)->qs + 16 * j, half, &w[0][0], &w[1][0]);
}

#if FQ_SIMD_AVX512
/* zmm f32 GEMV values (avx512_gemv_f32.h): the grid as a 16-float table. IQ4_XS: pass p is
 * sub-blocks 2p, 2p + 1 (groups 4p .. 4p + 3). */
FQ_AVX_INLINE __m512 fq_z_iq4_table(void) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)fq_iq4nl_values)));
}

FQ_AVX_INLINE void fq_z_vals32_iq4_nl(const uint8_t *p, __m512 *lo, __m512 *hi) {
    fq_z_nibble_vals(((const block_iq4_nl *)p)->qs, fq_z_iq4_table(), lo, hi);
}

enum { fq_z_kv_iq4_xs = 4 };
FQ_Z_KSCALES_FROM_KMETA(iq4_xs)
FQ_AVX_INLINE void fq_z_kvals_iq4_xs(const uint8_t *p, int pass, __m512 *v) {
    const uint8_t *qs = ((const block_iq4_xs *)p)->qs + 32 * pass;
    fq_z_nibble_vals(qs, fq_z_iq4_table(), &v[0], &v[1]);
    fq_z_nibble_vals(qs + 16, fq_z_iq4_table(), &v[2], &v[3]);
}
#endif

FQ_AVX_DEFINE_DOTS(iq4_xs, K, 136, 1, 0)
FQ_AVX_DEFINE_GEMM(iq4_nl, 32, 18, 1, 0, 1)
FQ_AVX_DEFINE_GEMM(iq4_xs, K, 136, 1, 0, 1)
/* IQ4_NL GEMV. Under VNNI the grid is looked up as q + 128 (unsigned bytes: vpdpbusd takes them
 * as they are, no sign trick on the weights and activations), and the 128 * sum(x) this adds is
 * taken back through the min term (m = -128 d against the activation block sum): GEMV 0.216 ->
 * 0.189 ms at 2 threads. The same integers plus an offset, so float rounding differs from the
 * AVX2 build's (maddubs would saturate on the offset grid: AVX2 keeps the sign trick). */
#if FQ_SIMD_VNNI
FQ_AVX_INLINE __m256i fq_avx_unpack_iq4_nl_plus128(const uint8_t *p, float *d, float *m) {
    const block_iq4_nl *x = (const block_iq4_nl *)p;
    *d = fq_avx_half(&x->d);
    *m = -128.0f * *d;
    const __m256i grid = _mm256_xor_si256(fq_avx_iq4_table(), _mm256_set1_epi8((char)0x80));
    return _mm256_shuffle_epi8(grid, fq_avx_nibbles16(x->qs));
}
#define FQ_IQ4_NL_GEMV_Q8 fq_avx_unpack_iq4_nl_plus128, 18, 0, -128.0f, 0
#else
#define FQ_IQ4_NL_GEMV_Q8 fq_avx_unpack_iq4_nl, 18, 1, 0.0f, 0
#endif
FQ_AVX_DEFINE_GEMV_Q8_32(iq4_nl, FQ_IQ4_NL_GEMV_Q8)
void FQ_SIMD_FN(gemv_f32_iq4_nl)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb,
                                 const float *x, float *out) {
    FQ_AVX_GEMV_F32_32(iq4_nl, 18, 0.0f, 0)
}
FQ_AVX_DEFINE_GEMV_K(iq4_xs, 136, 0)

/* the AVX-512 build's f32 GEMMs over the zmm decoders: FMA and AMX tiles (avx512_zdecode.h) */
FQ_Z_DEFINE_GEMMS_32(iq4_nl, 18, 0)
FQ_Z_DEFINE_GEMMS_K(iq4_xs, 136, 0)
