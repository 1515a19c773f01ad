/* AVX-512 build: weight rows decoded to their exact floats in zmm registers (d q (+ m),
 * d sc q - dmin mn, one rounding each) by the zmm GEMV's per-type decoders (avx512_gemv_f32.h),
 * 256 values at a time, each 32 handed to a sink: the f32 GEMM's float tile (avx2_qgemm_f32.h) or
 * the AMX GEMM's bf16 parts (amx_gemm_f32.h). And the per-type definitions of both GEMMs over
 * them (FQ_Z_DEFINE_GEMMS_*, one line per type beside its decoders). */
#ifndef FQ_AVX512_ZDECODE_H
#define FQ_AVX512_ZDECODE_H

#include "avx2_common.h"

#if FQ_SIMD_AVX512
#include "avx512_gemv_f32.h"

/* sink(dst, r, b, v0, v1): values 32 b .. 32 b + 31 of row r (v0: the first 16). */
typedef void (*fq_zdec_sink_fn)(void *dst, int r, int64_t b, __m512 v0, __m512 v1);

/* nblk <= 8 blocks of 32. */
FQ_AVX_INLINE void fq_zdec_32(fq_z_vals32_fn vals, const int ts, const int has_min, const uint8_t *w,
                              int nblk, fq_zdec_sink_fn sink, void *dst, int r) {
    float d[16] __attribute__((aligned(64))), m[16] __attribute__((aligned(64)));
    __m512 mv;
    _mm512_store_ps(d, fq_z_block_halves(w, ts, nblk, has_min ? &mv : NULL));
    if (has_min) _mm512_store_ps(m, mv);
#pragma GCC unroll 8
    for (int b = 0; b < 8; b++) {
        if (b == nblk) break;
        __m512 lo, hi;
        vals(w + b * ts, &lo, &hi);
        const __m512 dv = _mm512_set1_ps(d[b]);
        if (has_min) {
            const __m512 mb = _mm512_set1_ps(m[b]);
            sink(dst, r, b, _mm512_fmadd_ps(dv, lo, mb), _mm512_fmadd_ps(dv, hi, mb));
        } else {
            sink(dst, r, b, _mm512_mul_ps(dv, lo), _mm512_mul_ps(dv, hi));
        }
    }
}

/* One 256-block in natural order (zkvals: ZV groups of 16 per pass, G values per scale). */
FQ_AVX_INLINE void fq_zdec_K(fq_z_kscales_fn kscales, fq_z_kvals_fn kvals, const int ZV, const int G,
                             const int has_min, const uint8_t *w, fq_zdec_sink_fn sink, void *dst, int r) {
    float dsc[16] __attribute__((aligned(64))), dmn[16] __attribute__((aligned(64)));
    kscales(w, dsc, dmn);
#pragma GCC unroll 16
    for (int p = 0; p < 16 / ZV; p++) {
        __m512 v[16];
        kvals(w, p, v);
#pragma GCC unroll 16
        for (int k = 0; k < ZV; k += 2) {
            const int g = ZV * p + k;
            const __m512 s0 = _mm512_set1_ps(dsc[g / (G / 16)]), s1 = _mm512_set1_ps(dsc[(g + 1) / (G / 16)]);
            const __m512 m0 = _mm512_set1_ps(has_min ? dmn[g] : 0.0f), m1 = _mm512_set1_ps(has_min ? dmn[g + 1] : 0.0f);
            sink(dst, r, g / 2, _mm512_fmsub_ps(s0, v[k], m0), _mm512_fmsub_ps(s1, v[k + 1], m1));
        }
    }
}

/* One 256-block of a type whose zmm decoders give FQ_X_WORDS16 order (zwvals, zwscales: Q2_K,
 * Q3_K, Q6_K), handed on in that order: its readers take x in that order too (gemv_x_order).
 * Putting them back in natural order for the FMA tiles (a 4 x 4 transpose in each 128-bit lane,
 * then one of the lanes: 16 shuffles per 64 values) made Q2_K's n = 8 GEMM 1.54 ms, 1.07 this way. */
FQ_AVX_INLINE void fq_zdec_words(fq_z_wscales_fn wscales, fq_z_wvals_fn wvals, const uint8_t *w,
                                 fq_zdec_sink_fn sink, void *dst, int r) {
    const __m512i group = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 8, 8, 8, 8, 9, 9, 9, 9);
    __m512 dsc, dmn;
    wscales(w, &dsc, &dmn);
#pragma GCC unroll 4
    for (int f = 0; f < 4; f++) {
        __m512 v[4];
        wvals(w, f, v);
        const __m512i g = _mm512_add_epi32(group, _mm512_set1_epi32(2 * f));
        const __m512 sc = _mm512_permutexvar_ps(g, dsc), mn = _mm512_permutexvar_ps(g, dmn);
        for (int o = 0; o < 4; o++) v[o] = _mm512_fmsub_ps(sc, v[o], mn);
        sink(dst, r, 2 * f, v[0], v[1]);
        sink(dst, r, 2 * f + 1, v[2], v[3]);
    }
}

/* The float sink: dst = the row's floats. */
FQ_AVX_INLINE void fq_zdec_floats(void *dst, int r, int64_t b, __m512 v0, __m512 v1) {
    (void)r;
    _mm512_storeu_ps((float *)dst + 32 * b, v0);
    _mm512_storeu_ps((float *)dst + 32 * b + 16, v1);
}

#include "amx_gemm_f32.h"

/* Both f32 GEMMs of one type: gemm_f32 (FMA tiles over rows decoded to floats, fq_qgemm_f32) and
 * gemm_bf16x3 (AMX tiles), both with the values (and x) in the type's gemv_x_order. ROW: a
 * statement decoding nblk blocks at w to floats at dst; UNIT: one 256-value unit of row r at w
 * into the A tiles a (nblk blocks of 32 for the 32-blocks). */
#define FQ_Z_DEFINE_GEMMS(name, bs, ts, ROW, UNIT)                                                 \
    static void fq_zrow_##name(const uint8_t *w, int64_t nblk, float *dst) { ROW; }              \
    void FQ_SIMD_FN(gemm_f32_##name)(const uint8_t *w, int64_t row_bytes, int nrows, int64_t nb,  \
                                 const float *x, int64_t xs, int64_t n, float *out, int64_t os) { \
        fq_qgemm_f32(fq_zrow_##name, bs, ts, w, row_bytes, nrows, nb, x, xs, n, out, os);        \
    }                                                                                            \
    FQ_AMX_DEFINE_GEMM(name, bs, ts, UNIT)
#define FQ_Z_DEFINE_GEMMS_32(name, ts, HAS_MIN)                                                    \
    FQ_Z_DEFINE_GEMMS(name, 32, ts,                                                              \
        for (int64_t b = 0; b < nblk; b += 8)                                                    \
            fq_zdec_32(fq_z_vals32_##name, ts, HAS_MIN, w + b * ts, nblk - b < 8 ? (int)(nblk - b) : 8, \
                       fq_zdec_floats, dst + 32 * b, 0),                                         \
        fq_zdec_32(fq_z_vals32_##name, ts, HAS_MIN, w, nblk, fq_amx_sink, a, r))
#define FQ_Z_DEFINE_GEMMS_K(name, ts, HAS_MIN)                                                     \
    FQ_Z_DEFINE_GEMMS(name, 256, ts,                                                             \
        for (int64_t b = 0; b < nblk; b++)                                                       \
            fq_zdec_K(fq_z_kscales_##name, fq_z_kvals_##name, fq_z_kv_##name, fq_avx_kg_##name,  \
                      HAS_MIN, w + b * ts, fq_zdec_floats, dst + 256 * b, 0),                    \
        fq_zdec_K(fq_z_kscales_##name, fq_z_kvals_##name, fq_z_kv_##name, fq_avx_kg_##name,      \
                  HAS_MIN, w, fq_amx_sink, a, r))
#define FQ_Z_DEFINE_GEMMS_WORDS(name, ts)                                                          \
    FQ_Z_DEFINE_GEMMS(name, 256, ts,                                                             \
        for (int64_t b = 0; b < nblk; b++)                                                       \
            fq_zdec_words(fq_z_wscales_##name, fq_z_wvals_##name, w + b * ts, fq_zdec_floats,    \
                          dst + 256 * b, 0),                                                     \
        fq_zdec_words(fq_z_wscales_##name, fq_z_wvals_##name, w, fq_amx_sink, a, r))

#else /* the AVX2 build: gemm_f32 comes with FQ_AVX_DEFINE_GEMM (AVX2 decoders), no AMX */
#define FQ_Z_DEFINE_GEMMS_32(name, ts, HAS_MIN)
#define FQ_Z_DEFINE_GEMMS_K(name, ts, HAS_MIN)
#define FQ_Z_DEFINE_GEMMS_WORDS(name, ts)
#endif

#endif
