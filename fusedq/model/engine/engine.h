/* The compiled forward pass: a plain C description of a model (weights as backend kernel-table
 * entries + raw blocks, norm vectors, RoPE tables, KV cache and scratch buffers, all owned by
 * Python) and one call that runs every layer for n tokens. Same maths as transformer.py. */
#ifndef FQ_ENGINE_H
#define FQ_ENGINE_H

/* queries of one head per attention task (they share every key and value row loaded) */
#define FQ_QUERY_BLOCK 4

#include <stdint.h>

#include "act_quant.h"
#include "kernel_table.h"

enum { FQ_GATE_SILU = 0, FQ_GATE_GELU_TANH = 1 };

typedef struct fq_linear {   /* y[n, rows] = x[n, cols] @ W.T */
    const fq_kernels *k;
    const uint8_t *w;        /* rows * row_bytes bytes of GGUF blocks */
    int64_t rows, cols, row_bytes;
    int partner;             /* activation format (enum fq_partner); FQ_ACT_F32: float dots */
} fq_linear;

typedef struct fq_layer {
    fq_linear wq, wk, wv, wo, gate, up, down;
    const float *attn_norm, *ffn_norm;             /* [n_embd] */
    const float *q_norm, *k_norm;                  /* [head_dim] or NULL */
    const float *attn_post_norm, *ffn_post_norm;   /* [n_embd] or NULL */
    const float *rope_q, *rope_k;  /* [n_ctx][n_rot/2] (cos, sin) pairs; rope_q carries attn_scale */
    float *k_cache, *v_cache;      /* [n_head_kv][capacity][head_dim] */
    int64_t capacity;              /* slots; ring when window > 0 */
    int64_t window;                /* 0: attends to every earlier key */
} fq_layer;

typedef struct fq_scratch {       /* preallocated for up to n_batch tokens */
    float *x, *h, *q, *k, *v, *att, *o, *g, *u;  /* [n_batch][width of each] */
    float *xs;                    /* [n_batch][max fq_f32_row_floats]: rows + per-16 sums */
    float *xw;                    /* [n_batch][max fq_f32_row_floats]: rows in FQ_X_WORDS16 order */
    /* x split in bf16 parts for gemm_bf16x3 (kernel_table.h), in natural / FQ_X_WORDS16 order:
     * [column tiles][FQ_BF16X3_TILE_BYTES(max cols)], the columns' scales [n_batch] */
    uint8_t *xb[2];
    float *xb_scale[2];
    uint8_t *amx;                 /* [max_threads][FQ_BF16X3_SCRATCH]: gemm_bf16x3 working memory */
    float *scores;                /* [max_threads][score_len]: FQ_QUERY_BLOCK score rows each */
    int64_t score_len;
    int max_threads;
    uint8_t *xq[FQ_ACT_COUNT];    /* quantized activations, [n_batch][xq_row_bytes] each */
    int64_t xq_row_bytes;
    float *logits;                /* [n_vocab] */
} fq_scratch;

typedef struct fq_model {
    int64_t n_vocab, n_embd, n_layer, n_ff, n_head, n_head_kv, head_dim, n_rot, n_ctx, n_batch;
    float rms_eps;
    float embed_scale;            /* 0: none */
    float q_tail_scale;           /* scale of the non-rotated query dims (n_rot < head_dim) */
    float logit_softcap;          /* 0: none */
    int gate_act;                 /* FQ_GATE_* */
    const int32_t *perm;          /* [head_dim] gather order of q/k dims before RoPE, or NULL */
    fq_linear embd;               /* token embedding (rows = n_vocab) */
    fq_linear output;
    const float *output_norm;
    const fq_layer *layers;
    const fq_act_format *act_formats;
    /* the backend's fq_row_tile (kernel_api.h): rows [r0, r1) of one product, all columns */
    void (*row_tile)(const fq_kernels *k, const uint8_t *w, int64_t row_bytes, int64_t r0,
                     int64_t r1, int64_t nb, const uint8_t *xq, int64_t xq_stride, const float *xf,
                     int64_t x_stride, int64_t n, float *out, int64_t rows);
} fq_model;

/* Runs tokens ids[0..n) at positions pos0.. (caller checked: 1 <= n <= n_batch, pos0 + n <= n_ctx,
 * ids < n_vocab, 1 <= nthreads <= max_threads); stores their K/V; returns s->logits of the last
 * position. half: round K, V (as stored), q and the attention weights to f16, as llama.cpp's
 * f16 KV cache does (Transformer.f16_rounding). */
void fq_engine_forward(const fq_model *m, fq_scratch *s, const int64_t *ids, int64_t n,
                       int64_t pos0, int half, int nthreads);

/* Fills the engine's GELU float16 table (once; call with the GIL held before the first forward). */
void fq_engine_init(void);

/* x rounded to the nearest IEEE half (ties to even), returned as float. */
float fq_round_f16(float x);

#endif
