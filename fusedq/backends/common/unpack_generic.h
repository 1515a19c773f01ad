/* Portable unpacking of one weight block into integer form for the q8 kernels.
 *   32-blocks:  value_i = d * q[i] + m                        (m = 0 for symmetric types)
 *   256-blocks: value_i = d * sc[g] * q[i] - dmin * mn[g]      (g = i / 16)
 * Offsets are folded into mn where that keeps q unsigned (Q3_K, Q6_K), so the SIMD kernels can
 * feed q straight into maddubs; q_signed marks the types whose q stays signed. The integer dot
 * sum(q * xq) is then scaled once per block, and the mn term uses the Q8_K block sums. */
#ifndef FQ_UNPACK_GENERIC_H
#define FQ_UNPACK_GENERIC_H

#include "dequant_generic.h"

typedef struct { float d, m; int8_t q[32]; } fq_unpacked32;
typedef struct { float d, dmin; int16_t sc[16], mn[16]; int8_t q[FQ_QK]; } fq_unpackedK;

static inline void fq_unpack_q4_0(const uint8_t *p, fq_unpacked32 *u) {
    const block_q4_0 *x = (const block_q4_0 *)p;
    u->d = FQ_H(x->d);
    u->m = 0.0f;
    for (int i = 0; i < 16; i++) {
        u->q[i] = (int8_t)((x->qs[i] & 15) - 8);
        u->q[i + 16] = (int8_t)((x->qs[i] >> 4) - 8);
    }
}

static inline void fq_unpack_q4_1(const uint8_t *p, fq_unpacked32 *u) {
    const block_q4_1 *x = (const block_q4_1 *)p;
    u->d = FQ_H(x->d);
    u->m = FQ_H(x->m);
    for (int i = 0; i < 16; i++) {
        u->q[i] = (int8_t)(x->qs[i] & 15);
        u->q[i + 16] = (int8_t)(x->qs[i] >> 4);
    }
}

static inline void fq_unpack_q5_0(const uint8_t *p, fq_unpacked32 *u) {
    const block_q5_0 *x = (const block_q5_0 *)p;
    uint32_t qh;
    memcpy(&qh, x->qh, 4);
    u->d = FQ_H(x->d);
    u->m = 0.0f;
    for (int i = 0; i < 32; i++) u->q[i] = (int8_t)(fq_q5_value(x->qs, qh, i) - 16);
}

static inline void fq_unpack_q5_1(const uint8_t *p, fq_unpacked32 *u) {
    const block_q5_1 *x = (const block_q5_1 *)p;
    uint32_t qh;
    memcpy(&qh, x->qh, 4);
    u->d = FQ_H(x->d);
    u->m = FQ_H(x->m);
    for (int i = 0; i < 32; i++) u->q[i] = (int8_t)fq_q5_value(x->qs, qh, i);
}

static inline void fq_unpack_q8_0(const uint8_t *p, fq_unpacked32 *u) {
    const block_q8_0 *x = (const block_q8_0 *)p;
    u->d = FQ_H(x->d);
    u->m = 0.0f;
    memcpy(u->q, x->qs, 32);
}

static inline void fq_unpack_iq4_nl(const uint8_t *p, fq_unpacked32 *u) {
    const block_iq4_nl *x = (const block_iq4_nl *)p;
    u->d = FQ_H(x->d);
    u->m = 0.0f;
    for (int i = 0; i < 16; i++) {
        u->q[i] = fq_iq4nl_values[x->qs[i] & 15];
        u->q[i + 16] = fq_iq4nl_values[x->qs[i] >> 4];
    }
}

static inline void fq_unpack_q2_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q2_K *x = (const block_q2_K *)p;
    u->d = FQ_H(x->d);
    u->dmin = FQ_H(x->dmin);
    for (int g = 0; g < 16; g++) {
        u->sc[g] = x->scales[g] & 15;
        u->mn[g] = x->scales[g] >> 4;
    }
    for (int e = 0; e < FQ_QK; e++)
        u->q[e] = (int8_t)((x->qs[32 * (e / 128) + (e & 31)] >> (2 * ((e / 32) & 3))) & 3);
}

/* q = ql + 4*hbit in 0..7; value = d*sc*(q - 4), so mn = 4*sc and dmin = d. */
static inline void fq_unpack_q3_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q3_K *x = (const block_q3_K *)p;
    u->d = u->dmin = FQ_H(x->d);
    for (int g = 0; g < 16; g++) {
        u->sc[g] = (int16_t)fq_q3_K_scale(x->scales, g);
        u->mn[g] = (int16_t)(4 * u->sc[g]);
    }
    for (int e = 0; e < FQ_QK; e++) {
        int ql = (x->qs[32 * (e / 128) + (e & 31)] >> (2 * ((e / 32) & 3))) & 3;
        u->q[e] = (int8_t)(ql + 4 * ((x->hmask[e & 31] >> (e / 32)) & 1));
    }
}

static inline void fq_unpack_k_scales(const uint8_t *scales, fq_unpackedK *u) {
    for (int j = 0; j < 8; j++) {
        int sc, m;
        fq_k_scale_min(scales, j, &sc, &m);
        u->sc[2 * j] = u->sc[2 * j + 1] = (int16_t)sc;
        u->mn[2 * j] = u->mn[2 * j + 1] = (int16_t)m;
    }
}

static inline void fq_unpack_q4_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q4_K *x = (const block_q4_K *)p;
    u->d = FQ_H(x->d);
    u->dmin = FQ_H(x->dmin);
    fq_unpack_k_scales(x->scales, u);
    for (int c = 0; c < 4; c++)
        for (int i = 0; i < 32; i++) {
            u->q[64 * c + i] = (int8_t)(x->qs[32 * c + i] & 15);
            u->q[64 * c + 32 + i] = (int8_t)(x->qs[32 * c + i] >> 4);
        }
}

static inline void fq_unpack_q5_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q5_K *x = (const block_q5_K *)p;
    u->d = FQ_H(x->d);
    u->dmin = FQ_H(x->dmin);
    fq_unpack_k_scales(x->scales, u);
    for (int j = 0; j < 8; j++)
        for (int i = 0; i < 32; i++) {
            int lo = (x->qs[32 * (j / 2) + i] >> (4 * (j & 1))) & 15;
            u->q[32 * j + i] = (int8_t)(lo | (((x->qh[i] >> j) & 1) << 4));
        }
}

/* q = q6 in 0..63; value = d*sc*(q - 32), so mn = 32*sc and dmin = d. */
static inline void fq_unpack_q6_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q6_K *x = (const block_q6_K *)p;
    u->d = u->dmin = FQ_H(x->d);
    for (int g = 0; g < 16; g++) {
        u->sc[g] = x->scales[g];
        u->mn[g] = (int16_t)(32 * x->scales[g]);
    }
    for (int e = 0; e < FQ_QK; e++) u->q[e] = (int8_t)fq_q6_value(x, e);
}

/* Signed q (the IQ4 grid): -127..113. */
static inline void fq_unpack_iq4_xs(const uint8_t *p, fq_unpackedK *u) {
    const block_iq4_xs *x = (const block_iq4_xs *)p;
    u->d = FQ_H(x->d);
    u->dmin = 0.0f;
    for (int j = 0; j < 8; j++) {
        u->sc[2 * j] = u->sc[2 * j + 1] = (int16_t)fq_iq4_xs_scale(x, j);
        u->mn[2 * j] = u->mn[2 * j + 1] = 0;
        for (int i = 0; i < 16; i++) {
            u->q[32 * j + i] = fq_iq4nl_values[x->qs[16 * j + i] & 15];
            u->q[32 * j + 16 + i] = fq_iq4nl_values[x->qs[16 * j + i] >> 4];
        }
    }
}

#endif
