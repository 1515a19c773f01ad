/* AVX2 decoders of the K-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks). q is
 * kept unsigned (offsets of Q3_K/Q6_K folded into the mins, see unpack_generic.h), so the shared
 * dot loops of avx2_common.h feed it to maddubs directly; every q <= 63 (no saturation). */
#include "avx2_gemm.h"
#include "avx2_gemv.h"
#include "simd_kernels.h"

FQ_AVX_INLINE __m256i fq_avx_bits2(__m256i v, int shift) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(3));
}

/* Each type gives its block in two parts, used by the GEMM packer (tiles), the q8 block sums
 * (GEMV, dots; q stays in registers) and the f32 scales:
 *   kmeta(blk, sc, mn, d, dmin): scales and mins as int16 (G values per scale, see avx2_common.h);
 *   kq(blk, c):                  q of values 32c .. 32c+31 as bytes. */
enum { fq_avx_kg_q2_K = 16, fq_avx_kg_q3_K = 16, fq_avx_kg_q4_K = 32, fq_avx_kg_q5_K = 32, fq_avx_kg_q6_K = 16 };
/* The largest q kq gives. */
enum { fq_avx_kqmax_q2_K = 3, fq_avx_kqmax_q3_K = 7, fq_avx_kqmax_q4_K = 15, fq_avx_kqmax_q5_K = 31, fq_avx_kqmax_q6_K = 63 };

FQ_AVX_INLINE void fq_avx_kmeta_q2_K(const uint8_t *p, __m256i *sc, __m256i *mn, float *d, float *dmin) {
    const block_q2_K *x = (const block_q2_K *)p;
    const __m256i s16 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
    *sc = _mm256_and_si256(s16, _mm256_set1_epi16(15));
    *mn = _mm256_srli_epi16(s16, 4);
    *d = fq_avx_half(&x->d);
    *dmin = fq_avx_half(&x->dmin);
}

/* value 128h + 32s + i: bits 2s, 2s+1 of qs[32h + i] */
FQ_AVX_INLINE __m256i fq_avx_kq_q2_K(const uint8_t *p, int c) {
    const block_q2_K *x = (const block_q2_K *)p;
    return fq_avx_bits2(_mm256_loadu_si256((const __m256i *)(x->qs + 32 * (c >> 2))), 2 * (c & 3));
}

/* The 16 six-bit scales of Q3_K as bytes (0..63, the 32 not yet subtracted). */
FQ_AVX_INLINE __m128i fq_avx_q3_K_scale_bytes(const uint8_t *scales) {
    uint32_t a[3];
    memcpy(a, scales, 12);
    const uint32_t lo4 = 0x0f0f0f0fu, lo2 = 0x03030303u;
    return _mm_setr_epi32((int)((a[0] & lo4) | ((a[2] & lo2) << 4)),
                          (int)((a[1] & lo4) | (((a[2] >> 2) & lo2) << 4)),
                          (int)(((a[0] >> 4) & lo4) | (((a[2] >> 4) & lo2) << 4)),
                          (int)(((a[1] >> 4) & lo4) | (((a[2] >> 6) & lo2) << 4)));
}

/* The 16 six-bit scales of Q3_K (minus 32) as int16. */
FQ_AVX_INLINE __m256i fq_avx_q3_K_scales(const uint8_t *scales) {
    return _mm256_sub_epi16(_mm256_cvtepu8_epi16(fq_avx_q3_K_scale_bytes(scales)), _mm256_set1_epi16(32));
}

FQ_AVX_INLINE void fq_avx_kmeta_q3_K(const uint8_t *p, __m256i *sc, __m256i *mn, float *d, float *dmin) {
    const block_q3_K *x = (const block_q3_K *)p;
    *sc = fq_avx_q3_K_scales(x->scales);
    *mn = _mm256_slli_epi16(*sc, 2);
    *d = *dmin = fq_avx_half(&x->d);
}

/* value 128h + 32s + i: bits 2s, 2s+1 of qs[32h + i], plus 4 * bit (4h + s) of hmask[i] */
FQ_AVX_INLINE __m256i fq_avx_kq_q3_K(const uint8_t *p, int c) {
    const block_q3_K *x = (const block_q3_K *)p;
    const int h = c >> 2, s = c & 3;
    const __m256i hm = _mm256_loadu_si256((const __m256i *)x->hmask);
    const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + s), _mm256_set1_epi8(1));
    const __m256i ql = fq_avx_bits2(_mm256_loadu_si256((const __m256i *)(x->qs + 32 * h)), 2 * s);
    return _mm256_or_si256(ql, _mm256_slli_epi16(hb, 2));
}

/* The 8 six-bit scales of Q4_K/Q5_K (in both halves, G = 32) and their 8 mins twice (per 16),
 * from the block's first 16 bytes (d, dmin, then scales s[0..11] at bytes 4..15). For j < 4,
 * sc_j = s[j] & 63 and mn_j = s[j+4] & 63; for j >= 4 the low 4 bits come from s[j+4] (low and
 * high nibble) and the top 2 from the top bits of s[j-4] and s[j]. Two byte shuffles gather the
 * low and high parts of all 16 at once (scalar unpacking cost ~25 instructions per block). */
FQ_AVX_INLINE void fq_avx_k_scales(const uint8_t *head, __m256i *sc, __m256i *mn) {
    const __m128i v = _mm_loadu_si128((const __m128i *)head);
    /* bytes 0-7: sc_0..7, bytes 8-15: mn_0..7 */
    const __m128i lo_src = _mm_shuffle_epi8(v, _mm_setr_epi8(4, 5, 6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15));
    const __m128i lo_nib = _mm_blend_epi32(lo_src, _mm_srli_epi16(lo_src, 4), 0x8); /* mn_4..7: high nibble */
    const __m128i lo = _mm_and_si128(lo_nib, _mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15));
    const __m128i hi_src = _mm_shuffle_epi8(v, _mm_setr_epi8(-1, -1, -1, -1, 4, 5, 6, 7, -1, -1, -1, -1, 8, 9, 10, 11));
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(hi_src, 2), _mm_set1_epi8(0x30));
    const __m128i both = _mm_or_si128(lo, hi);
    *sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(both));
    *mn = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(both, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)));
}

FQ_AVX_INLINE void fq_avx_kmeta_q4_K(const uint8_t *p, __m256i *sc, __m256i *mn, float *d, float *dmin) {
    const block_q4_K *x = (const block_q4_K *)p;
    fq_avx_k_scales(p, sc, mn);
    *d = fq_avx_half(&x->d);
    *dmin = fq_avx_half(&x->dmin);
}

/* value 64k + i: low nibble of qs[32k + i]; 64k + 32 + i: its high nibble */
FQ_AVX_INLINE __m256i fq_avx_kq_q4_K(const uint8_t *p, int c) {
    const block_q4_K *x = (const block_q4_K *)p;
    const __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * (c >> 1)));
    return _mm256_and_si256(c & 1 ? _mm256_srli_epi16(v, 4) : v, _mm256_set1_epi8(15));
}

FQ_AVX_INLINE void fq_avx_kmeta_q5_K(const uint8_t *p, __m256i *sc, __m256i *mn, float *d, float *dmin) {
    const block_q5_K *x = (const block_q5_K *)p;
    fq_avx_k_scales(p, sc, mn);
    *d = fq_avx_half(&x->d);
    *dmin = fq_avx_half(&x->dmin);
}

/* as Q4_K, plus 16 * bit c of qh[i] */
FQ_AVX_INLINE __m256i fq_avx_kq_q5_K(const uint8_t *p, int c) {
    const block_q5_K *x = (const block_q5_K *)p;
    const __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * (c >> 1)));
    const __m256i hv = _mm256_loadu_si256((const __m256i *)x->qh);
    const __m256i lo = _mm256_and_si256(c & 1 ? _mm256_srli_epi16(v, 4) : v, _mm256_set1_epi8(15));
    const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hv, c), _mm256_set1_epi8(1));
    return _mm256_or_si256(lo, _mm256_slli_epi16(hb, 4));
}

FQ_AVX_INLINE void fq_avx_kmeta_q6_K(const uint8_t *p, __m256i *sc, __m256i *mn, float *d, float *dmin) {
    const block_q6_K *x = (const block_q6_K *)p;
    *sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
    *mn = _mm256_slli_epi16(*sc, 5);
    *d = *dmin = fq_avx_half(&x->d);
}

/* value 128h + 32s + i: nibble (s >> 1) of ql[64h + 32(s & 1) + i] | bits 2s, 2s+1 of
 * qh[32h + i] at 4, 5 */
FQ_AVX_INLINE __m256i fq_avx_kq_q6_K(const uint8_t *p, int c) {
    const block_q6_K *x = (const block_q6_K *)p;
    const int h = c >> 2, s = c & 3;
    const __m256i l = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h + 32 * (s & 1)));
    const __m256i lo = _mm256_and_si256(s >> 1 ? _mm256_srli_epi16(l, 4) : l, _mm256_set1_epi8(15));
    const __m256i hv = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
    /* bits 2s, 2s+1 of qh moved straight to bits 4, 5 (one shift, one mask) */
    const __m256i hs = s < 2 ? _mm256_slli_epi16(hv, 4 - 2 * s) : s == 2 ? hv : _mm256_srli_epi16(hv, 2);
    return _mm256_or_si256(lo, _mm256_and_si256(hs, _mm256_set1_epi8(0x30)));
}

FQ_AVX_K_FROM_META(q2_K, 0, 1)
FQ_AVX_K_FROM_META(q3_K, 0, 1)
FQ_AVX_K_FROM_META(q4_K, 0, 1)
FQ_AVX_K_FROM_META(q5_K, 0, 1)
FQ_AVX_K_FROM_META(q6_K, 0, 1)

/* ---- f32 mode: bytes straight to floats (the kscales/kfloats contract of avx2_common.h) ---- */

/* V: sub-blocks of 32 decoded per pass. */
enum { fq_avx_kv_q2_K = 4, fq_avx_kv_q3_K = 4, fq_avx_kv_q4_K = 2, fq_avx_kv_q5_K = 2, fq_avx_kv_q6_K = 4 };

FQ_AVX_INLINE void fq_avx_kfloats_q2_K(const uint8_t *p, int h, int half, __m256 w[2][4]) {
    const block_q2_K *x = (const block_q2_K *)p;
    const __m256 two_bits = _mm256_setr_ps(0, 1, 2, 3, 0, 1, 2, 3); /* t[v & 7] = v & 3 */
    for (int k = 0; k < 2; k++) {
        const __m256i v = fq_avx_u8x8(x->qs + 32 * h + 16 * half + 8 * k);
        for (int s = 0; s < 4; s++) w[k][s] = fq_avx_tab8_ps(two_bits, _mm256_srli_epi32(v, 2 * s));
    }
}

FQ_AVX_INLINE void fq_avx_kfloats_q3_K(const uint8_t *p, int h, int half, __m256 w[2][4]) {
    const block_q3_K *x = (const block_q3_K *)p;
    const __m256i m2 = _mm256_set1_epi32(3), four = _mm256_set1_epi32(4);
    for (int k = 0; k < 2; k++) {
        const int i = 16 * half + 8 * k;
        const __m256i v = fq_avx_u8x8(x->qs + 32 * h + i);
        const __m256i hm = _mm256_slli_epi32(fq_avx_u8x8(x->hmask + i), 2); /* bit b at b+2 */
        for (int s = 0; s < 4; s++) {
            const __m256i hb = _mm256_and_si256(_mm256_srli_epi32(hm, 4 * h + s), four);
            w[k][s] = _mm256_cvtepi32_ps(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(v, 2 * s), m2), hb));
        }
    }
}

/* pass c: bytes qs[32c + i] hold value 64c + i (low nibble) and 64c + 32 + i (high nibble). */
FQ_AVX_INLINE void fq_avx_kfloats_q4_K(const uint8_t *p, int c, int half, __m256 w[2][4]) {
    const block_q4_K *x = (const block_q4_K *)p;
    const __m256i m4 = _mm256_set1_epi32(15);
    for (int k = 0; k < 2; k++) {
        const __m256i v = fq_avx_u8x8(x->qs + 32 * c + 16 * half + 8 * k);
        w[k][0] = _mm256_cvtepi32_ps(_mm256_and_si256(v, m4));
        w[k][1] = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
    }
}

/* as Q4_K, plus the fifth bit: bit j of qh[i] for sub-block j. */
FQ_AVX_INLINE void fq_avx_kfloats_q5_K(const uint8_t *p, int c, int half, __m256 w[2][4]) {
    const block_q5_K *x = (const block_q5_K *)p;
    const __m256i m4 = _mm256_set1_epi32(15), b4 = _mm256_set1_epi32(16);
    for (int k = 0; k < 2; k++) {
        const int i = 16 * half + 8 * k;
        const __m256i v = fq_avx_u8x8(x->qs + 32 * c + i);
        const __m256i hq = _mm256_slli_epi32(fq_avx_u8x8(x->qh + i), 4); /* bit b at b+4 */
        const __m256i h_lo = _mm256_and_si256(_mm256_srli_epi32(hq, 2 * c), b4);
        const __m256i h_hi = _mm256_and_si256(_mm256_srli_epi32(hq, 2 * c + 1), b4);
        w[k][0] = _mm256_cvtepi32_ps(_mm256_or_si256(_mm256_and_si256(v, m4), h_lo));
        w[k][1] = _mm256_cvtepi32_ps(_mm256_or_si256(_mm256_srli_epi32(v, 4), h_hi));
    }
}

/* pass h: value 128h + 32s + i = nibble (s >> 1) of ql[64h + 32(s & 1) + i] | bits 2s, 2s+1 of
 * qh[32h + i] at 4, 5. */
FQ_AVX_INLINE void fq_avx_kfloats_q6_K(const uint8_t *p, int h, int half, __m256 w[2][4]) {
    const block_q6_K *x = (const block_q6_K *)p;
    const __m256i m4 = _mm256_set1_epi32(15), m48 = _mm256_set1_epi32(48);
    for (int k = 0; k < 2; k++) {
        const int i = 16 * half + 8 * k;
        const __m256i a = fq_avx_u8x8(x->ql + 64 * h + i), b = fq_avx_u8x8(x->ql + 64 * h + 32 + i);
        const __m256i hq = _mm256_slli_epi32(fq_avx_u8x8(x->qh + 32 * h + i), 4); /* bit b at b+4 */
        const __m256i lows[4] = {_mm256_and_si256(a, m4), _mm256_and_si256(b, m4),
                                 _mm256_srli_epi32(a, 4), _mm256_srli_epi32(b, 4)};
        for (int s = 0; s < 4; s++)
            w[k][s] = _mm256_cvtepi32_ps(
                _mm256_or_si256(lows[s], _mm256_and_si256(_mm256_srli_epi32(hq, 2 * s), m48)));
    }
}

#if FQ_SIMD_AVX512
/* ---- zmm f32 GEMV values (avx512_gemv_f32.h): ZV groups of 16 per pass, unsigned as above ---- */
enum { fq_z_kv_q4_K = 4, fq_z_kv_q5_K = 4 };
FQ_Z_KSCALES_FROM_KMETA(q4_K)
FQ_Z_KSCALES_FROM_KMETA(q5_K)

/* The 2-bit fields of a 4-bit table index: field 0 (bits 0-1) and field 1 (bits 2-3) as floats.
 * The index holds two fields, so one shift serves two groups. */
FQ_AVX_INLINE __m512 fq_z_field0_table(void) {
    return _mm512_setr_ps(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
}
FQ_AVX_INLINE __m512 fq_z_field1_table(void) {
    return _mm512_setr_ps(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
}

/* ---- Q2_K, Q3_K and Q6_K: x in FQ_X_WORDS16 order (fq_z_gemv_f32_words) ---- */

/* Q2_K: scale and min are the low and high nibble of one byte per 16 values. */
FQ_AVX_INLINE void fq_z_wscales_q2_K(const uint8_t *p, __m512 *dsc, __m512 *dmn) {
    const block_q2_K *x = (const block_q2_K *)p;
    const __m512i s = fq_z_u8x16(x->scales);
    __m512 d, dmin;
    fq_z_half_pair(&x->d, &d, &dmin);
    *dsc = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_and_si512(s, _mm512_set1_epi32(15))));
    *dmn = _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(_mm512_srli_epi32(s, 4)));
}

/* Q3_K: six-bit scales minus 32, widened straight to 16 lanes; the min is 4 * the scale (q
 * unsigned, dmin = d), so dmn = 4 dsc (the same bits as d * (4 sc)). */
FQ_AVX_INLINE void fq_z_wscales_q3_K(const uint8_t *p, __m512 *dsc, __m512 *dmn) {
    const block_q3_K *x = (const block_q3_K *)p;
    const __m512i sc = _mm512_sub_epi32(_mm512_cvtepu8_epi32(fq_avx_q3_K_scale_bytes(x->scales)), _mm512_set1_epi32(32));
    *dsc = _mm512_mul_ps(_mm512_set1_ps(fq_avx_half(&x->d)), _mm512_cvtepi32_ps(sc));
    *dmn = _mm512_mul_ps(*dsc, _mm512_set1_ps(4.0f));
}

/* The value of field f in byte o of each dword of qs: bits 8o + 2f. The 4-bit window at
 * 8o + 4 (f >> 1) holds fields f & ~1 and f | 1; the field tables pick one (one shift serves
 * two f). */
FQ_AVX_INLINE void fq_z_wvals_q2_K(const uint8_t *p, int f, __m512 *v) {
    const block_q2_K *x = (const block_q2_K *)p;
    const __m512i q = _mm512_loadu_si512(x->qs);
    const __m512 tab = f & 1 ? fq_z_field1_table() : fq_z_field0_table();
#pragma GCC unroll 4
    for (int o = 0; o < 4; o++) v[o] = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 8 * o + 4 * (f >> 1)), tab);
}

/* Q3_K: as Q2_K, with the high bit at index bit 4 (the second table, 4 more): bit 4h + f of
 * hmask[l], l = 4 (i & 7) + o, so dword i & 7 of hmask in both halves, lanes 8-15 (h = 1)
 * shifted down by 4; moved to bit 4 of each byte and merged into the byte's window once per f. */
FQ_AVX_INLINE void fq_z_wvals_q3_K(const uint8_t *p, int f, __m512 *v) {
    const block_q3_K *x = (const block_q3_K *)p;
    const __m512i q = _mm512_loadu_si512(x->qs);
    const __m512i hm = _mm512_srlv_epi32(_mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x->hmask)),
                                         _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4));
    const __m512i win = fq_z_select_bits(fq_z_move_bit(hm, f, 4), _mm512_srli_epi32(q, 4 * (f >> 1)), 0x10101010);
    const __m512 lo = f & 1 ? fq_z_field1_table() : fq_z_field0_table(), hi = _mm512_add_ps(lo, _mm512_set1_ps(4.0f));
#pragma GCC unroll 4
    for (int o = 0; o < 4; o++) v[o] = _mm512_permutex2var_ps(lo, _mm512_srli_epi32(win, 8 * o), hi);
}

/* pass c: groups 4c, 4c + 1 are the low nibbles of qs[32c .. 32c + 31], 4c + 2, 4c + 3 the high. */
FQ_AVX_INLINE void fq_z_kvals_q4_K(const uint8_t *p, int c, __m512 *v) {
    const block_q4_K *x = (const block_q4_K *)p;
    const __m512 tab = fq_z_count16_ps(0.0f);
    fq_z_nibble_vals(x->qs + 32 * c, tab, &v[0], &v[2]);
    fq_z_nibble_vals(x->qs + 32 * c + 16, tab, &v[1], &v[3]);
}

/* as Q4_K, plus bit 2c (low nibbles) or 2c + 1 (high) of qh[i] at index bit 4. */
FQ_AVX_INLINE void fq_z_kvals_q5_K(const uint8_t *p, int c, __m512 *v) {
    const block_q5_K *x = (const block_q5_K *)p;
    const __m512 t0 = fq_z_count16_ps(0.0f), t1 = fq_z_count16_ps(16.0f);
    for (int half = 0; half < 2; half++) {
        const __m512i q = fq_z_u8x16(x->qs + 32 * c + 16 * half), qh = fq_z_u8x16(x->qh + 16 * half);
        v[half] = _mm512_permutex2var_ps(t0, fq_z_low4_then(q, fq_z_move_bit(qh, 2 * c, 4)), t1);
        v[2 + half] = _mm512_permutex2var_ps(
            t0, fq_z_low4_then(_mm512_srli_epi32(q, 4), fq_z_move_bit(qh, 2 * c + 1, 4)), t1);
    }
}

/* Q6_K: int8 scales; the min is 32 * the scale (q unsigned); fq_z_wvals_q6_K leaves groups
 * 8h + 4 .. 8h + 7 (s = 2, 3) times 16, divided out here. */
FQ_AVX_INLINE void fq_z_wscales_q6_K(const uint8_t *p, __m512 *dsc, __m512 *dmn) {
    const block_q6_K *x = (const block_q6_K *)p;
    const __m512 ds = _mm512_mul_ps(_mm512_set1_ps(fq_avx_half(&x->d)),
                                    _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)x->scales))));
    const float r = 1.0f / 16;
    *dsc = _mm512_mul_ps(ds, _mm512_setr_ps(1, 1, 1, 1, r, r, r, r, 1, 1, 1, 1, r, r, r, r));
    *dmn = _mm512_mul_ps(ds, _mm512_set1_ps(32.0f));
}

/* Q6_K: value 128h + 32s + l is nibble s >> 1 of ql[64h + 32 (s & 1) + l] | bits 2s, 2s + 1 of
 * qh[32h + l] at 4, 5 (l = 4 (i & 7) + o, h = i >> 3): qh's dword i as it lies; ql's dword i & 7
 * of ql[32 (s & 1)] in lanes 0-7 and of ql[64 + 32 (s & 1)] in lanes 8-15, one zmm from two
 * halves. 64 values, so combined as integers and converted: the high bits come clean out of an
 * integer table of the 2-bit fields (the window of qh at 8o + 4 (s >> 1) holds fields s & ~1 and
 * s | 1); for s = 2, 3 the nibble stays at bits 4-7 and the table puts the high bits at 8, 9:
 * 16 q, and the ql window is the same shift for both nibbles. */
FQ_AVX_INLINE void fq_z_wvals_q6_K(const uint8_t *p, int s, __m512 *v) {
    const block_q6_K *x = (const block_q6_K *)p;
    const int a = s & 1, b = s >> 1;
    const __m512i ql = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(x->ql + 32 * a))),
                                          _mm256_loadu_si256((const __m256i *)(x->ql + 64 + 32 * a)), 1);
    const __m512i qh = _mm512_loadu_si512(x->qh);
    /* 16 * field 0 or field 1 of a 4-bit index (as fq_z_field0/1_table), 256 * for s = 2, 3 */
    const __m512i f0 = _mm512_setr_epi32(0, 16, 32, 48, 0, 16, 32, 48, 0, 16, 32, 48, 0, 16, 32, 48);
    const __m512i f1 = _mm512_setr_epi32(0, 0, 0, 0, 16, 16, 16, 16, 32, 32, 32, 32, 48, 48, 48, 48);
    const __m512i tab = _mm512_slli_epi32(a ? f1 : f0, 4 * b);
#pragma GCC unroll 4
    for (int o = 0; o < 4; o++) {
        const __m512i high = _mm512_permutexvar_epi32(_mm512_srli_epi32(qh, 8 * o + 4 * b), tab);
        v[o] = _mm512_cvtepi32_ps(fq_z_select_bits(_mm512_srli_epi32(ql, 8 * o), high, b ? 0xF0 : 0x0F));
    }
}
#endif

FQ_AVX_DEFINE_DOTS(q2_K, K, 84, 0, 1)
FQ_AVX_DEFINE_DOTS(q3_K, K, 110, 0, 1)
FQ_AVX_DEFINE_DOTS(q4_K, K, 144, 0, 1)
FQ_AVX_DEFINE_DOTS(q5_K, K, 176, 0, 1)
FQ_AVX_DEFINE_DOTS(q6_K, K, 210, 0, 1)

/* GEMM tiles; depth: int16 sums of 8 maddubs for q <= 7 (8 * 2 * 7 * 127 = 14224), 8 for q <= 15
 * (30480), 4 for q <= 31, 2 for Q6_K's q <= 63. */
FQ_AVX_DEFINE_GEMM(q2_K, K, 84, 0, 1, 8)
FQ_AVX_DEFINE_GEMM(q3_K, K, 110, 0, 1, 8)
FQ_AVX_DEFINE_GEMM(q4_K, K, 144, 0, 1, 8)
FQ_AVX_DEFINE_GEMM(q5_K, K, 176, 0, 1, 4)
FQ_AVX_DEFINE_GEMM(q6_K, K, 210, 0, 1, 2)

FQ_AVX_DEFINE_GEMV_K_WORDS(q2_K, 84)
FQ_AVX_DEFINE_GEMV_K_WORDS(q3_K, 110)
FQ_AVX_DEFINE_GEMV_K(q4_K, 144, 1)
FQ_AVX_DEFINE_GEMV_K(q5_K, 176, 1)
FQ_AVX_DEFINE_GEMV_K_WORDS(q6_K, 210)

/* the AVX-512 build's f32 GEMMs over the zmm decoders: FMA and AMX tiles (avx512_zdecode.h) */
FQ_Z_DEFINE_GEMMS_WORDS(q2_K, 84)
FQ_Z_DEFINE_GEMMS_WORDS(q3_K, 110)
FQ_Z_DEFINE_GEMMS_K(q4_K, 144, 1)
FQ_Z_DEFINE_GEMMS_K(q5_K, 176, 1)
FQ_Z_DEFINE_GEMMS_WORDS(q6_K, 210)
