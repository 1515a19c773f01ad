/* The simd backend's kernel table (compiled without AVX flags: it only holds pointers). Every
 * type has AVX2 dot kernels for both modes; dequantize/get_rows use the shared portable
 * bit-exact dequantizers (dequant_generic.h), which are not on the matmul path. */
#include "dequant_generic.h"
#include "simd_kernels.h"
#include "table_lookup.h"
#include "type_list.h"

#define FLOAT_ROW(id, NAME, ts, name)                                                              \
    {id, NAME, 1, ts, FQ_ACT_F32, fq_dequant_##name, fq_avx2_dot_f32_##name, 0, "avx2", 0, 0, 0,   \
     fq_avx2_gemm_f32_##name},
/* K-family f32 dots take per-16 activation sums (f32_sums = 1) for their mins. */
#define QUANT_ROW(id, NAME, bs, ts, partner, name)                                                 \
    {id, NAME, bs, ts, partner, fq_dequant_##name, fq_avx2_dot_f32_##name, fq_avx2_dot_q8_##name, \
     "avx2", bs == 256, fq_avx2_gemm_q8_##name, fq_avx2_gemv_q8_##name, 0, fq_avx2_gemv_f32_##name},

static const fq_kernels simd_table[] = {
    FQ_FOR_EACH_TYPE(FLOAT_ROW, QUANT_ROW)
};

FQ_DEFINE_LOOKUP(simd_table)

const char *fq_backend_target(void) { return "AVX2+FMA+F16C"; }
