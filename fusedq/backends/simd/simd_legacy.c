/* AVX2 unpackers of the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0; the dot loops are
 * the shared ones of avx2_common.h. */
#include "avx2_gemm.h"
#include "avx2_gemv.h"
#include "simd_kernels.h"

/* Like Q5_0: q unsigned (0..15), offset in m = -8 d. */
FQ_AVX_INLINE __m256i fq_avx_unpack_q4_0(const uint8_t *p, float *d, float *m) {
    const block_q4_0 *x = (const block_q4_0 *)p;
    *d = fq_avx_half(&x->d);
    *m = -8.0f * *d;
    return fq_avx_nibbles16(x->qs);
}

FQ_AVX_INLINE __m256i fq_avx_unpack_q4_1(const uint8_t *p, float *d, float *m) {
    const block_q4_1 *x = (const block_q4_1 *)p;
    *d = fq_avx_half(&x->d);
    *m = fq_avx_half(&x->m);
    return fq_avx_nibbles16(x->qs);
}

FQ_AVX_INLINE __m256i fq_avx_q5_bits(const uint8_t *qs, const uint8_t *qh) {
    uint32_t bits;
    memcpy(&bits, qh, 4);
    const __m256i high = _mm256_and_si256(fq_avx_bits_to_bytes(bits), _mm256_set1_epi8(16));
    return _mm256_or_si256(fq_avx_nibbles16(qs), high);
}

/* q kept unsigned (0..31) and the -16 offset moved into m = -16 d (through the activation sums
 * s = d_x * sum(q_x)): no sign trick in the integer loop. */
FQ_AVX_INLINE __m256i fq_avx_unpack_q5_0(const uint8_t *p, float *d, float *m) {
    const block_q5_0 *x = (const block_q5_0 *)p;
    *d = fq_avx_half(&x->d);
    *m = -16.0f * *d;
    return fq_avx_q5_bits(x->qs, x->qh);
}

FQ_AVX_INLINE __m256i fq_avx_unpack_q5_1(const uint8_t *p, float *d, float *m) {
    const block_q5_1 *x = (const block_q5_1 *)p;
    *d = fq_avx_half(&x->d);
    *m = fq_avx_half(&x->m);
    return fq_avx_q5_bits(x->qs, x->qh);
}

FQ_AVX_INLINE __m256i fq_avx_unpack_q8_0(const uint8_t *p, float *d, float *m) {
    const block_q8_0 *x = (const block_q8_0 *)p;
    *d = fq_avx_half(&x->d);
    *m = 0.0f;
    return _mm256_loadu_si256((const __m256i *)x->qs);
}

/* f32 mode: nibbles and int8 straight to floats (8 bytes -> 8 int32 lanes -> float), skipping
 * the int8 unpack and its lane shuffles. */
FQ_AVX_INLINE void fq_avx_nibble_floats(const uint8_t *qs, __m256 *q) {
    const __m256i m4 = _mm256_set1_epi32(15);
    for (int h = 0; h < 2; h++) {
        const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qs + 8 * h)));
        q[h] = _mm256_cvtepi32_ps(_mm256_and_si256(v, m4));
        q[2 + h] = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
    }
}

FQ_AVX_INLINE void fq_avx_floats_q4_0(const uint8_t *p, __m256 *q, float *d, float *m) {
    const block_q4_0 *x = (const block_q4_0 *)p;
    *d = fq_avx_half(&x->d);
    *m = -8.0f * *d;
    fq_avx_nibble_floats(x->qs, q);
}

FQ_AVX_INLINE void fq_avx_floats_q4_1(const uint8_t *p, __m256 *q, float *d, float *m) {
    const block_q4_1 *x = (const block_q4_1 *)p;
    *d = fq_avx_half(&x->d);
    *m = fq_avx_half(&x->m);
    fq_avx_nibble_floats(x->qs, q);
}

FQ_AVX_INLINE void fq_avx_floats_q8_0(const uint8_t *p, __m256 *q, float *d, float *m) {
    const block_q8_0 *x = (const block_q8_0 *)p;
    *d = fq_avx_half(&x->d);
    *m = 0.0f;
    for (int k = 0; k < 4; k++)
        q[k] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(x->qs + 8 * k))));
}

/* The 5-bit values as bytes (fq_avx_q5_bits: nibbles and fifth bits combined 32 at a time),
 * then 8 bytes -> 8 int32 lanes -> floats per vector. */
FQ_AVX_INLINE void fq_avx_q5_floats(const uint8_t *qs, const uint8_t *qh, __m256 *q) {
    const __m256i v = fq_avx_q5_bits(qs, qh);
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    q[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo));
    q[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)));
    q[2] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi));
    q[3] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)));
}

FQ_AVX_INLINE void fq_avx_floats_q5_0(const uint8_t *p, __m256 *q, float *d, float *m) {
    const block_q5_0 *x = (const block_q5_0 *)p;
    *d = fq_avx_half(&x->d);
    *m = -16.0f * *d;
    fq_avx_q5_floats(x->qs, x->qh, q);
}

FQ_AVX_INLINE void fq_avx_floats_q5_1(const uint8_t *p, __m256 *q, float *d, float *m) {
    const block_q5_1 *x = (const block_q5_1 *)p;
    *d = fq_avx_half(&x->d);
    *m = fq_avx_half(&x->m);
    fq_avx_q5_floats(x->qs, x->qh, q);
}

#if FQ_SIMD_AVX512
/* zmm f32 GEMV values (avx512_gemv_f32.h): signed tables, so Q4_0 and Q5_0 need no min term. */
FQ_AVX_INLINE void fq_z_vals32_q4_0(const uint8_t *p, __m512 *lo, __m512 *hi) {
    fq_z_nibble_vals(((const block_q4_0 *)p)->qs, fq_z_count16_ps(-8.0f), lo, hi);
}

FQ_AVX_INLINE void fq_z_vals32_q4_1(const uint8_t *p, __m512 *lo, __m512 *hi) {
    fq_z_nibble_vals(((const block_q4_1 *)p)->qs, fq_z_count16_ps(0.0f), lo, hi);
}

/* Nibble | fifth bit (bit j of qh for value j, rotated to bit 4) through a 32-float table
 * (vpermt2ps reads index bits 0-4) first, first + 1, ... */
FQ_AVX_INLINE void fq_z_q5_vals(const uint8_t *qs, const uint8_t *qh, float first, __m512 *lo, __m512 *hi) {
    uint32_t bits;
    memcpy(&bits, qh, 4);
    const __m512i v = fq_z_u8x16(qs), h = _mm512_set1_epi32((int)bits);
    const __m512i j = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i h_lo = _mm512_rorv_epi32(h, _mm512_and_si512(_mm512_sub_epi32(j, _mm512_set1_epi32(4)), _mm512_set1_epi32(31)));
    const __m512i h_hi = _mm512_rorv_epi32(h, _mm512_add_epi32(j, _mm512_set1_epi32(12)));
    const __m512 t0 = fq_z_count16_ps(first), t1 = fq_z_count16_ps(first + 16.0f);
    *lo = _mm512_permutex2var_ps(t0, fq_z_low4_then(v, h_lo), t1);
    *hi = _mm512_permutex2var_ps(t0, fq_z_low4_then(_mm512_srli_epi32(v, 4), h_hi), t1);
}

FQ_AVX_INLINE void fq_z_vals32_q5_0(const uint8_t *p, __m512 *lo, __m512 *hi) {
    const block_q5_0 *x = (const block_q5_0 *)p;
    fq_z_q5_vals(x->qs, x->qh, -16.0f, lo, hi);
}

FQ_AVX_INLINE void fq_z_vals32_q5_1(const uint8_t *p, __m512 *lo, __m512 *hi) {
    const block_q5_1 *x = (const block_q5_1 *)p;
    fq_z_q5_vals(x->qs, x->qh, 0.0f, lo, hi);
}

FQ_AVX_INLINE void fq_z_vals32_q8_0(const uint8_t *p, __m512 *lo, __m512 *hi) {
    const int8_t *qs = ((const block_q8_0 *)p)->qs;
    *lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)qs)));
    *hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(qs + 16))));
}
#endif

FQ_AVX_DEFINE_DOTS(q4_0, 32, 18, 0, 1)
FQ_AVX_DEFINE_DOTS(q4_1, 32, 20, 0, 1)
FQ_AVX_DEFINE_DOTS(q5_0, 32, 22, 0, 1)
FQ_AVX_DEFINE_DOTS(q5_1, 32, 24, 0, 1)
FQ_AVX_DEFINE_DOTS(q8_0, 32, 34, 1, 0)

/* GEMM tiles; depth: int16 sums of up to 8 maddubs for 4-bit q, 4 for 5-bit, 1 for 8-bit. */
FQ_AVX_DEFINE_GEMM(q4_0, 32, 18, 0, 1, 8)
FQ_AVX_DEFINE_GEMM(q4_1, 32, 20, 0, 1, 8)
FQ_AVX_DEFINE_GEMM(q5_0, 32, 22, 0, 1, 4)
FQ_AVX_DEFINE_GEMM(q5_1, 32, 24, 0, 1, 4)
FQ_AVX_DEFINE_GEMM(q8_0, 32, 34, 1, 0, 1)

FQ_AVX_DEFINE_GEMV_32(q4_0, 18, 0, -8.0f, 0)
FQ_AVX_DEFINE_GEMV_32(q4_1, 20, 0, 0.0f, 1)
FQ_AVX_DEFINE_GEMV_32(q5_0, 22, 0, -16.0f, 0)
FQ_AVX_DEFINE_GEMV_32(q5_1, 24, 0, 0.0f, 1)
FQ_AVX_DEFINE_GEMV_32(q8_0, 34, 1, 0.0f, 0)

/* the AVX-512 build's f32 GEMMs over the zmm decoders: FMA and AMX tiles (avx512_zdecode.h) */
FQ_Z_DEFINE_GEMMS_32(q4_0, 18, 0)
FQ_Z_DEFINE_GEMMS_32(q4_1, 20, 1)
FQ_Z_DEFINE_GEMMS_32(q5_0, 22, 0)
FQ_Z_DEFINE_GEMMS_32(q5_1, 24, 1)
FQ_Z_DEFINE_GEMMS_32(q8_0, 34, 0)
