/* Portable dot-product loops of the scalar backend, written once and instantiated per type:
 * f32 mode turns a chunk of <= 256 weights into floats in an L1 buffer (float weights via
 * their dequantizer, quantized ones via the integer unpack) and reuses it for every activation
 * column; q8 mode unpacks a block to integers (unpack_generic.h) and reuses it for
 * every column. Eight partial sums keep the f32 loops vectorizable without reassociation. */
#ifndef FQ_GENERIC_DOTS_H
#define FQ_GENERIC_DOTS_H

#include "kernel_table.h"
#include "unpack_generic.h"

#define FQ_INLINE static inline __attribute__((always_inline))

FQ_INLINE float fq_dot_chunk(const float *a, const float *b, int len) {
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= len; i += 8)
        for (int l = 0; l < 8; l++) s[l] += a[i + l] * b[i + l];
    for (; i < len; i++) s[0] += a[i] * b[i];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

FQ_INLINE void fq_generic_dot_f32(fq_dequant_fn dequant, int bs, int ts, const uint8_t *w,
                                  int64_t nb, const float *x, int64_t xs, int nx, float *out,
                                  int64_t os) {
    float buf[FQ_QK];
    float acc[FQ_MAX_COLS] = {0};
    const int per = FQ_QK / bs;
    for (int64_t b = 0; b < nb; b += per) {
        const int cnt = (int)(nb - b < per ? nb - b : per), len = cnt * bs;
        dequant(w + b * ts, buf, cnt);
        for (int j = 0; j < nx; j++) acc[j] += fq_dot_chunk(buf, x + j * xs + b * bs, len);
    }
    for (int j = 0; j < nx; j++) out[j * os] = acc[j];
}

typedef void (*fq_unpack32_fn)(const uint8_t *, fq_unpacked32 *);
typedef void (*fq_unpackK_fn)(const uint8_t *, fq_unpackedK *);

/* Quantized 32-blocks in f32 mode: the block's integers as floats (exact), eight partial dots
 * per column, scaled once per block into eight running sums (value = d*q + m: the min meets
 * eight partial sums of x); one reduction per row. Measured shape: GCC vectorizes the inner
 * loops of this form at the baseline ISA (other forms got it to vectorize over columns). */
FQ_INLINE void fq_generic_dot_f32_32(fq_unpack32_fn unpack, int ts, const uint8_t *w, int64_t nb,
                                     const float *x, int64_t xs, int nx, float *out, int64_t os) {
    float qf[32];
    float acc[FQ_MAX_COLS][8] = {{0}};
    fq_unpacked32 u;
    for (int64_t b = 0; b < nb; b++) {
        unpack(w + b * ts, &u);
        for (int i = 0; i < 32; i++) qf[i] = (float)u.q[i];
        for (int j = 0; j < nx; j++) {
            const float *xb = x + j * xs + 32 * b;
            float s[8] = {0}, sx[8] = {0};
            for (int i = 0; i < 32; i += 8)
                for (int l = 0; l < 8; l++) s[l] += qf[i + l] * xb[i + l];
            for (int l = 0; l < 8; l++) acc[j][l] += u.d * s[l];
            if (u.m != 0.0f) {
                for (int i = 0; i < 32; i += 8)
                    for (int l = 0; l < 8; l++) sx[l] += xb[i + l];
                for (int l = 0; l < 8; l++) acc[j][l] += u.m * sx[l];
            }
        }
    }
    for (int j = 0; j < nx; j++) {
        const float *a = acc[j];
        out[j * os] = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
    }
}

FQ_INLINE void fq_generic_dot_f32_K(fq_unpackK_fn unpack, int ts, const uint8_t *w, int64_t nb,
                                    const float *x, int64_t xs, int nx, float *out, int64_t os) {
    float buf[FQ_QK];
    float acc[FQ_MAX_COLS] = {0};
    fq_unpackedK u;
    for (int64_t b = 0; b < nb; b++) {
        unpack(w + b * ts, &u);
        fq_floats_from_K(&u, buf);
        for (int j = 0; j < nx; j++) acc[j] += fq_dot_chunk(buf, x + j * xs + FQ_QK * b, FQ_QK);
    }
    for (int j = 0; j < nx; j++) out[j * os] = acc[j];
}

FQ_INLINE void fq_generic_dot_q8_32(fq_unpack32_fn unpack, int ts, const uint8_t *w, int64_t nb,
                                    const uint8_t *xq, int64_t xs, int nx, float *out, int64_t os) {
    float acc[FQ_MAX_COLS] = {0};
    fq_unpacked32 u;
    for (int64_t b = 0; b < nb; b++) {
        unpack(w + b * ts, &u);
        for (int j = 0; j < nx; j++) {
            const fq_q8_32 *y = (const fq_q8_32 *)(xq + j * xs) + b;
            int s = 0;
            for (int i = 0; i < 32; i++) s += u.q[i] * y->qs[i];
            acc[j] += u.d * y->d * (float)s + u.m * y->s;
        }
    }
    for (int j = 0; j < nx; j++) out[j * os] = acc[j];
}

FQ_INLINE void fq_generic_dot_q8_K(fq_unpackK_fn unpack, int ts, const uint8_t *w, int64_t nb,
                                   const uint8_t *xq, int64_t xs, int nx, float *out, int64_t os) {
    float acc[FQ_MAX_COLS] = {0};
    fq_unpackedK u;
    for (int64_t b = 0; b < nb; b++) {
        unpack(w + b * ts, &u);
        for (int j = 0; j < nx; j++) {
            const fq_q8_K *y = (const fq_q8_K *)(xq + j * xs) + b;
            int isum = 0, msum = 0;
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int i = 16 * g; i < 16 * g + 16; i++) s += u.q[i] * y->qs[i];
                isum += u.sc[g] * s;
                msum += u.mn[g] * y->bsums[g];
            }
            acc[j] += u.d * y->d * (float)isum - u.dmin * y->d * (float)msum;
        }
    }
    for (int j = 0; j < nx; j++) out[j * os] = acc[j];
}

/* Instantiation helpers: one exported function per (type, operation). */
#define FQ_GENERIC_DOT_F32(name, dequant, bs, ts)                                                  \
    static void fq_dot_f32_##name(const uint8_t *w, int64_t nb, const float *x, int64_t xs,      \
                                  int nx, float *out, int64_t os) {                             \
        fq_generic_dot_f32(dequant, bs, ts, w, nb, x, xs, nx, out, os);                          \
    }
#define FQ_GENERIC_DOTS_32(name, ts)                                                               \
    static void fq_dot_f32_##name(const uint8_t *w, int64_t nb, const float *x, int64_t xs,      \
                                  int nx, float *out, int64_t os) {                             \
        fq_generic_dot_f32_32(fq_unpack_##name, ts, w, nb, x, xs, nx, out, os);                  \
    }                                                                                            \
    FQ_GENERIC_DOT_Q8_32(name, ts)
#define FQ_GENERIC_DOTS_K(name, ts)                                                                \
    static void fq_dot_f32_##name(const uint8_t *w, int64_t nb, const float *x, int64_t xs,      \
                                  int nx, float *out, int64_t os) {                             \
        fq_generic_dot_f32_K(fq_unpack_##name, ts, w, nb, x, xs, nx, out, os);                   \
    }                                                                                            \
    FQ_GENERIC_DOT_Q8_K(name, ts)
#define FQ_GENERIC_DOT_Q8_32(name, ts)                                                             \
    static void fq_dot_q8_##name(const uint8_t *w, int64_t nb, const uint8_t *xq, int64_t xs,    \
                                 int nx, float *out, int64_t os) {                              \
        fq_generic_dot_q8_32(fq_unpack_##name, ts, w, nb, xq, xs, nx, out, os);                  \
    }
#define FQ_GENERIC_DOT_Q8_K(name, ts)                                                              \
    static void fq_dot_q8_##name(const uint8_t *w, int64_t nb, const uint8_t *xq, int64_t xs,    \
                                 int nx, float *out, int64_t os) {                              \
        fq_generic_dot_q8_K(fq_unpack_##name, ts, w, nb, xq, xs, nx, out, os);                   \
    }

#endif
