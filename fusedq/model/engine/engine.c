/* The compiled forward pass (see engine.h). One OpenMP team runs the whole forward: every step
 * below is a work-shared loop followed by the team barrier, so threads are started once per call
 * and nothing is allocated. The steps mirror fusedq/model/transformer.py line by line. */
#include <math.h>
#include <string.h>

#include "blocks.h"
#include "engine.h"
#include "f32_rows.h"
#include "omp_shim.h"

#define ROW_TILE 16  /* weight rows per tile; tiles are handed out guided (see fq_matmul) */
#define COL_GROUP 4  /* activation columns per kernel call (as the backend driver) */
#define MAX_JOBS 3   /* matrices sharing one input: Q, K, V */
#define FQ_PI 3.14159265358979323846

/* Hot float loops get an AVX2 clone chosen at load time (GCC ifunc); the code is plain C. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FQ_HOT __attribute__((target_clones("avx2", "default")))
#else
#define FQ_HOT
#endif

typedef struct job {
    const fq_linear *lin;
    const float *x;   /* [n][lin->cols] */
    float *out;       /* [n][lin->rows] */
} job;

/* ---- small float helpers ------------------------------------------------------------------ */

static inline float round_f16(float x) { return fq_round_to_half(x); }

float fq_round_f16(float x) { return round_f16(x); }

/* 8 floats as one GCC vector: a ymm register in the AVX2 clone, two xmm in the default one. The
 * operations are lane-wise multiply then add (no contraction), the same as dot()'s lanes. */
typedef float fq_v8f __attribute__((vector_size(32)));
/* the same, at any float address (unaligned loads; may alias the float arrays it reads) */
typedef float fq_v8f_any __attribute__((vector_size(32), aligned(4), may_alias));
#define LOAD8(p) (*(const fq_v8f_any *)(p))

/* dot()'s reduction of its 8 lanes. */
static inline __attribute__((always_inline)) float lanes_sum(fq_v8f a) {
    return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}

static inline float dot(const float *a, const float *b, int64_t n) {
    fq_v8f acc = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) acc += LOAD8(a + i) * LOAD8(b + i);
    float tail = 0.0f;
    for (; i < n; i++) tail += a[i] * b[i];
    return lanes_sum(acc) + tail;
}

/* out = x / sqrt(mean(x^2) + eps) * w (out may be x), as ops.rms_norm. */
static void rms_norm_row(const float *x, const float *w, float *out, int64_t d, float eps) {
    float ms = dot(x, x, d);
    ms *= (float)(1.0 / (double)d);
    ms += eps;
    ms = sqrtf(ms);
    for (int64_t i = 0; i < d; i++) out[i] = x[i] / ms * w[i];
}

/* ---- matrix products: activations quantized once per input, then one loop over row tiles --- */

static int64_t xq_stride(const fq_model *m, int partner, int64_t cols) {
    const fq_act_format *af = &m->act_formats[partner];
    return cols / af->block * af->block_bytes;
}

/* Whether job L runs the f32 GEMM on bf16 parts of x (AMX tiles; as fq_matmul chooses). */
static int reads_bf16x3(const fq_linear *L, int64_t n) {
    return L->partner == FQ_ACT_F32 && L->k->gemm_bf16x3 && n >= FQ_BF16X3_MIN_COLS;
}

/* Whether job L reads x through an f32 GEMV or GEMM that wants it in its own order (f32_rows.h). */
static int reads_words(const fq_linear *L, int64_t n) {
    return L->partner == FQ_ACT_F32 && !reads_bf16x3(L, n) && fq_f32_x_order(L->k, n) == FQ_X_WORDS16;
}

/* Whether job L reads the float rows prepared with sums (f32_rows.h): its kernels want the sums,
 * or a GEMM would read the rows of x as given 4 KB apart. */
static int reads_rows(const fq_linear *L, int64_t n) {
    return L->partner == FQ_ACT_F32 && !reads_bf16x3(L, n) && (L->k->f32_sums || fq_f32_rows_alias(L->cols, n));
}

/* The input of jobs (one x for all): quantized once per activation format they use, and, for
 * float kernels that want them, rows with per-16 sums (f32_rows.h, as the backend driver), and
 * the rows in FQ_X_WORDS16 order (with sums) when a GEMV or GEMM of the jobs reads that, and x in
 * bf16 parts (its column tiles, in each order needed) for jobs on the AMX GEMM. */
static void prepare_input(const fq_model *m, fq_scratch *s, const job *jobs, int nj, int64_t n) {
    int need[FQ_ACT_COUNT] = {0}, list[FQ_ACT_COUNT + 1], np = 0, words = 0, nsplit = 0, split[2];
    const fq_kernels *splitter = NULL;
    for (int j = 0; j < nj; j++) {
        const fq_linear *L = jobs[j].lin;
        need[L->partner] |= L->partner != FQ_ACT_F32 || reads_rows(L, n);
        words |= reads_words(L, n);
        if (reads_bf16x3(L, n)) {   /* the bf16 parts in each order the jobs' decoders give */
            splitter = L->k;
            if (!(nsplit > 0 && split[0] == L->k->gemv_x_order) && !(nsplit > 1 && split[1] == L->k->gemv_x_order))
                split[nsplit++] = L->k->gemv_x_order;
        }
    }
    for (int p = 0; p < FQ_ACT_COUNT; p++)
        if (need[p]) list[np++] = p;   /* p == FQ_ACT_F32: rows with sums */
    if (!np && !words && !nsplit) return;
    const int64_t cols = jobs[0].lin->cols, ntiles = (n + FQ_BF16X3_COLS - 1) / FQ_BF16X3_COLS;
    const int64_t tiles_from = (np + words) * n;
    FQ_OMP("omp for schedule(static)")
    for (int64_t t = 0; t < tiles_from + nsplit * ntiles; t++) {
        if (t >= tiles_from) {   /* one column tile of x in bf16 parts */
            const int order = split[(t - tiles_from) / ntiles];
            const int64_t c0 = (t - tiles_from) % ntiles * FQ_BF16X3_COLS;
            const int ncols = (int)(n - c0 < FQ_BF16X3_COLS ? n - c0 : FQ_BF16X3_COLS);
            splitter->x_bf16x3(jobs[0].x + c0 * cols, cols, ncols, cols, order,
                               s->xb[order] + c0 / FQ_BF16X3_COLS * FQ_BF16X3_TILE_BYTES(cols),
                               s->xb_scale[order] + c0);
            continue;
        }
        if (t >= np * n) {   /* the rows in FQ_X_WORDS16 order */
            const int64_t i = t - np * n;
            fq_f32_row(jobs[0].x + i * cols, cols, FQ_X_WORDS16, 1, s->xw + i * fq_f32_row_floats(cols, 1));
            continue;
        }
        const int p = list[t / n];
        const int64_t i = t % n;
        const float *x = jobs[0].x + i * cols;
        if (p != FQ_ACT_F32)
            m->act_formats[p].quantize(x, s->xq[p] + i * xq_stride(m, p, cols), cols);
        else
            fq_f32_row(x, cols, FQ_X_NATURAL, 1, s->xs + i * fq_f32_row_floats(cols, 1));
    }
}

static void run_jobs(const fq_model *m, fq_scratch *s, const job *jobs, int nj, int64_t n) {
    prepare_input(m, s, jobs, nj, n);
    int64_t first[MAX_JOBS + 1] = {0};
    for (int j = 0; j < nj; j++) first[j + 1] = first[j] + (jobs[j].lin->rows + ROW_TILE - 1) / ROW_TILE;
    FQ_OMP("omp for schedule(guided)")
    for (int64_t t = 0; t < first[nj]; t++) {
        int j = 0;
        while (t >= first[j + 1]) j++;
        const fq_linear *L = jobs[j].lin;
        const fq_kernels *k = L->k;
        const int64_t rows = L->rows, cols = L->cols, nb = cols / k->block_size;
        const int64_t r0 = (t - first[j]) * ROW_TILE;
        const int64_t r1 = r0 + ROW_TILE < rows ? r0 + ROW_TILE : rows;
        float *out = jobs[j].out;
        if (reads_bf16x3(L, n))
            k->gemm_bf16x3(L->w + r0 * L->row_bytes, L->row_bytes, (int)(r1 - r0), nb, s->xb[k->gemv_x_order],
                           s->xb_scale[k->gemv_x_order], n, out + r0, rows,
                           s->amx + (int64_t)fq_omp_thread_id() * FQ_BF16X3_SCRATCH);
        else if (L->partner != FQ_ACT_F32)
            m->row_tile(k, L->w, L->row_bytes, r0, r1, nb, s->xq[L->partner],
                        xq_stride(m, L->partner, cols), NULL, 0, n, out, rows);
        else if (reads_words(L, n) || reads_rows(L, n))
            m->row_tile(k, L->w, L->row_bytes, r0, r1, nb, NULL, 0, reads_words(L, n) ? s->xw : s->xs,
                        fq_f32_row_floats(cols, 1), n, out, rows);
        else
            m->row_tile(k, L->w, L->row_bytes, r0, r1, nb, NULL, 0, jobs[j].x, cols, n, out, rows);
    }
}

static void matmul1(const fq_model *m, fq_scratch *s, const fq_linear *L, const float *x, float *out,
                    int64_t n) {
    job one = {L, x, out};
    run_jobs(m, s, &one, 1, n);
}

/* ---- per-step loops -------------------------------------------------------------------------- */

static void norm_rows(const fq_model *m, const float *x, const float *w, float *out, int64_t n) {
    FQ_OMP("omp for schedule(static)")
    for (int64_t i = 0; i < n; i++) rms_norm_row(x + i * m->n_embd, w, out + i * m->n_embd, m->n_embd, m->rms_eps);
}

/* x += post_norm(y) (post_norm may be NULL) */
static void add_residual(const fq_model *m, float *x, float *y, const float *post_norm, int64_t n) {
    const int64_t d = m->n_embd;
    FQ_OMP("omp for schedule(static)")
    for (int64_t i = 0; i < n; i++) {
        float *yi = y + i * d, *xi = x + i * d;
        if (post_norm) rms_norm_row(yi, post_norm, yi, d, m->rms_eps);
        for (int64_t e = 0; e < d; e++) xi[e] += yi[e];
    }
}

/* One head of q or k: head norm, pair gather, rotation by rope_row, tail scale, f16 rounding. */
static void prepare_head(const fq_model *m, float *v, const float *norm, const float *rope_row,
                         float tail_scale, int half, float *tmp) {
    const int64_t hd = m->head_dim;
    if (norm) rms_norm_row(v, norm, v, hd, m->rms_eps);
    if (m->perm) {
        for (int64_t d = 0; d < hd; d++) tmp[d] = v[m->perm[d]];
        memcpy(v, tmp, (size_t)hd * sizeof(float));
    }
    for (int64_t j = 0; j < m->n_rot / 2; j++) {
        const float a = v[2 * j], b = v[2 * j + 1], c = rope_row[2 * j], sn = rope_row[2 * j + 1];
        v[2 * j] = a * c - b * sn;
        v[2 * j + 1] = a * sn + b * c;
    }
    if (tail_scale != 0.0f)
        for (int64_t d = m->n_rot; d < hd; d++) v[d] *= tail_scale;
    if (half)
        for (int64_t d = 0; d < hd; d++) v[d] = round_f16(v[d]);
}

static void prepare_qkv(const fq_model *m, const fq_layer *L, fq_scratch *s, int64_t n, int64_t pos0,
                        int half, float *tmp) {
    const int64_t nh = m->n_head, nkv = m->n_head_kv, hd = m->head_dim, heads = nh + 2 * nkv;
    const int64_t half_rot = m->n_rot / 2;
    FQ_OMP("omp for schedule(static)")
    for (int64_t t = 0; t < n * heads; t++) {
        const int64_t i = t / heads, r = t % heads, pos = pos0 + i;
        if (r < nh) {
            prepare_head(m, s->q + (i * nh + r) * hd, L->q_norm, L->rope_q + pos * 2 * half_rot,
                         m->q_tail_scale, half, tmp);
        } else if (r < nh + nkv) {
            prepare_head(m, s->k + (i * nkv + r - nh) * hd, L->k_norm, L->rope_k + pos * 2 * half_rot,
                         0.0f, half, tmp);
        } else if (half) {
            float *v = s->v + (i * nkv + r - nh - nkv) * hd;
            for (int64_t d = 0; d < hd; d++) v[d] = round_f16(v[d]);
        }
    }
}

/* sc[c] = dot(q, keys + c * stride) for c < count, 4 keys at a time: four independent 8-lane
 * chains instead of one (a lone chain waits on add latency). Each dot sums in dot()'s order. */
static inline __attribute__((always_inline)) void dots(const float *q, const float *keys,
                                                       int64_t stride, int64_t count, int64_t n,
                                                       float *sc) {
    int64_t c = 0;
    for (; c + 4 <= count && n % 8 == 0; c += 4) {
        const float *k0 = keys + c * stride, *k1 = k0 + stride, *k2 = k1 + stride, *k3 = k2 + stride;
        fq_v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int64_t i = 0; i < n; i += 8) {
            const fq_v8f qv = LOAD8(q + i);
            a0 += qv * LOAD8(k0 + i);
            a1 += qv * LOAD8(k1 + i);
            a2 += qv * LOAD8(k2 + i);
            a3 += qv * LOAD8(k3 + i);
        }
        sc[c] = lanes_sum(a0) + 0.0f;   /* + dot()'s empty tail */
        sc[c + 1] = lanes_sum(a1) + 0.0f;
        sc[c + 2] = lanes_sum(a2) + 0.0f;
        sc[c + 3] = lanes_sum(a3) + 0.0f;
    }
    for (; c < count; c++) sc[c] = dot(q, keys + c * stride, n);
}

/* The same for FQ_QUERY_BLOCK (4) queries q + j * q_stride at once, 2 keys at a time: each key
 * vector loaded once for the 4 queries (attention was bound by streaming the keys from L2 once
 * per query). sc + j * sc_stride gets query j's scores; each dot sums in dot()'s order. */
static inline __attribute__((always_inline)) void dots_block(const float *q, int64_t q_stride,
                                                             const float *keys, int64_t stride,
                                                             int64_t count, int64_t n, float *sc,
                                                             int64_t sc_stride) {
    enum { QB = FQ_QUERY_BLOCK };
    int64_t c = 0;
    for (; c + 2 <= count && n % 8 == 0; c += 2) {
        const float *k0 = keys + c * stride, *k1 = k0 + stride;
        fq_v8f a[QB][2];
        for (int j = 0; j < QB; j++) a[j][0] = a[j][1] = (fq_v8f){0};
        for (int64_t i = 0; i < n; i += 8) {
            const fq_v8f kv0 = LOAD8(k0 + i), kv1 = LOAD8(k1 + i);
            for (int j = 0; j < QB; j++) {
                const fq_v8f qv = LOAD8(q + j * q_stride + i);
                a[j][0] += qv * kv0;
                a[j][1] += qv * kv1;
            }
        }
        for (int j = 0; j < QB; j++) {
            sc[j * sc_stride + c] = lanes_sum(a[j][0]) + 0.0f;   /* + dot()'s empty tail */
            sc[j * sc_stride + c + 1] = lanes_sum(a[j][1]) + 0.0f;
        }
    }
    for (; c < count; c++)
        for (int j = 0; j < QB; j++) sc[j * sc_stride + c] = dot(q + j * q_stride, keys + c * stride, n);
}

/* out[d] = sum_t w[t] * v_t[d] in t order, 64 outputs held in registers across all t (instead of
 * loading and storing out for every t). v_t: cache slot t for t < n_old, else batch row t - n_old. */
static inline __attribute__((always_inline)) void weighted_values(const float *w, int64_t T,
                                                                  int64_t n_old, const float *vc,
                                                                  const float *vb, int64_t vb_stride,
                                                                  int64_t hd, float *out) {
    int64_t d0 = 0;
    for (; d0 + 64 <= hd; d0 += 64) {
        fq_v8f acc[8] = {{0}};
        for (int64_t t = 0; t < T; t++) {
            const float wt = w[t];
            if (wt == 0.0f) continue;
            const float *v = (t < n_old ? vc + t * hd : vb + (t - n_old) * vb_stride) + d0;
            for (int k = 0; k < 8; k++) acc[k] += wt * LOAD8(v + 8 * k);
        }
        memcpy(out + d0, acc, sizeof acc);
    }
    for (; d0 < hd; d0++) {
        float acc = 0.0f;
        for (int64_t t = 0; t < T; t++) {
            const float wt = w[t];
            if (wt == 0.0f) continue;
            acc += wt * (t < n_old ? vc + t * hd : vb + (t - n_old) * vb_stride)[d0];
        }
        out[d0] = acc;
    }
}

/* Queries i0 .. i0 + nq - 1 (nq <= FQ_QUERY_BLOCK), head h: each query's softmax over the keys it
 * sees (cached positions < pos0, then the batch's own keys 0..i), weights rounded to f16 when
 * `half`, times the values. Query j's scores are sc + j * sc_stride; a full block computes its
 * scores together (dots_block): the cached keys, then the batch's up to the last query's (the
 * others ignore the extra ones). */
FQ_HOT static void attend_heads(const fq_model *m, const fq_layer *L, fq_scratch *s, float *sc,
                                int64_t sc_stride, int64_t i0, int64_t nq, int64_t h, int64_t pos0,
                                int half) {
    const int64_t hd = m->head_dim, nkv = m->n_head_kv, cap = L->capacity;
    const int64_t kvh = h / (m->n_head / nkv), q_stride = m->n_head * hd;
    const float *kc = L->k_cache + kvh * cap * hd, *vc = L->v_cache + kvh * cap * hd;
    const int64_t n_old = pos0 < cap ? pos0 : cap;
    const float *q0 = s->q + (i0 * m->n_head + h) * hd;
    const int block = nq == FQ_QUERY_BLOCK;
    if (block) {
        dots_block(q0, q_stride, kc, hd, n_old, hd, sc, sc_stride);
        dots_block(q0, q_stride, s->k + kvh * hd, nkv * hd, i0 + nq, hd, sc + n_old, sc_stride);
    }
    for (int64_t j = 0; j < nq; j++) {
        const int64_t i = i0 + j, p = pos0 + i;
        const float *q = q0 + j * q_stride;
        float *sq = sc + j * sc_stride;
        if (!block) {
            dots(q, kc, hd, n_old, hd, sq);
            dots(q, s->k + kvh * hd, nkv * hd, i + 1, hd, sq + n_old);
        }
        float mx = -INFINITY;
        for (int64_t sl = 0; sl < n_old; sl++) {   /* keys outside a sliding window do not count */
            const int64_t kpos = pos0 <= cap ? sl : sl + cap * ((pos0 - 1 - sl) / cap);
            if (L->window && p - kpos >= L->window) sq[sl] = -INFINITY;
            mx = sq[sl] > mx ? sq[sl] : mx;
        }
        for (int64_t k = 0; k <= i; k++) {
            if (L->window && i - k >= L->window) sq[n_old + k] = -INFINITY;
            mx = sq[n_old + k] > mx ? sq[n_old + k] : mx;
        }
        const int64_t T = n_old + i + 1;
        float sum = 0.0f;
        for (int64_t t = 0; t < T; t++) {
            sq[t] = expf(sq[t] - mx);
            sum += sq[t];
        }
        for (int64_t t = 0; t < T; t++) {
            sq[t] /= sum;
            if (half) sq[t] = round_f16(sq[t]);
        }
        weighted_values(sq, T, n_old, vc, s->v + kvh * hd, nkv * hd, hd, s->att + (i * m->n_head + h) * hd);
    }
}

static void attention(const fq_model *m, const fq_layer *L, fq_scratch *s, int64_t n, int64_t pos0,
                      int half, float *sc) {
    const int64_t nh = m->n_head, nkv = m->n_head_kv, hd = m->head_dim, cap = L->capacity;
    const int64_t blocks = (n + FQ_QUERY_BLOCK - 1) / FQ_QUERY_BLOCK;
    const int64_t sc_stride = s->score_len / FQ_QUERY_BLOCK;
    FQ_OMP("omp for schedule(dynamic, 1)")
    for (int64_t t = 0; t < blocks * nh; t++) {
        const int64_t i0 = t / nh * FQ_QUERY_BLOCK;
        const int64_t nq = n - i0 < FQ_QUERY_BLOCK ? n - i0 : FQ_QUERY_BLOCK;
        attend_heads(m, L, s, sc, sc_stride, i0, nq, t % nh, pos0, half);
    }
    /* every query has read the cache: store the batch's keys and values (a ring keeps the last cap) */
    const int64_t skip = n > cap ? n - cap : 0;
    FQ_OMP("omp for schedule(static)")
    for (int64_t t = 0; t < (n - skip) * nkv; t++) {
        const int64_t i = skip + t / nkv, kvh = t % nkv, slot = (pos0 + i) % cap;
        memcpy(L->k_cache + (kvh * cap + slot) * hd, s->k + (i * nkv + kvh) * hd, (size_t)hd * sizeof(float));
        memcpy(L->v_cache + (kvh * cap + slot) * hd, s->v + (i * nkv + kvh) * hd, (size_t)hd * sizeof(float));
    }
}

/* x / (1 + exp(-2 sqrt(2/pi) (x + 0.044715 x^3))) = gelu_tanh(x), or silu: x / (1 + exp(-x)) */
static inline float gate_fn(int gelu, float x) {
    const float c2 = (float)(-2.0 * sqrt(2.0 / FQ_PI)), c3 = (float)(-2.0 * sqrt(2.0 / FQ_PI) * 0.044715);
    float t;
    if (gelu) {
        t = x * x;
        t *= c3;
        t += c2;
        t *= x;
    } else {
        t = -x;
    }
    t = expf(t) + 1.0f;
    return x / t;
}

/* llama.cpp computes GELU through a table over every float16 input; so does the engine when it
 * rounds like llama.cpp: entry h = gelu(half h) rounded to f16, filled once by fq_engine_init. */
static float gelu_f16_table[65536];
static int gelu_f16_table_ready;

void fq_engine_init(void) {
    if (gelu_f16_table_ready) return;
    for (uint32_t h = 0; h < 65536; h++) {
        const float x = fq_half_to_float((fq_half)h);
        gelu_f16_table[h] = isfinite(x) ? round_f16(gate_fn(1, x)) : x;
    }
    gelu_f16_table_ready = 1;
}

/* The float16 bit pattern of r, a finite value that is already a float16 (round_f16 output). */
static inline uint32_t half_bits(float r) {
    uint32_t u;
    memcpy(&u, &r, 4);
    const uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a >= 0x38800000u) return sign | ((a - 0x38000000u) >> 13);   /* normal: rebias 127 -> 15 */
    return sign | (uint32_t)(fabsf(r) * 16777216.0f);                 /* subnormal: k * 2^-24 */
}

/* half: GELU as llama.cpp's float16 table computes it (input and result rounded to f16 for
 * -10 < x < 10; 0 below, x above), as ops.gelu_tanh_gate_f16. */
static void gate_activation(const fq_model *m, float *g, const float *u, int64_t count, int half) {
    const int gelu = m->gate_act == FQ_GATE_GELU_TANH, table = gelu && half;
    FQ_OMP("omp for schedule(static)")
    for (int64_t e = 0; e < count; e++) {
        const float x = g[e];
        if (!table) {
            g[e] = gate_fn(gelu, x) * u[e];
        } else if (x <= -10.0f || x >= 10.0f) {
            g[e] = x <= -10.0f ? 0.0f : x * u[e];
        } else {
            g[e] = gelu_f16_table[half_bits(round_f16(x))] * u[e];
        }
    }
}

/* ---- the forward ------------------------------------------------------------------------------- */

static void layer_forward(const fq_model *m, const fq_layer *L, fq_scratch *s, int64_t n, int64_t pos0,
                          int half, float *sc) {
    norm_rows(m, s->x, L->attn_norm, s->h, n);
    job qkv[3] = {{&L->wq, s->h, s->q}, {&L->wk, s->h, s->k}, {&L->wv, s->h, s->v}};
    run_jobs(m, s, qkv, 3, n);
    prepare_qkv(m, L, s, n, pos0, half, sc);
    attention(m, L, s, n, pos0, half, sc);
    matmul1(m, s, &L->wo, s->att, s->o, n);
    add_residual(m, s->x, s->o, L->attn_post_norm, n);

    norm_rows(m, s->x, L->ffn_norm, s->h, n);
    job gate_up[2] = {{&L->gate, s->h, s->g}, {&L->up, s->h, s->u}};
    run_jobs(m, s, gate_up, 2, n);
    gate_activation(m, s->g, s->u, n * m->n_ff, half);
    matmul1(m, s, &L->down, s->g, s->o, n);
    add_residual(m, s->x, s->o, L->ffn_post_norm, n);
}

void fq_engine_forward(const fq_model *m, fq_scratch *s, const int64_t *ids, int64_t n, int64_t pos0,
                       int half, int nthreads) {
    const int64_t d = m->n_embd;
    (void)nthreads;
    FQ_OMP("omp parallel num_threads(nthreads)")
    {
        float *sc = s->scores + (int64_t)fq_omp_thread_id() * s->score_len;
        const fq_kernels *ek = m->embd.k;
        FQ_OMP("omp for schedule(static)")
        for (int64_t i = 0; i < n; i++) {
            float *xi = s->x + i * d;
            ek->dequant(m->embd.w + ids[i] * m->embd.row_bytes, xi, d / ek->block_size);
            if (m->embed_scale != 0.0f)
                for (int64_t e = 0; e < d; e++) xi[e] *= m->embed_scale;
        }
        for (int64_t il = 0; il < m->n_layer; il++) layer_forward(m, &m->layers[il], s, n, pos0, half, sc);

        norm_rows(m, s->x + (n - 1) * d, m->output_norm, s->h, 1);
        matmul1(m, s, &m->output, s->h, s->logits, 1);
        if (m->logit_softcap != 0.0f) {
            const float cap = m->logit_softcap;
            FQ_OMP("omp for schedule(static)")
            for (int64_t v = 0; v < m->n_vocab; v++) s->logits[v] = tanhf(s->logits[v] / cap) * cap;
        }
    }
}
