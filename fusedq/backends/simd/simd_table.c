/* The simd backend's kernel table (compiled without AVX flags: it only holds pointers). Every
 * type has AVX2 dot kernels for both modes; dequantize/get_rows use the shared portable
 * bit-exact dequantizers (dequant_generic.h), which are not on the matmul path. */
#include "dequant_generic.h"
#include "simd_kernels.h"
#include "table_lookup.h"

#define FLOAT_ROW(id, NAME, ts, name)                                                              \
    {id, NAME, 1, ts, FQ_ACT_F32, fq_dequant_##name, fq_avx2_dot_f32_##name, 0, "avx2"}
/* K-family f32 dots take per-16 activation sums (f32_sums = 1) for their mins. */
#define QUANT_ROW(id, NAME, bs, ts, partner, name)                                                 \
    {id, NAME, bs, ts, partner, fq_dequant_##name, fq_avx2_dot_f32_##name, fq_avx2_dot_q8_##name, \
     "avx2", bs == 256}

static const fq_kernels simd_table[] = {
    FLOAT_ROW(0, "F32", 4, f32),
    FLOAT_ROW(1, "F16", 2, f16),
    FLOAT_ROW(30, "BF16", 2, bf16),
    QUANT_ROW(2, "Q4_0", 32, 18, FQ_ACT_Q8_0, q4_0),
    QUANT_ROW(3, "Q4_1", 32, 20, FQ_ACT_Q8_1, q4_1),
    QUANT_ROW(6, "Q5_0", 32, 22, FQ_ACT_Q8_0, q5_0),
    QUANT_ROW(7, "Q5_1", 32, 24, FQ_ACT_Q8_1, q5_1),
    QUANT_ROW(8, "Q8_0", 32, 34, FQ_ACT_Q8_0, q8_0),
    QUANT_ROW(10, "Q2_K", 256, 84, FQ_ACT_Q8_K, q2_K),
    QUANT_ROW(11, "Q3_K", 256, 110, FQ_ACT_Q8_K, q3_K),
    QUANT_ROW(12, "Q4_K", 256, 144, FQ_ACT_Q8_K, q4_K),
    QUANT_ROW(13, "Q5_K", 256, 176, FQ_ACT_Q8_K, q5_K),
    QUANT_ROW(14, "Q6_K", 256, 210, FQ_ACT_Q8_K, q6_K),
    QUANT_ROW(20, "IQ4_NL", 32, 18, FQ_ACT_Q8_0, iq4_nl),
    QUANT_ROW(23, "IQ4_XS", 256, 136, FQ_ACT_Q8_K, iq4_xs),
};

FQ_DEFINE_LOOKUP(simd_table)

const char *fq_backend_target(void) { return "AVX2+FMA+F16C"; }
