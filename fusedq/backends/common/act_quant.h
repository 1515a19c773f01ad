/* Quantization of activation rows to the 8-bit partner formats (same values as numpy_ref). */
#ifndef FQ_ACT_QUANT_H
#define FQ_ACT_QUANT_H

#include <stdint.h>

typedef void (*fq_act_quantize_fn)(const float *x, uint8_t *dst, int64_t n);

typedef struct fq_act_format {
    const char *name;
    int block;        /* elements per block, 0 for F32 */
    int block_bytes;
    fq_act_quantize_fn quantize;
} fq_act_format;

extern const fq_act_format fq_act_formats[];

#endif
