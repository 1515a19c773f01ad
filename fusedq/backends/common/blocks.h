/* GGUF block layouts and the 8-bit activation formats, with size checks, plus the portable
 * half-precision helpers. Structs are packed: block data may sit at any byte offset. */
#ifndef FQ_BLOCKS_H
#define FQ_BLOCKS_H

#include <stdint.h>
#include <string.h>

#define FQ_QK 256 /* elements of a K-quant super-block */
#define FQ_PACKED __attribute__((packed))

typedef uint16_t fq_half;

typedef struct FQ_PACKED { fq_half d; uint8_t qs[16]; } block_q4_0;
typedef struct FQ_PACKED { fq_half d, m; uint8_t qs[16]; } block_q4_1;
typedef struct FQ_PACKED { fq_half d; uint8_t qh[4]; uint8_t qs[16]; } block_q5_0;
typedef struct FQ_PACKED { fq_half d, m; uint8_t qh[4]; uint8_t qs[16]; } block_q5_1;
typedef struct FQ_PACKED { fq_half d; int8_t qs[32]; } block_q8_0;
typedef struct FQ_PACKED { uint8_t scales[16]; uint8_t qs[64]; fq_half d, dmin; } block_q2_K;
typedef struct FQ_PACKED { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; fq_half d; } block_q3_K;
typedef struct FQ_PACKED { fq_half d, dmin; uint8_t scales[12]; uint8_t qs[128]; } block_q4_K;
typedef struct FQ_PACKED { fq_half d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } block_q5_K;
typedef struct FQ_PACKED { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; fq_half d; } block_q6_K;
typedef struct FQ_PACKED { fq_half d; uint8_t qs[16]; } block_iq4_nl;
typedef struct FQ_PACKED { fq_half d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; } block_iq4_xs;

_Static_assert(sizeof(block_q4_0) == 18, "Q4_0 block size");
_Static_assert(sizeof(block_q4_1) == 20, "Q4_1 block size");
_Static_assert(sizeof(block_q5_0) == 22, "Q5_0 block size");
_Static_assert(sizeof(block_q5_1) == 24, "Q5_1 block size");
_Static_assert(sizeof(block_q8_0) == 34, "Q8_0 block size");
_Static_assert(sizeof(block_q2_K) == 84, "Q2_K block size");
_Static_assert(sizeof(block_q3_K) == 110, "Q3_K block size");
_Static_assert(sizeof(block_q4_K) == 144, "Q4_K block size");
_Static_assert(sizeof(block_q5_K) == 176, "Q5_K block size");
_Static_assert(sizeof(block_q6_K) == 210, "Q6_K block size");
_Static_assert(sizeof(block_iq4_nl) == 18, "IQ4_NL block size");
_Static_assert(sizeof(block_iq4_xs) == 136, "IQ4_XS block size");

/* Quantized activations (fusedq/backends/numpy_ref/activations.py defines the values).
 * One 32-block format serves both Q8_0 and Q8_1 partners: s = d * sum(qs) is only used by
 * weight types with an offset (Q4_1, Q5_1). Scales are float32. */
typedef struct { float d; float s; int8_t qs[32]; } fq_q8_32;
typedef struct { float d; int8_t qs[FQ_QK]; int16_t bsums[FQ_QK / 16]; } fq_q8_K;

_Static_assert(sizeof(fq_q8_32) == 40, "Q8_32 activation block size");
_Static_assert(sizeof(fq_q8_K) == 292, "Q8_K activation block size");

/* The non-linear 4-bit grid of IQ4_NL / IQ4_XS. */
static const int8_t fq_iq4nl_values[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* IEEE half -> float, exact for every input, branch-free so loops of it vectorize:
 * normal/inf/nan: move exponent+mantissa into place and rebias the exponent by 112 (inf/nan keep
 * an all-ones exponent); zero/subnormal: value = mantissa * 2^-24, computed exactly in float. */
static inline float fq_half_to_float(fq_half h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, em = h & 0x7fffu;
    const uint32_t shifted = em << 13;
    const uint32_t is_special = 0u - (uint32_t)(em >= 0x7c00u), is_sub = 0u - (uint32_t)(em < 0x0400u);
    const uint32_t normal = ((shifted | 0x7f800000u) & is_special) | ((shifted + (112u << 23)) & ~is_special);
    float sub = (float)(int)em * 5.9604644775390625e-8f; /* 2^-24, exact */
    uint32_t sub_bits;
    memcpy(&sub_bits, &sub, 4);
    const uint32_t bits = sign | (sub_bits & is_sub) | (normal & ~is_sub);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* x rounded to the nearest IEEE half (ties to even; overflow to inf), returned as float. */
static inline float fq_round_to_half(float x) {
    uint32_t u, a, s;
    memcpy(&u, &x, 4);
    a = u & 0x7fffffffu;
    s = u & 0x80000000u;
    if (a >= 0x7f800000u) return x;                    /* inf, nan */
    if (a >= 0x477ff000u) {                            /* >= 65520: rounds past the largest half */
        u = s | 0x7f800000u;
    } else if (a >= 0x38800000u) {                     /* normal half: keep 10 mantissa bits */
        a = (a + 0xfffu + ((a >> 13) & 1u)) & ~0x1fffu;
        u = s | a;
    } else {                                           /* subnormal half: multiples of 2^-24 */
        float f;
        memcpy(&f, &a, 4);
        f = (f + 0.5f) - 0.5f;
        memcpy(&a, &f, 4);
        u = s | a;
    }
    memcpy(&x, &u, 4);
    return x;
}

static inline float fq_bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline fq_half fq_load_u16(const void *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

#endif
