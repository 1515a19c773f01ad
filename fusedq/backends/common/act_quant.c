/* Activation quantizers, portable C. In float32, per block: amax = max|x|, d = amax / 127,
 * id = 1/d (0 when d == 0), q = round-half-even(x * id); 32-blocks then store d rounded to
 * float16, as llama.cpp does (see stored_scale): exactly numpy_ref/activations.py. */
#include <math.h>

#include "act_quant.h"
#include "blocks.h"
#include "kernel_table.h"

/* Hot loops get an AVX2 clone chosen at load time (GCC ifunc); the code is plain C and both
 * clones compute identical values. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FQ_ACT_HOT __attribute__((target_clones("avx2", "default")))
#else
#define FQ_ACT_HOT
#endif

/* Round half to even for |v| < 2^22 (here |v| <= 127.x): adding and removing 1.5 * 2^23 leaves
 * no fraction bits, and the default rounding mode rounds ties to even. Unlike nearbyintf this
 * is not a library call, so the loops vectorise. */
static inline float round_half_even(float v) { return (v + 12582912.0f) - 12582912.0f; }

static float block_inverse_scale(const float *x, int n, float *d_out) {
    float amax = 0.0f;
    for (int i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        amax = a > amax ? a : amax;
    }
    float d = amax / 127.0f;
    *d_out = d;
    return d != 0.0f ? 1.0f / d : 0.0f;
}

/* The scale a 32-block stores: rounded to float16 as llama.cpp stores it, unless float16 would
 * overflow it or flush it to zero (llama.cpp then computes inf or 0; this keeps float32). */
static float stored_scale(float d) {
    const float h = fq_round_to_half(d);
    return (h == 0.0f || isinf(h)) ? d : h;
}

FQ_ACT_HOT static void quantize_q8_32(const float *x, uint8_t *dst, int64_t n) {
    fq_q8_32 *y = (fq_q8_32 *)dst;
    for (int64_t b = 0; b < n / 32; b++, x += 32) {
        float d, id = block_inverse_scale(x, 32, &d);
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            int q = (int)round_half_even(x[i] * id);
            y[b].qs[i] = (int8_t)q;
            sum += q;
        }
        d = stored_scale(d);
        y[b].d = d;
        y[b].s = d * (float)sum; /* exact: 11 + 12 significant bits */
    }
}

FQ_ACT_HOT static void quantize_q8_K(const float *x, uint8_t *dst, int64_t n) {
    fq_q8_K *y = (fq_q8_K *)dst;
    for (int64_t b = 0; b < n / FQ_QK; b++, x += FQ_QK) {
        float d, id = block_inverse_scale(x, FQ_QK, &d);
        for (int g = 0; g < FQ_QK / 16; g++) {
            int sum = 0;
            for (int i = 16 * g; i < 16 * g + 16; i++) {
                int q = (int)round_half_even(x[i] * id);
                y[b].qs[i] = (int8_t)q;
                sum += q;
            }
            y[b].bsums[g] = (int16_t)sum;
        }
        y[b].d = d;
    }
}

const fq_act_format fq_act_formats[FQ_ACT_COUNT] = {
    [FQ_ACT_F32] = {"F32", 0, 0, 0},
    [FQ_ACT_Q8_0] = {"Q8_0", 32, sizeof(fq_q8_32), quantize_q8_32},
    [FQ_ACT_Q8_1] = {"Q8_1", 32, sizeof(fq_q8_32), quantize_q8_32},
    [FQ_ACT_Q8_K] = {"Q8_K", FQ_QK, sizeof(fq_q8_K), quantize_q8_K},
};
