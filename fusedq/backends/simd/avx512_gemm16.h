/* q8 GEMM tiles of 16 rows in zmm registers (AVX-512 build only; included by avx2_gemm.h).
 *
 * This CPU kind issues two 512-bit vpdpbusd per cycle, as many as 256-bit ones: a 16-row tile
 * does twice the multiply-adds per instruction, and every other instruction of the loop (the
 * activation broadcasts, the scale multiplies, the block-scale FMAs) serves 16 rows instead of 8.
 * The rows are packed as two 8-row tiles with the AVX2 code (fq_gemm_pack32 / fq_gemm_packK)
 * and merged: lanes 0-7 of every vector are rows 0-7, lanes 8-15 rows 8-15. The passes over the
 * columns are gemm_run.h's, as for 8 rows: each lane runs the integer sums and float operations
 * of the 8-row tile in the same order, so the results are the AVX2 build's bits. */
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
#define FQ_GEMM_PACK16(FAMILY, name, ts, signed_q, w, row_bytes, nrows, b0, nblk, t8, t)         \
    for (int half = 0; half < 2; half++) {                                                       \
        const int left = (nrows) - 8 * half; /* rows of this half: 0..8 */                      \
        const int rows8 = left < 0 ? 0 : left > 8 ? 8 : left;                                    \
        fq_gemm_pack##FAMILY(FQ_GEMM_DECODERS_##FAMILY(name), ts, signed_q,                      \
                             (w) + 8 * half * (row_bytes), row_bytes,                            \
                             rows8, b0, nblk, t8);                                               \
        fq_gemm_merge_int((t)->q, (t8)->q, FQ_GEMM_BLOCK_##FAMILY / 4 * (nblk), half);           \
        fq_gemm_merge_int((t)->sc, (t8)->sc, FQ_GEMM_SCALES_##FAMILY * (nblk), half);            \
        fq_gemm_merge_int((t)->mn, (t8)->mn, FQ_GEMM_SCALES_##FAMILY / 2 * (nblk), half);        \
        fq_gemm_merge_float((t)->d, (t8)->d, nblk, half);                                        \
        fq_gemm_merge_float((t)->m, (t8)->m, nblk, half);                                        \
    }

FQ_AVX_INLINE __m512i fq_gemm_bcast4_16(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* fq_gemm_dot_run's VNNI form over 16 lanes. */
FQ_AVX_INLINE void fq_gemm_dot_run16(const fq_gemm_tile16 *t, int v0, const int count, const int depth,
                                     const int signed_q, const int8_t *const *x, const __m512i *scale,
                                     __m512i *isum, const int NC) {
    const int run = FQ_GEMM_SCALE_RUN(count, depth);
    const int fits16 = 2 * run <= depth;
    const __m512i sc32 = !scale ? _mm512_setzero_si512()
                         : fits16 ? _mm512_and_si512(*scale, _mm512_set1_epi32(0xffff))
                                  : _mm512_srai_epi32(*scale, 16);
    for (int v1 = 0; v1 < count; v1 += run) {
        __m512i s32[FQ_GEMM_PASS];
        for (int j = 0; j < NC; j++) s32[j] = _mm512_setzero_si512();
        for (int v = v1; v < v1 + run; v++) {
            const __m512i q = _mm512_load_si512(t->q + v0 + v);
            const __m512i a = signed_q ? _mm512_abs_epi8(q) : q;
            const __mmask64 negative = signed_q ? _mm512_movepi8_mask(q) : 0;
            for (int j = 0; j < NC; j++) {
                __m512i xb = fq_gemm_bcast4_16(x[j] + 4 * v);
                if (signed_q) xb = _mm512_mask_sub_epi8(xb, negative, _mm512_setzero_si512(), xb);
                s32[j] = _mm512_dpbusd_epi32(s32[j], a, xb);
            }
        }
        for (int j = 0; j < NC; j++)
            isum[j] = !scale ? _mm512_add_epi32(isum[j], s32[j])
                      : fits16 ? _mm512_dpwssd_epi32(isum[j], s32[j], sc32)
                               : _mm512_add_epi32(isum[j], _mm512_mullo_epi32(s32[j], sc32));
    }
}

/* fq_gemm_start_16, fq_gemm_store_16, fq_gemm_run32_16, fq_gemm_runK_16 */
#define FQ_GR_LANES 16
#define FQ_GR_TILE fq_gemm_tile16
#define FQ_GR_F __m512
#define FQ_GR_I __m512i
#define FQ_GR_V(op) _mm512_##op
#define FQ_GR_ZERO_I _mm512_setzero_si512
#define FQ_GR_FN(f) f##_16
#define FQ_GR_DOT_RUN fq_gemm_dot_run16
#define FQ_GR_BCAST4 fq_gemm_bcast4_16
#include "gemm_run.h"

#endif
