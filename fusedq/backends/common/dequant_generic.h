/* Portable dequantizers, one per type: bit-exact with gguf.quants.dequantize (same float32
 * operations in the same order; build with -ffp-contract=off). Shared by every backend. */
#ifndef FQ_DEQUANT_GENERIC_H
#define FQ_DEQUANT_GENERIC_H

#include "blocks.h"

#define FQ_H(p) fq_half_to_float(fq_load_u16(&(p)))

static inline void fq_k_scale_min(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Q3_K 6-bit scale k (0..15), offset removed. */
static inline int fq_q3_K_scale(const uint8_t *s, int k) {
    int lo = k < 8 ? (s[k] & 15) : (s[k - 8] >> 4);
    int hi = (s[8 + (k & 3)] >> (2 * (k >> 2))) & 3;
    return (lo | (hi << 4)) - 32;
}

static inline int fq_iq4_xs_scale(const block_iq4_xs *b, int j) {
    int lo = (b->scales_l[j / 2] >> (4 * (j & 1))) & 15;
    int hi = (fq_load_u16(&b->scales_h) >> (2 * j)) & 3;
    return (lo | (hi << 4)) - 32;
}

static inline void fq_dequant_f32(const uint8_t *src, float *dst, int64_t n) { memcpy(dst, src, 4 * n); }

static inline void fq_dequant_f16(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = fq_half_to_float(fq_load_u16(src + 2 * i));
}

static inline void fq_dequant_bf16(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = fq_bf16_to_float(fq_load_u16(src + 2 * i));
}

static inline void fq_dequant_q4_0(const uint8_t *src, float *y, int64_t nb) {
    const block_q4_0 *x = (const block_q4_0 *)src;
    for (int64_t b = 0; b < nb; b++, y += 32) {
        float d = FQ_H(x[b].d);
        for (int i = 0; i < 16; i++) {
            y[i] = d * (float)((x[b].qs[i] & 15) - 8);
            y[i + 16] = d * (float)((x[b].qs[i] >> 4) - 8);
        }
    }
}

static inline void fq_dequant_q4_1(const uint8_t *src, float *y, int64_t nb) {
    const block_q4_1 *x = (const block_q4_1 *)src;
    for (int64_t b = 0; b < nb; b++, y += 32) {
        float d = FQ_H(x[b].d), m = FQ_H(x[b].m);
        for (int i = 0; i < 16; i++) {
            y[i] = d * (float)(x[b].qs[i] & 15) + m;
            y[i + 16] = d * (float)(x[b].qs[i] >> 4) + m;
        }
    }
}

static inline int fq_q5_value(const uint8_t *qs, uint32_t qh, int i) {
    int lo = i < 16 ? (qs[i] & 15) : (qs[i - 16] >> 4);
    return lo | (int)(((qh >> i) & 1u) << 4);
}

static inline void fq_dequant_q5_0(const uint8_t *src, float *y, int64_t nb) {
    const block_q5_0 *x = (const block_q5_0 *)src;
    for (int64_t b = 0; b < nb; b++, y += 32) {
        float d = FQ_H(x[b].d);
        uint32_t qh;
        memcpy(&qh, x[b].qh, 4);
        for (int i = 0; i < 32; i++) y[i] = d * (float)(fq_q5_value(x[b].qs, qh, i) - 16);
    }
}

static inline void fq_dequant_q5_1(const uint8_t *src, float *y, int64_t nb) {
    const block_q5_1 *x = (const block_q5_1 *)src;
    for (int64_t b = 0; b < nb; b++, y += 32) {
        float d = FQ_H(x[b].d), m = FQ_H(x[b].m);
        uint32_t qh;
        memcpy(&qh, x[b].qh, 4);
        for (int i = 0; i < 32; i++) y[i] = d * (float)fq_q5_value(x[b].qs, qh, i) + m;
    }
}

static inline void fq_dequant_q8_0(const uint8_t *src, float *y, int64_t nb) {
    const block_q8_0 *x = (const block_q8_0 *)src;
    for (int64_t b = 0; b < nb; b++, y += 32) {
        float d = FQ_H(x[b].d);
        for (int i = 0; i < 32; i++) y[i] = (float)x[b].qs[i] * d;
    }
}

static inline void fq_dequant_iq4_nl(const uint8_t *src, float *y, int64_t nb) {
    const block_iq4_nl *x = (const block_iq4_nl *)src;
    for (int64_t b = 0; b < nb; b++, y += 32) {
        float d = FQ_H(x[b].d);
        for (int i = 0; i < 16; i++) {
            y[i] = d * (float)fq_iq4nl_values[x[b].qs[i] & 15];
            y[i + 16] = d * (float)fq_iq4nl_values[x[b].qs[i] >> 4];
        }
    }
}

static inline void fq_dequant_q2_K(const uint8_t *src, float *y, int64_t nb) {
    const block_q2_K *x = (const block_q2_K *)src;
    for (int64_t b = 0; b < nb; b++, y += FQ_QK) {
        float d = FQ_H(x[b].d), dmin = FQ_H(x[b].dmin);
        for (int e = 0; e < FQ_QK; e++) {
            int h = e / 128, s = (e / 32) & 3, i = e & 31, g = e / 16;
            float dl = d * (float)(x[b].scales[g] & 15), ml = dmin * (float)(x[b].scales[g] >> 4);
            y[e] = dl * (float)((x[b].qs[32 * h + i] >> (2 * s)) & 3) - ml;
        }
    }
}

static inline void fq_dequant_q3_K(const uint8_t *src, float *y, int64_t nb) {
    const block_q3_K *x = (const block_q3_K *)src;
    for (int64_t b = 0; b < nb; b++, y += FQ_QK) {
        float d = FQ_H(x[b].d);
        for (int g = 0; g < 16; g++) {
            float dl = d * (float)fq_q3_K_scale(x[b].scales, g);
            for (int e = 16 * g; e < 16 * g + 16; e++) {
                int h = e / 128, s = (e / 32) & 3, i = e & 31;
                int ql = (x[b].qs[32 * h + i] >> (2 * s)) & 3;
                int hbit = (x[b].hmask[i] >> (e / 32)) & 1;
                y[e] = dl * (float)(ql - (hbit ? 0 : 4));
            }
        }
    }
}

static inline void fq_dequant_q4_K(const uint8_t *src, float *y, int64_t nb) {
    const block_q4_K *x = (const block_q4_K *)src;
    for (int64_t b = 0; b < nb; b++, y += FQ_QK) {
        float d = FQ_H(x[b].d), dmin = FQ_H(x[b].dmin);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            fq_k_scale_min(x[b].scales, j, &sc, &m);
            float dl = d * (float)sc, ml = dmin * (float)m;
            const uint8_t *q = x[b].qs + 32 * (j / 2);
            int shift = 4 * (j & 1);
            for (int i = 0; i < 32; i++) y[32 * j + i] = dl * (float)((q[i] >> shift) & 15) - ml;
        }
    }
}

static inline void fq_dequant_q5_K(const uint8_t *src, float *y, int64_t nb) {
    const block_q5_K *x = (const block_q5_K *)src;
    for (int64_t b = 0; b < nb; b++, y += FQ_QK) {
        float d = FQ_H(x[b].d), dmin = FQ_H(x[b].dmin);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            fq_k_scale_min(x[b].scales, j, &sc, &m);
            float dl = d * (float)sc, ml = dmin * (float)m;
            const uint8_t *q = x[b].qs + 32 * (j / 2);
            int shift = 4 * (j & 1);
            for (int i = 0; i < 32; i++) {
                int v = ((q[i] >> shift) & 15) | (((x[b].qh[i] >> j) & 1) << 4);
                y[32 * j + i] = dl * (float)v - ml;
            }
        }
    }
}

static inline int fq_q6_value(const block_q6_K *x, int e) {
    int h = e / 128, s = (e / 32) & 3, i = e & 31;
    int ql = (x->ql[64 * h + 32 * (s & 1) + i] >> (4 * (s >> 1))) & 15;
    int qh = (x->qh[32 * h + i] >> (2 * s)) & 3;
    return ql | (qh << 4);
}

static inline void fq_dequant_q6_K(const uint8_t *src, float *y, int64_t nb) {
    const block_q6_K *x = (const block_q6_K *)src;
    for (int64_t b = 0; b < nb; b++, y += FQ_QK) {
        float d = FQ_H(x[b].d);
        for (int g = 0; g < 16; g++) {
            float dl = d * (float)x[b].scales[g];
            for (int e = 16 * g; e < 16 * g + 16; e++) y[e] = dl * (float)(fq_q6_value(&x[b], e) - 32);
        }
    }
}

static inline void fq_dequant_iq4_xs(const uint8_t *src, float *y, int64_t nb) {
    const block_iq4_xs *x = (const block_iq4_xs *)src;
    for (int64_t b = 0; b < nb; b++, y += FQ_QK) {
        float d = FQ_H(x[b].d);
        for (int j = 0; j < 8; j++) {
            float dl = d * (float)fq_iq4_xs_scale(&x[b], j);
            const uint8_t *q = x[b].qs + 16 * j;
            for (int i = 0; i < 16; i++) {
                y[32 * j + i] = dl * (float)fq_iq4nl_values[q[i] & 15];
                y[32 * j + i + 16] = dl * (float)fq_iq4nl_values[q[i] >> 4];
            }
        }
    }
}

#endif
