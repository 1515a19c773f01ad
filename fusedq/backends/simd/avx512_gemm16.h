/* q8 GEMM tiles of 16 rows in zmm registers (AVX-512 build only; included by avx2_gemm.h).
 *
 * This CPU kind issues two 512-bit vpdpbusd per cycle, as many as 256-bit ones: a 16-row tile
 * does twice the multiply-adds per instruction, and every other instruction of the loop (the
 * activation broadcasts, the scale multiplies, the block-scale FMAs) serves 16 rows instead of 8.
 * The rows are packed as two 8-row tiles with the AVX2 code (fq_gemm_pack32 / fq_gemm_packK)
 * and merged: lanes 0-7 of every vector are rows 0-7, lanes 8-15 rows 8-15. Each lane then runs
 * the integer sums and float operations of the 8-row tile in the same order, so the results are
 * the AVX2 build's bits. */
#ifndef FQ_AVX512_GEMM16_H
#define FQ_AVX512_GEMM16_H

#define FQ_TILE16_K FQ_TILE_K /* the 8-row tiles' chunk: the same sums per output */

typedef struct {
    __m512i q[FQ_TILE16_K / 4];
    __m512i sc[FQ_TILE16_K / 16];
    __m512i mn[FQ_TILE16_K / 32];
    __m512 d[FQ_TILE16_K / 32];
    __m512 m[FQ_TILE16_K / 32];
} fq_gemm_tile16;

/* Vectors [0, count) of an 8-row tile into the low (half 0) or high (half 1) lanes. */
FQ_AVX_INLINE void fq_gemm_merge_int(__m512i *dst, const __m256i *src, int count, int half) {
    for (int v = 0; v < count; v++)
        dst[v] = half ? _mm512_inserti64x4(dst[v], src[v], 1) : _mm512_castsi256_si512(src[v]);
}
FQ_AVX_INLINE void fq_gemm_merge_float(__m512 *dst, const __m256 *src, int count, int half) {
    for (int v = 0; v < count; v++)
        dst[v] = half ? _mm512_insertf32x8(dst[v], src[v], 1) : _mm512_castps256_ps512(src[v]);
}

/* Scale vectors per block (the 32-blocks keep theirs in d and m). */
#define FQ_GEMM_SCALES_32 0
#define FQ_GEMM_SCALES_K 16

/* Rows 0..nrows-1 (<= 16), blocks b0 .. b0 + nblk, packed by the family's 8-row packer. */
#define FQ_GEMM_PACK16(FAMILY, unpack, ts, signed_q, w, row_bytes, nrows, b0, nblk, t8, t)       \
    for (int half = 0; half < 2; half++) {                                                       \
        const int rows8 = (nrows) - 8 * half < 0 ? 0 : (nrows) - 8 * half > 8 ? 8 : (nrows) - 8 * half; \
        fq_gemm_pack##FAMILY(unpack, ts, signed_q, (w) + 8 * half * (row_bytes), row_bytes, rows8, b0, \
                             nblk, t8);                                                          \
        fq_gemm_merge_int((t)->q, (t8)->q, FQ_GEMM_BLOCK_##FAMILY / 4 * (nblk), half);           \
        fq_gemm_merge_int((t)->sc, (t8)->sc, FQ_GEMM_SCALES_##FAMILY * (nblk), half);            \
        fq_gemm_merge_int((t)->mn, (t8)->mn, FQ_GEMM_SCALES_##FAMILY / 2 * (nblk), half);        \
        fq_gemm_merge_float((t)->d, (t8)->d, nblk, half);                                        \
        fq_gemm_merge_float((t)->m, (t8)->m, nblk, half);                                        \
    }

/* fq_gemm_dot_run's VNNI form over 16 lanes. */
FQ_AVX_INLINE void fq_gemm_dot_run16(const fq_gemm_tile16 *t, int v0, const int count, const int depth,
                                     const int signed_q, const int8_t *const *x, const __m512i *scale,
                                     __m512i *isum, const int NC) {
    __m512i s32[FQ_GEMM_PASS];
    for (int j = 0; j < NC; j++) s32[j] = _mm512_setzero_si512();
    for (int v = 0; v < count; v++) {
        const __m512i q = _mm512_load_si512(t->q + v0 + v);
        const __m512i a = signed_q ? _mm512_abs_epi8(q) : q;
        const __mmask64 negative = signed_q ? _mm512_movepi8_mask(q) : 0;
        for (int j = 0; j < NC; j++) {
            int32_t four;
            memcpy(&four, x[j] + 4 * v, 4);
            __m512i xb = _mm512_set1_epi32(four);
            if (signed_q) xb = _mm512_mask_sub_epi8(xb, negative, _mm512_setzero_si512(), xb);
            s32[j] = _mm512_dpbusd_epi32(s32[j], a, xb);
        }
    }
    const int fits16 = 2 * count <= depth;
    const __m512i sc32 = !scale ? _mm512_setzero_si512()
                         : fits16 ? _mm512_and_si512(*scale, _mm512_set1_epi32(0xffff))
                                  : _mm512_srai_epi32(*scale, 16);
    for (int j = 0; j < NC; j++)
        isum[j] = _mm512_add_epi32(isum[j], !scale ? s32[j]
                                            : fits16 ? _mm512_madd_epi16(s32[j], sc32)
                                                     : _mm512_mullo_epi32(s32[j], sc32));
}

/* fq_gemm_start and fq_gemm_store over 16 lanes. */
FQ_AVX_INLINE void fq_gemm_start16(__m512 *acc, int accumulate, const float *out, int64_t os,
                                   int nrows, const int NC) {
    for (int j = 0; j < NC; j++) {
        const float *o = out + j * os;
        if (!accumulate) {
            acc[j] = _mm512_setzero_ps();
        } else if (nrows == 16) {
            acc[j] = _mm512_loadu_ps(o);
        } else {
            float tmp[16] = {0};
            for (int r = 0; r < nrows; r++) tmp[r] = o[r];
            acc[j] = _mm512_loadu_ps(tmp);
        }
    }
}

FQ_AVX_INLINE void fq_gemm_store16(const __m512 *acc, float *out, int64_t os, int nrows, const int NC) {
    for (int j = 0; j < NC; j++) {
        float *o = out + j * os;
        if (nrows == 16) {
            _mm512_storeu_ps(o, acc[j]);
        } else {
            float tmp[16];
            _mm512_storeu_ps(tmp, acc[j]);
            for (int r = 0; r < nrows; r++) o[r] = tmp[r];
        }
    }
}

/* fq_gemm_run32 over 16 lanes. */
FQ_AVX_INLINE void fq_gemm_run32_16(const fq_gemm_tile16 *t, int nblk, int64_t b0, const int G,
                                    const int signed_q, const int has_min, const int depth,
                                    const uint8_t *xq, int64_t xs, float *out, int64_t os, int nrows,
                                    int accumulate, const int NC) {
    (void)G;
    __m512 acc[FQ_GEMM_PASS];
    fq_gemm_start16(acc, accumulate, out, os, nrows, NC);
    for (int b = 0; b < nblk; b++) {
        const fq_q8_32 *y[FQ_GEMM_PASS];
        const int8_t *x[FQ_GEMM_PASS];
        __m512i isum[FQ_GEMM_PASS];
        for (int j = 0; j < NC; j++) {
            y[j] = (const fq_q8_32 *)(xq + j * xs) + b0 + b;
            x[j] = y[j]->qs;
            isum[j] = _mm512_setzero_si512();
        }
        fq_gemm_dot_run16(t, 8 * b, 8, depth, signed_q, x, NULL, isum, NC);
        for (int j = 0; j < NC; j++) {
            const __m512 dd = _mm512_mul_ps(t->d[b], _mm512_set1_ps(y[j]->d));
            acc[j] = _mm512_fmadd_ps(dd, _mm512_cvtepi32_ps(isum[j]), acc[j]);
            if (has_min) acc[j] = _mm512_fmadd_ps(t->m[b], _mm512_set1_ps(y[j]->s), acc[j]);
        }
    }
    fq_gemm_store16(acc, out, os, nrows, NC);
}

/* fq_gemm_runK over 16 lanes. */
FQ_AVX_INLINE void fq_gemm_runK_16(const fq_gemm_tile16 *t, int nblk, int64_t b0, const int G,
                                   const int signed_q, const int has_min, const int depth,
                                   const uint8_t *xq, int64_t xs, float *out, int64_t os, int nrows,
                                   int accumulate, const int NC) {
    const int offset = FQ_K_OFFSET_Q && signed_q;
    __m512 acc[FQ_GEMM_PASS];
    fq_gemm_start16(acc, accumulate, out, os, nrows, NC);
    for (int b = 0; b < nblk; b++) {
        const fq_q8_K *y[FQ_GEMM_PASS];
        const int8_t *x[FQ_GEMM_PASS];
        __m512i isum[FQ_GEMM_PASS], imin[FQ_GEMM_PASS];
        for (int j = 0; j < NC; j++) {
            y[j] = (const fq_q8_K *)(xq + j * xs) + b0 + b;
            isum[j] = _mm512_setzero_si512();
        }
        for (int g = 0; g < 16; g += G / 16) {
            for (int j = 0; j < NC; j++) x[j] = y[j]->qs + 16 * g;
            fq_gemm_dot_run16(t, 64 * b + 4 * g, G / 4, depth, signed_q && !offset, x, &t->sc[16 * b + g], isum, NC);
        }
        if (has_min || offset) {
            for (int j = 0; j < NC; j++) imin[j] = _mm512_setzero_si512();
            for (int p = 0; p < 8; p++) {
                const __m512i mn = t->mn[8 * b + p];
                for (int j = 0; j < NC; j++) {
                    int32_t two;
                    memcpy(&two, y[j]->bsums + 2 * p, 4);
                    imin[j] = _mm512_add_epi32(imin[j], _mm512_madd_epi16(mn, _mm512_set1_epi32(two)));
                }
            }
        }
        for (int j = 0; j < NC; j++) {
            const __m512 dy = _mm512_set1_ps(y[j]->d);
            const __m512i is = offset ? _mm512_sub_epi32(isum[j], imin[j]) : isum[j];
            acc[j] = _mm512_fmadd_ps(_mm512_mul_ps(t->d[b], dy), _mm512_cvtepi32_ps(is), acc[j]);
            if (has_min)
                acc[j] = _mm512_fnmadd_ps(_mm512_mul_ps(t->m[b], dy), _mm512_cvtepi32_ps(imin[j]), acc[j]);
        }
    }
    fq_gemm_store16(acc, out, os, nrows, NC);
}

#endif
