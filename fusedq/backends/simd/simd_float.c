/* AVX2 dots of the float weight types F32, F16 (F16C conversion) and BF16 (shift into the top
 * half of a float). Float weights take f32 activations in both modes. */
#include "avx2_common.h"
#include "simd_kernels.h"

enum { FQ_W_F32, FQ_W_F16, FQ_W_BF16 };

FQ_AVX_INLINE __m256 fq_avx_load8(const int kind, const uint8_t *w, int64_t i) {
    if (kind == FQ_W_F32) return _mm256_loadu_ps((const float *)w + i);
    const __m128i h = _mm_loadu_si128((const __m128i *)(w + 2 * i));
    if (kind == FQ_W_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

FQ_AVX_INLINE float fq_avx_load1(const int kind, const uint8_t *w, int64_t i) {
    if (kind == FQ_W_F32) {
        float f;
        memcpy(&f, w + 4 * i, 4);
        return f;
    }
    const uint16_t h = fq_load_u16(w + 2 * i);
    return kind == FQ_W_F16 ? _cvtsh_ss(h) : fq_bf16_to_float(h);
}

FQ_AVX_INLINE void fq_avx_dot_float(const int kind, const uint8_t *w, int64_t n, const float *x,
                                    int64_t xs, float *out, int64_t os, const int nx) {
    __m256 acc[FQ_MAX_COLS];
    float tail[FQ_MAX_COLS];
    for (int j = 0; j < nx; j++) acc[j] = _mm256_setzero_ps(), tail[j] = 0.0f;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 wv = fq_avx_load8(kind, w, i);
        for (int j = 0; j < nx; j++) acc[j] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + j * xs + i), acc[j]);
    }
    for (; i < n; i++) {
        const float wf = fq_avx_load1(kind, w, i);
        for (int j = 0; j < nx; j++) tail[j] += wf * x[j * xs + i];
    }
    for (int j = 0; j < nx; j++) out[j * os] = fq_avx_hsum(acc[j]) + tail[j];
}

#define FQ_FLOAT_CASE(kind, N)                                                                     \
    case N:                                                                                      \
        fq_avx_dot_float(kind, w, n, x, xs, out, os, N);                                         \
        break;
#define FQ_AVX_DEFINE_FLOAT_DOT(name, kind)                                                        \
    void fq_avx2_dot_f32_##name(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx, \
                                float *out, int64_t os) {                                        \
        switch (nx) {                                                                            \
            FQ_FLOAT_CASE(kind, 1) FQ_FLOAT_CASE(kind, 2) FQ_FLOAT_CASE(kind, 3)                 \
            FQ_FLOAT_CASE(kind, 4) FQ_FLOAT_CASE(kind, 5) FQ_FLOAT_CASE(kind, 6)                 \
            FQ_FLOAT_CASE(kind, 7) FQ_FLOAT_CASE(kind, 8)                                        \
        }                                                                                        \
    }

FQ_AVX_DEFINE_FLOAT_DOT(f32, FQ_W_F32)
FQ_AVX_DEFINE_FLOAT_DOT(f16, FQ_W_F16)
FQ_AVX_DEFINE_FLOAT_DOT(bf16, FQ_W_BF16)
