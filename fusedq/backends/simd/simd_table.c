/* The simd backend's kernel tables, one per instruction set the kernels are compiled for (AVX2,
 * AVX-512), and the switch between them (compiled without SIMD flags: it only holds pointers).
 * Every type has dot kernels for both modes; dequantize/get_rows use the shared portable
 * bit-exact dequantizers (dequant_generic.h), which are not on the matmul path. */
#include "dequant_generic.h"
#include "table_lookup.h"
#include "type_list.h"

#define FQ_SIMD_ISA avx2
#include "simd_kernels.h"
#undef FQ_SIMD_ISA
#define FQ_SIMD_ISA avx512
#include "simd_kernels.h"
#undef FQ_SIMD_ISA

#define FLOAT_ROW(ISA, id, NAME, ts, name)                                                         \
    {id, NAME, 1, ts, FQ_ACT_F32, fq_dequant_##name, fq_##ISA##_dot_f32_##name, 0, #ISA, 0, 0, 0, \
     fq_##ISA##_gemm_f32_##name},
/* Types with a min take per-16 activation sums in f32 mode (f32_sums = 1): the K family's dots
 * and GEMVs, the AVX-512 GEMV of Q4_1 and Q5_1 (those whose q8 partner is Q8_1). The 32-blocks'
 * q8 GEMV takes up to FQ_GEMV_COLS columns per call, the K family's one. */
#define QUANT_ROW_WITH(ISA, IMPL, id, NAME, bs, ts, partner, name, ...)                            \
    {id, NAME, bs, ts, partner, fq_dequant_##name, fq_##ISA##_dot_f32_##name,                    \
     fq_##ISA##_dot_q8_##name, IMPL, bs == 256 || partner == FQ_ACT_Q8_1, fq_##ISA##_gemm_q8_##name, \
     fq_##ISA##_gemv_q8_##name, fq_##ISA##_gemm_f32_##name, fq_##ISA##_gemv_f32_##name, X_ORDER_##ISA(name), \
     bs == 32 ? FQ_GEMV_COLS : 1, __VA_ARGS__},
#define QUANT_ROW(ISA, ...) QUANT_ROW_WITH(ISA, #ISA, __VA_ARGS__, 0, 0)
/* The AMX table: the AVX-512 rows, with the f32 GEMM of the quantized types on AMX tiles. */
#define QUANT_ROW_AMX(id, NAME, bs, ts, partner, name)                                             \
    QUANT_ROW_WITH(avx512, "amx", id, NAME, bs, ts, partner, name, fq_avx512_x_bf16x3,           \
                   fq_avx512_gemm_bf16x3_##name)
#define X_ORDER_avx2(name) FQ_X_NATURAL
#define X_ORDER_avx512(name) fq_z_x_order_##name
#define FLOAT_ROW_AVX2(...) FLOAT_ROW(avx2, __VA_ARGS__)
#define QUANT_ROW_AVX2(...) QUANT_ROW(avx2, __VA_ARGS__)
#define FLOAT_ROW_AVX512(...) FLOAT_ROW(avx512, __VA_ARGS__)
#define QUANT_ROW_AVX512(...) QUANT_ROW(avx512, __VA_ARGS__)

static const fq_kernels avx2_table[] = {FQ_FOR_EACH_TYPE(FLOAT_ROW_AVX2, QUANT_ROW_AVX2)};
static const fq_kernels avx512_table[] = {FQ_FOR_EACH_TYPE(FLOAT_ROW_AVX512, QUANT_ROW_AVX512)};
static const fq_kernels amx_table[] = {FQ_FOR_EACH_TYPE(FLOAT_ROW_AVX512, QUANT_ROW_AMX)};
_Static_assert(sizeof(avx2_table) == sizeof(avx512_table), "one row per type in each table");
_Static_assert(sizeof(avx512_table) == sizeof(amx_table), "one row per type in each table");

/* The active set: AVX2 until fq_simd_select_isa picks another, which the Python layer does
 * only after checking the CPU and OS (and, for AMX, asking the OS: simd/__init__.py). */
static const fq_kernels *active_table = avx2_table;

void fq_simd_select_isa(int table) {
    active_table = table == FQ_SIMD_TABLE_AMX      ? amx_table
                   : table == FQ_SIMD_TABLE_AVX512 ? avx512_table
                                                   : avx2_table;
}

const fq_kernels *fq_table(int *count) {
    *count = FQ_TABLE_LEN(avx2_table);
    return active_table;
}

FQ_DEFINE_LOOKUP_OVER_TABLE

const char *fq_backend_target(void) {
    return active_table == amx_table      ? "AVX-512 (F/BW/VL/DQ/VNNI)+AMX-BF16+FMA+F16C"
           : active_table == avx512_table ? "AVX-512 (F/BW/VL/DQ/VNNI)+FMA+F16C"
                                          : "AVX2+FMA+F16C";
}
