/* GEMV entry points of the simd backend (q8 and f32 modes): many weight rows against ONE
 * activation row in a single call (decode: one token). One call per row tile instead of one per
 * row removes the per-row call and dispatch cost, which matters for short rows (640 values: 20
 * blocks). q8 mode goes 4 rows at a time: each activation block is loaded once for 4 rows, the 4
 * rows' dots are reduced together and scaled at once. f32 mode: 32-blocks 4 rows at a time,
 * 256-blocks the row kernel per row; the AVX-512 build has its own f32 loops (avx512_gemv_f32.h). */
#ifndef FQ_AVX2_GEMV_H
#define FQ_AVX2_GEMV_H

#include "avx2_common.h"

#define FQ_GEMV_ROWS 4
#define FQ_GEMV_PREFETCH_ROWS 16 /* rows ahead */

/* The 4 rows are read block-interleaved, which the hardware prefetcher does not follow: prefetch
 * the rows FQ_GEMV_PREFETCH_ROWS on (contiguous bytes, `ahead`) at the pace these are consumed,
 * `step` bytes per block. They may lie past this call's rows (the next tile; past the matrix end
 * only at the last tile): prefetches never fault and touch nothing. 25% on the 178 MB Gemma
 * output matrix. */
FQ_AVX_INLINE void fq_avx_prefetch_step(const uint8_t *ahead, int64_t b, int64_t step) {
    for (int64_t o = b * step; o < (b + 1) * step; o += 64) _mm_prefetch((const char *)ahead + o, _MM_HINT_T0);
}

/* Lanes 0-3 plus lanes 4-7: the 4 rows' sums after the hadd reductions. */
FQ_AVX_INLINE __m128 fq_avx_halves_sum(__m256 v) {
    return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
}

/* The sums of v[0..3]'s 8 int32 lanes: lanes 0-3 of each 128-bit half hold the 4 rows' partial sums. */
FQ_AVX_INLINE __m256i fq_avx_hadd4_epi32(const __m256i v[4]) {
    return _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
}

/* The half-precision field at p in 4 rows (stride bytes apart), as 4 floats. */
FQ_AVX_INLINE __m128 fq_avx_halves4(const uint8_t *p, int64_t stride) {
    __m128i h = _mm_cvtsi32_si128(fq_load_u16(p));
    h = _mm_insert_epi16(h, fq_load_u16(p + stride), 1);
    h = _mm_insert_epi16(h, fq_load_u16(p + 2 * stride), 2);
    h = _mm_insert_epi16(h, fq_load_u16(p + 3 * stride), 3);
    return _mm_cvtph_ps(h);
}

/* 32-blocks, 4 rows per step. The 4 rows' integer dots are reduced together (3 hadds give the
 * 4 row sums in lanes 0-3 of each 128-bit half), so converting, scaling and accumulating cost
 * one instruction per 4 rows; the scales d (field at byte 0) of the 4 rows convert at once.
 * Mins: m = min_per_d * d (Q4_0, Q5_0 with their offsets) or the half at byte 2 (min_half).
 * nx <= FQ_GEMV_COLS columns (xs bytes apart, outputs os apart): each block is decoded once for
 * all of them, and every column gets the operations a single column gets (the same bits as nx
 * one-column calls). */
FQ_AVX_INLINE void fq_avx_gemv_q8_32(fq_avx_unpack32_fn unpack, const int ts, const int signed_q,
                                     const float min_per_d, const int min_half,
                                     const uint8_t *w, int64_t row_bytes, int64_t nrows,
                                     int64_t nb, const uint8_t *xq, int64_t xs, const int nx,
                                     float *out, int64_t os) {
    const int has_min = min_per_d != 0.0f || min_half;
    int64_t r = 0;
    for (; r + FQ_GEMV_ROWS <= nrows; r += FQ_GEMV_ROWS) {
        __m256 acc[FQ_GEMV_COLS];
        __m128 macc[FQ_GEMV_COLS];
        for (int j = 0; j < nx; j++) acc[j] = _mm256_setzero_ps(), macc[j] = _mm_setzero_ps();
        const uint8_t *wr = w + r * row_bytes;
        const uint8_t *ahead = wr + FQ_GEMV_PREFETCH_ROWS * row_bytes;
        const int64_t step = FQ_GEMV_ROWS * ts;
        for (int64_t b = 0; b < nb; b++) {
            fq_avx_prefetch_step(ahead, b, step);
            const fq_q8_32 *y[FQ_GEMV_COLS];
            __m256i yv[FQ_GEMV_COLS], p[FQ_GEMV_COLS][FQ_GEMV_ROWS];
            for (int j = 0; j < nx; j++) {
                y[j] = (const fq_q8_32 *)(xq + j * xs) + b;
                yv[j] = _mm256_loadu_si256((const __m256i *)y[j]->qs);
            }
            for (int i = 0; i < FQ_GEMV_ROWS; i++) {
                float d_unused, m_unused;
                const __m256i q = unpack(wr + i * row_bytes + b * ts, &d_unused, &m_unused);
                const __m256i uq = signed_q ? _mm256_sign_epi8(q, q) : q;
                for (int j = 0; j < nx; j++) {
                    const __m256i xv = signed_q ? _mm256_sign_epi8(yv[j], q) : yv[j];
                    p[j][i] = fq_avx_dot4_acc(_mm256_setzero_si256(), uq, xv);
                }
            }
            const __m128 d = fq_avx_halves4(wr + b * ts, row_bytes);
            const __m128 m = !has_min ? _mm_setzero_ps()
                             : min_half ? fq_avx_halves4(wr + b * ts + 2, row_bytes)
                                        : _mm_mul_ps(d, _mm_set1_ps(min_per_d));
            for (int j = 0; j < nx; j++) {
                const __m256i sums = fq_avx_hadd4_epi32(p[j]);
                const __m128 dd = _mm_mul_ps(d, _mm_set1_ps(y[j]->d));
                acc[j] = _mm256_fmadd_ps(_mm256_set_m128(dd, dd), _mm256_cvtepi32_ps(sums), acc[j]);
                if (has_min) macc[j] = _mm_fmadd_ps(m, _mm_set1_ps(y[j]->s), macc[j]);
            }
        }
        for (int j = 0; j < nx; j++) _mm_storeu_ps(out + j * os + r, _mm_add_ps(fq_avx_halves_sum(acc[j]), macc[j]));
    }
    for (; r < nrows; r++)
        fq_avx_dot_q8_32(unpack, signed_q, ts, has_min, w + r * row_bytes, nb, xq, xs, out + r, os, nx);
}

/* The exported q8 GEMV of a 32-block type (fq_gemv_q8_fn): nx dispatched to constants. */
#define FQ_AVX_GEMV_Q8_32_CASE(N, ...)                                                             \
    case N:                                                                                      \
        fq_avx_gemv_q8_32(__VA_ARGS__, w, row_bytes, nrows, nb, xq, xs, N, out, os);             \
        break;
#define FQ_AVX_DEFINE_GEMV_Q8_32(name, ...)                                                        \
    _Static_assert(FQ_GEMV_COLS == 4, "the nx switch covers 1..4");                              \
    void FQ_SIMD_FN(gemv_q8_##name)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb, \
                                const uint8_t *xq, int64_t xs, int nx, float *out, int64_t os) { \
        switch (nx) {                                                                            \
            FQ_AVX_GEMV_Q8_32_CASE(1, __VA_ARGS__) FQ_AVX_GEMV_Q8_32_CASE(2, __VA_ARGS__)        \
            FQ_AVX_GEMV_Q8_32_CASE(3, __VA_ARGS__) FQ_AVX_GEMV_Q8_32_CASE(4, __VA_ARGS__)        \
        }                                                                                        \
    }

/* f32 mode, 32-blocks, 4 rows per step: each x block is loaded once for the 4 rows, the rows'
 * float dots are reduced together (3 hadds) and scaled by their 4 d at once; the min term
 * (m as in fq_avx_gemv_q8_32) meets the block's x sum, also computed once for the 4 rows. */
FQ_AVX_INLINE void fq_avx_gemv_f32_32(fq_avx_floats32_fn floats, const int ts, const float min_per_d,
                                      const int min_half, const uint8_t *w, int64_t row_bytes,
                                      int64_t nrows, int64_t nb, const float *x, float *out,
                                      fq_dot_f32_fn row_dot) {
    const int has_min = min_per_d != 0.0f || min_half;
    int64_t r = 0;
    for (; r + FQ_GEMV_ROWS <= nrows; r += FQ_GEMV_ROWS) {
        __m256 acc = _mm256_setzero_ps();
        __m128 macc = _mm_setzero_ps();
        const uint8_t *wr = w + r * row_bytes;
        const uint8_t *ahead = wr + FQ_GEMV_PREFETCH_ROWS * row_bytes;
        const int64_t step = FQ_GEMV_ROWS * ts;
        for (int64_t b = 0; b < nb; b++) {
            fq_avx_prefetch_step(ahead, b, step);
            const float *xp = x + 32 * b;
            const __m256 x0 = _mm256_loadu_ps(xp), x1 = _mm256_loadu_ps(xp + 8);
            const __m256 x2 = _mm256_loadu_ps(xp + 16), x3 = _mm256_loadu_ps(xp + 24);
            __m256 t[FQ_GEMV_ROWS];
            for (int i = 0; i < FQ_GEMV_ROWS; i++) {
                __m256 q[4];
                float d_unused, m_unused;
                floats(wr + i * row_bytes + b * ts, q, &d_unused, &m_unused);
                t[i] = _mm256_add_ps(_mm256_fmadd_ps(q[1], x1, _mm256_mul_ps(q[0], x0)),
                                     _mm256_fmadd_ps(q[3], x3, _mm256_mul_ps(q[2], x2)));
            }
            const __m256 sums = _mm256_hadd_ps(_mm256_hadd_ps(t[0], t[1]), _mm256_hadd_ps(t[2], t[3]));
            const __m128 d = fq_avx_halves4(wr + b * ts, row_bytes);
            acc = _mm256_fmadd_ps(_mm256_set_m128(d, d), sums, acc);
            if (has_min) {
                const __m128 m = min_half ? fq_avx_halves4(wr + b * ts + 2, row_bytes)
                                          : _mm_mul_ps(d, _mm_set1_ps(min_per_d));
                const float xsum = fq_avx_hsum(_mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)));
                macc = _mm_fmadd_ps(m, _mm_set1_ps(xsum), macc);
            }
        }
        _mm_storeu_ps(out + r, _mm_add_ps(fq_avx_halves_sum(acc), macc));
    }
    for (; r < nrows; r++) row_dot(w + r * row_bytes, nb, x, 0, 1, out + r, 0);
}

#include "avx512_gemv_f32.h"
#include "avx512_zdecode.h"

/* The exported GEMVs of one 32-block type, q8 and f32 (fq_gemv_q8_fn, fq_gemv_f32_fn in
 * kernel_table.h). MIN_PER_D, MIN_HALF: see fq_avx_gemv_q8_32 (both 0: no min). */
#define FQ_AVX_DEFINE_GEMV_32(name, ts, SIGNED, MIN_PER_D, MIN_HALF)                               \
    FQ_AVX_DEFINE_GEMV_Q8_32(name, fq_avx_unpack_##name, ts, SIGNED, MIN_PER_D, MIN_HALF)        \
    void FQ_SIMD_FN(gemv_f32_##name)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb, \
                                 const float *x, float *out) {                                   \
        FQ_AVX_GEMV_F32_32(name, ts, MIN_PER_D, MIN_HALF)                                        \
    }
/* f32: the AVX-512 build's zmm row loop (avx512_gemv_f32.h; its tables hold signed values, so
 * only a stored min is a min there), else 4 rows at a time. */
#if FQ_SIMD_AVX512
#define FQ_AVX_GEMV_F32_32(name, ts, MIN_PER_D, MIN_HALF)                                          \
    _Static_assert((int)fq_z_x_order_##name == (int)FQ_X_NATURAL, "x order of the table");         \
    fq_z_gemv_f32_32(fq_z_vals32_##name, ts, MIN_HALF, w, row_bytes, nrows, nb, x, out);
#else
#define FQ_AVX_GEMV_F32_32(name, ts, MIN_PER_D, MIN_HALF)                                          \
    fq_avx_gemv_f32_32(fq_avx_floats_##name, ts, MIN_PER_D, MIN_HALF, w, row_bytes, nrows, nb, x, \
                       out, FQ_SIMD_FN(dot_f32_##name));
#endif
/* 256-blocks, 4 rows per step: each row's integer block sums (its type's krow, see
 * FQ_AVX_KSUMS_FROM_CHUNKS) are reduced with the other 3 rows' (3 hadds), then converted and
 * scaled by the 4 rows' d (and dmin) at once; the activation block stays in L1 for the 4 rows. */
typedef void (*fq_avx_krow_fn)(const uint8_t *blk, const uint8_t *xq, int64_t b, __m256i *isum,
                               __m256i *msum, float *d, float *dmin);
FQ_AVX_INLINE void fq_avx_gemv_q8_K(fq_avx_krow_fn krow, const int ts, const int has_min,
                                    const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb,
                                    const uint8_t *xq, float *out, fq_dot_q8_fn row_dot) {
    const fq_q8_K *y = (const fq_q8_K *)xq;
    int64_t r = 0;
    for (; r + FQ_GEMV_ROWS <= nrows; r += FQ_GEMV_ROWS) {
        __m256 acc = _mm256_setzero_ps();
        const uint8_t *wr = w + r * row_bytes;
        const uint8_t *ahead = wr + FQ_GEMV_PREFETCH_ROWS * row_bytes;
        const int64_t step = FQ_GEMV_ROWS * ts;
        for (int64_t b = 0; b < nb; b++) {
            fq_avx_prefetch_step(ahead, b, step);
            __m256i is[FQ_GEMV_ROWS], ms[FQ_GEMV_ROWS];
            float d[FQ_GEMV_ROWS], dmin[FQ_GEMV_ROWS];
            for (int i = 0; i < FQ_GEMV_ROWS; i++)
                krow(wr + i * row_bytes + b * ts, xq, b, &is[i], &ms[i], &d[i], &dmin[i]);
            const __m128 yd = _mm_set1_ps(y[b].d);
            const __m256i isum = fq_avx_hadd4_epi32(is);
            const __m128 dd = _mm_mul_ps(_mm_setr_ps(d[0], d[1], d[2], d[3]), yd);
            acc = _mm256_fmadd_ps(_mm256_set_m128(dd, dd), _mm256_cvtepi32_ps(isum), acc);
            if (has_min) {
                const __m256i msum = fq_avx_hadd4_epi32(ms);
                const __m128 dm = _mm_mul_ps(_mm_setr_ps(dmin[0], dmin[1], dmin[2], dmin[3]), yd);
                acc = _mm256_fnmadd_ps(_mm256_set_m128(dm, dm), _mm256_cvtepi32_ps(msum), acc);
            }
        }
        _mm_storeu_ps(out + r, fq_avx_halves_sum(acc));
    }
    for (; r < nrows; r++) row_dot(w + r * row_bytes, nb, xq, 0, 1, out + r, 0);
}

/* (The table gives the K family gemv_cols = 1; more columns would be one pass each.) */
#define FQ_AVX_DEFINE_GEMV_Q8_K(name, ts, HAS_MIN)                                                 \
    void FQ_SIMD_FN(gemv_q8_##name)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb, \
                                const uint8_t *xq, int64_t xs, int nx, float *out, int64_t os) { \
        for (int j = 0; j < nx; j++)                                                             \
            fq_avx_gemv_q8_K(fq_avx_krow_##name, ts, HAS_MIN, w, row_bytes, nrows, nb, xq + j * xs, \
                             out + j * os, FQ_SIMD_FN(dot_q8_##name));                           \
    }
#define FQ_AVX_DEFINE_GEMV_K(name, ts, HAS_MIN)                                                    \
    FQ_AVX_DEFINE_GEMV_Q8_K(name, ts, HAS_MIN)                                                   \
    FQ_AVX_DEFINE_GEMV_F32_ROWS(name, ts, HAS_MIN)
/* The same for Q2_K, Q3_K, Q6_K, whose f32 GEMV in the AVX-512 build reads x in FQ_X_WORDS16 order
 * (fq_z_gemv_f32_words; fq_z_x_order_<name> in simd_kernels.h tells the drivers). */
#if FQ_SIMD_AVX512
#define FQ_AVX_DEFINE_GEMV_K_WORDS(name, ts)                                                       \
    FQ_AVX_DEFINE_GEMV_Q8_K(name, ts, 1)                                                         \
    void FQ_SIMD_FN(gemv_f32_##name)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb, \
                                 const float *x, float *out) {                                   \
        _Static_assert((int)fq_z_x_order_##name == (int)FQ_X_WORDS16, "x order of the table");     \
        fq_z_gemv_f32_words(fq_z_wscales_##name, fq_z_wvals_##name, ts, w, row_bytes, nrows,       \
                            nb, x, out);                                                           \
    }
#else
#define FQ_AVX_DEFINE_GEMV_K_WORDS(name, ts) FQ_AVX_DEFINE_GEMV_K(name, ts, 1)
#endif
/* f32 GEMV of the 256-block types: the AVX-512 build's zmm row loop (avx512_gemv_f32.h); else
 * their row dot, row by row (x carries its per-16 sums), each row first prefetching the one
 * FQ_GEMV_PREFETCH_ROWS on (Q4_K 5632x2048 at one thread: 1.21 -> 0.81 ms; the hardware
 * prefetcher alone left the loop waiting on L3). */
#if FQ_SIMD_AVX512
#define FQ_AVX_DEFINE_GEMV_F32_ROWS(name, ts, HAS_MIN)                                             \
    void FQ_SIMD_FN(gemv_f32_##name)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb, \
                                 const float *x, float *out) {                                   \
        _Static_assert((int)fq_z_x_order_##name == (int)FQ_X_NATURAL, "x order of the table");     \
        fq_z_gemv_f32_K(fq_z_kscales_##name, fq_z_kvals_##name, fq_z_kv_##name, fq_avx_kg_##name, \
                        ts, HAS_MIN, w, row_bytes, nrows, nb, x, out);                           \
    }
#else
#define FQ_AVX_DEFINE_GEMV_F32_ROWS(name, ts, HAS_MIN)                                             \
    void FQ_SIMD_FN(gemv_f32_##name)(const uint8_t *w, int64_t row_bytes, int64_t nrows, int64_t nb, \
                                 const float *x, float *out) {                                   \
        for (int64_t r = 0; r < nrows; r++) {                                                    \
            fq_avx_prefetch_step(w + (r + FQ_GEMV_PREFETCH_ROWS) * row_bytes, 0, row_bytes);      \
            FQ_SIMD_FN(dot_f32_##name)(w + r * row_bytes, nb, x, 0, 1, out + r, 0);              \
        }                                                                                        \
    }
#endif

#endif
