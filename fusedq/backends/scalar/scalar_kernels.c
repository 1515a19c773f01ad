/* The scalar backend's kernel table: portable C for every type (no intrinsics). Dequantizers
 * are the shared bit-exact ones; dots are the generic loops of generic_dots.h over the shared
 * integer unpackers (unpack_generic.h). */
#include "generic_dots.h"
#include "table_lookup.h"
#include "type_list.h"

#if defined(__GNUC__)
/* F16 weights in the dot loops: a 65,536-entry table (256 KB, filled once when the library
 * loads) gives each half's float with one load instead of the bit arithmetic; same values. */
static float f16_table[65536];
__attribute__((constructor)) static void fill_f16_table(void) {
    for (uint32_t h = 0; h < 65536; h++) f16_table[h] = fq_half_to_float((fq_half)h);
}
static inline void dequant_f16_by_table(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = f16_table[fq_load_u16(src + 2 * i)];
}
#endif

FQ_GENERIC_DOT_F32(f32, fq_dequant_f32, 1, 4)
#if defined(__GNUC__)
/* One column (decode): look each half up and multiply at once, without the float buffer; eight
 * partial sums as fq_dot_chunk keeps them. Several columns share one buffered conversion. */
static void fq_dot_f32_f16_buffered(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx,
                                    float *out, int64_t os) {
    fq_generic_dot_f32(dequant_f16_by_table, 1, 2, w, n, x, xs, nx, out, os);
}
static void fq_dot_f32_f16(const uint8_t *w, int64_t n, const float *x, int64_t xs, int nx,
                           float *out, int64_t os) {
    if (nx != 1) {
        fq_dot_f32_f16_buffered(w, n, x, xs, nx, out, os);
        return;
    }
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) s[l] += f16_table[fq_load_u16(w + 2 * (i + l))] * x[i + l];
    float tail = 0.0f;
    for (; i < n; i++) tail += f16_table[fq_load_u16(w + 2 * i)] * x[i];
    out[0] = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + tail;
}
#else
FQ_GENERIC_DOT_F32(f16, fq_dequant_f16, 1, 2)
#endif
FQ_GENERIC_DOT_F32(bf16, fq_dequant_bf16, 1, 2)

FQ_GENERIC_DOTS_32(q4_0, 18)
FQ_GENERIC_DOTS_32(q4_1, 20)
FQ_GENERIC_DOTS_32(q5_0, 22)
FQ_GENERIC_DOTS_32(q5_1, 24)
FQ_GENERIC_DOTS_32(q8_0, 34)
FQ_GENERIC_DOTS_32(iq4_nl, 18)
FQ_GENERIC_DOTS_K(q2_K, 84)
FQ_GENERIC_DOTS_K(q3_K, 110)
FQ_GENERIC_DOTS_K(q4_K, 144)
FQ_GENERIC_DOTS_K(q5_K, 176)
FQ_GENERIC_DOTS_K(q6_K, 210)
FQ_GENERIC_DOTS_K(iq4_xs, 136)

#define FLOAT_ROW(id, NAME, ts, name) {id, NAME, 1, ts, FQ_ACT_F32, fq_dequant_##name, fq_dot_f32_##name, 0, "generic"},
#define QUANT_ROW(id, NAME, bs, ts, partner, name)                                                 \
    {id, NAME, bs, ts, partner, fq_dequant_##name, fq_dot_f32_##name, fq_dot_q8_##name, "generic"},

static const fq_kernels scalar_table[] = {
    FQ_FOR_EACH_TYPE(FLOAT_ROW, QUANT_ROW)
};

FQ_DEFINE_LOOKUP(scalar_table)

const char *fq_backend_target(void) { return "portable C (no intrinsics)"; }
