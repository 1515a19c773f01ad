/* Portable unpacking of one weight block into integer form for the q8 kernels.
 *   32-blocks:  value_i = d * q[i] + m                        (m = 0 for symmetric types)
 *   256-blocks: value_i = d * sc[g] * q[i] - dmin * mn[g]      (g = i / 16)
 * Offsets are folded into mn where that keeps q unsigned (Q3_K, Q6_K), so the SIMD kernels can
 * feed q straight into maddubs; q_signed marks the types whose q stays signed. The integer dot
 * sum(q * xq) is then scaled once per block, and the mn term uses the Q8_K block sums. */
#ifndef FQ_UNPACK_GENERIC_H
#define FQ_UNPACK_GENERIC_H

#include "dequant_generic.h"

/* q first and 32-byte aligned so SIMD code can load it directly. */
typedef struct { int8_t q[32]; float d, m; } __attribute__((aligned(32))) fq_unpacked32;
typedef struct {
    int8_t q[FQ_QK];
    int16_t sc[16], mn[16];
    float d, dmin;
} __attribute__((aligned(32))) fq_unpackedK;

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

/* Bit i of qh is the fifth bit of value i. A mask per lane instead of a shift by i keeps the loop
 * vectorizable at the baseline ISA (which has no per-lane variable shift). */
static const uint32_t fq_bit_of_lane[32] = {
    1u << 0,  1u << 1,  1u << 2,  1u << 3,  1u << 4,  1u << 5,  1u << 6,  1u << 7,
    1u << 8,  1u << 9,  1u << 10, 1u << 11, 1u << 12, 1u << 13, 1u << 14, 1u << 15,
    1u << 16, 1u << 17, 1u << 18, 1u << 19, 1u << 20, 1u << 21, 1u << 22, 1u << 23,
    1u << 24, 1u << 25, 1u << 26, 1u << 27, 1u << 28, 1u << 29, 1u << 30, 1u << 31};

static inline void fq_unpack_q5_bits(const uint8_t *qs, uint32_t qh, int offset, int8_t *q) {
#pragma GCC unroll 1 /* kept a loop: fully unrolled, the vectorizer no longer sees it */
    for (int i = 0; i < 16; i++) {
        q[i] = (int8_t)(((qs[i] & 15) | ((qh & fq_bit_of_lane[i]) ? 16 : 0)) - offset);
        q[i + 16] = (int8_t)(((qs[i] >> 4) | ((qh & fq_bit_of_lane[i + 16]) ? 16 : 0)) - offset);
    }
}

static inline void fq_unpack_q5_0(const uint8_t *p, fq_unpacked32 *u) {
    const block_q5_0 *x = (const block_q5_0 *)p;
    uint32_t qh;
    memcpy(&qh, x->qh, 4);
    u->d = FQ_H(x->d);
    u->m = 0.0f;
    fq_unpack_q5_bits(x->qs, qh, 16, u->q);
}

static inline void fq_unpack_q5_1(const uint8_t *p, fq_unpacked32 *u) {
    const block_q5_1 *x = (const block_q5_1 *)p;
    uint32_t qh;
    memcpy(&qh, x->qh, 4);
    u->d = FQ_H(x->d);
    u->m = FQ_H(x->m);
    fq_unpack_q5_bits(x->qs, qh, 0, u->q);
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
    for (int h = 0; h < 2; h++)
        for (int s = 0; s < 4; s++)
            for (int i = 0; i < 32; i++)
                u->q[128 * h + 32 * s + i] = (int8_t)((x->qs[32 * h + i] >> (2 * s)) & 3);
}

/* q = ql + 4*hbit in 0..7; value = d*sc*(q - 4), so mn = 4*sc and dmin = d. */
static inline void fq_unpack_q3_K(const uint8_t *p, fq_unpackedK *u) {
    const block_q3_K *x = (const block_q3_K *)p;
    u->d = u->dmin = FQ_H(x->d);
    for (int g = 0; g < 16; g++) {
        u->sc[g] = (int16_t)fq_q3_K_scale(x->scales, g);
        u->mn[g] = (int16_t)(4 * u->sc[g]);
    }
    for (int h = 0; h < 2; h++)
        for (int s = 0; s < 4; s++)
            for (int i = 0; i < 32; i++) {
                int ql = (x->qs[32 * h + i] >> (2 * s)) & 3;
                u->q[128 * h + 32 * s + i] = (int8_t)(ql + 4 * ((x->hmask[i] >> (4 * h + s)) & 1));
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
    for (int h = 0; h < 2; h++)
        for (int s = 0; s < 4; s++)
            for (int i = 0; i < 32; i++) {
                int ql = (x->ql[64 * h + 32 * (s & 1) + i] >> (4 * (s >> 1))) & 15;
                int qh = (x->qh[32 * h + i] >> (2 * s)) & 3;
                u->q[128 * h + 32 * s + i] = (int8_t)(ql | (qh << 4));
            }
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

/* Float values of unpacked blocks (the portable f32 path; not bit-exact with dequantize). */
static inline void fq_floats_from_K(const fq_unpackedK *u, float *y) {
    for (int g = 0; g < 16; g++) {
        const float ds = u->d * (float)u->sc[g], dm = u->dmin * (float)u->mn[g];
        for (int i = 16 * g; i < 16 * g + 16; i++) y[i] = ds * (float)u->q[i] - dm;
    }
}

#endif
