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

FQ_AVX_DEFINE_GEMV_32(q4_0, 18, 0, 1)
FQ_AVX_DEFINE_GEMV_32(q4_1, 20, 0, 1)
FQ_AVX_DEFINE_GEMV_32(q5_0, 22, 0, 1)
FQ_AVX_DEFINE_GEMV_32(q5_1, 24, 0, 1)
FQ_AVX_DEFINE_GEMV_32(q8_0, 34, 1, 0)
