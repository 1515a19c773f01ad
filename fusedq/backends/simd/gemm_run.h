/* The passes of a packed q8 GEMM tile over NC activation columns, written once for both tile
 * widths: included (twice, no include guard) by avx2_gemm.h for 8-row ymm tiles and by
 * avx512_gemm16.h for 16-row zmm tiles, after defining
 *   FQ_GR_LANES  rows per tile          FQ_GR_TILE    the tile type
 *   FQ_GR_F, FQ_GR_I   float and integer vector types
 *   FQ_GR_V(op)  the intrinsic of that width (_mm256_op / _mm512_op), FQ_GR_ZERO_I() its zero
 *   FQ_GR_FN(f)  the name of function f at that width
 *   FQ_GR_DOT_RUN, FQ_GR_BCAST4  the tile's integer dot run and 4-byte broadcast.
 * Every lane (row) does the same operations in the same order at both widths. */

/* The accumulators of a pass: zero for the first K chunk, else the sums so far (stored by the
 * previous chunk), so each output adds its blocks in one sequence whatever FQ_TILE_K is. */
FQ_AVX_INLINE void FQ_GR_FN(fq_gemm_start)(FQ_GR_F *acc, int accumulate, const float *out,
                                           int64_t os, int nrows, const int NC) {
    for (int j = 0; j < NC; j++) {
        const float *o = out + j * os;
        if (!accumulate) {
            acc[j] = FQ_GR_V(setzero_ps)();
        } else if (nrows == FQ_GR_LANES) {
            acc[j] = FQ_GR_V(loadu_ps)(o);
        } else {
            float tmp[FQ_GR_LANES] = {0};
            for (int r = 0; r < nrows; r++) tmp[r] = o[r];
            acc[j] = FQ_GR_V(loadu_ps)(tmp);
        }
    }
}

FQ_AVX_INLINE void FQ_GR_FN(fq_gemm_store)(const FQ_GR_F *acc, float *out, int64_t os, int nrows,
                                           const int NC) {
    for (int j = 0; j < NC; j++) {
        float *o = out + j * os;
        if (nrows == FQ_GR_LANES) {
            FQ_GR_V(storeu_ps)(o, acc[j]);
        } else {
            float tmp[FQ_GR_LANES];
            FQ_GR_V(storeu_ps)(tmp, acc[j]);
            for (int r = 0; r < nrows; r++) o[r] = tmp[r];
        }
    }
}

/* 32-blocks: columns xq + j * xs (fq_q8_32 rows), blocks b0 .. b0 + nblk of the tile. */
FQ_AVX_INLINE void FQ_GR_FN(fq_gemm_run32)(const FQ_GR_TILE *t, int nblk, int64_t b0, const int G,
                                           const int signed_q, const int has_min, const int depth,
                                           const uint8_t *xq, int64_t xs, float *out, int64_t os,
                                           int nrows, int accumulate, const int NC) {
    (void)G;
    FQ_GR_F acc[FQ_GEMM_PASS];
    FQ_GR_FN(fq_gemm_start)(acc, accumulate, out, os, nrows, NC);
    for (int b = 0; b < nblk; b++) {
        const fq_q8_32 *y[FQ_GEMM_PASS];
        const int8_t *x[FQ_GEMM_PASS];
        FQ_GR_I isum[FQ_GEMM_PASS];
        for (int j = 0; j < NC; j++) {
            y[j] = (const fq_q8_32 *)(xq + j * xs) + b0 + b;
            x[j] = y[j]->qs;
            isum[j] = FQ_GR_ZERO_I();
        }
        FQ_GR_DOT_RUN(t, 8 * b, 8, depth, signed_q, x, NULL, isum, NC);
        for (int j = 0; j < NC; j++) {
            const FQ_GR_F dd = FQ_GR_V(mul_ps)(t->d[b], FQ_GR_V(set1_ps)(y[j]->d));
            acc[j] = FQ_GR_V(fmadd_ps)(dd, FQ_GR_V(cvtepi32_ps)(isum[j]), acc[j]);
            if (has_min) acc[j] = FQ_GR_V(fmadd_ps)(t->m[b], FQ_GR_V(set1_ps)(y[j]->s), acc[j]);
        }
    }
    FQ_GR_FN(fq_gemm_store)(acc, out, os, nrows, NC);
}

/* 256-blocks (fq_q8_K columns): per-16 scales in the integer sum, mins through the block sums. */
FQ_AVX_INLINE void FQ_GR_FN(fq_gemm_runK)(const FQ_GR_TILE *t, int nblk, int64_t b0, const int G,
                                          const int signed_q, const int has_min, const int depth,
                                          const uint8_t *xq, int64_t xs, float *out, int64_t os,
                                          int nrows, int accumulate, const int NC) {
    const int offset = FQ_K_OFFSET_Q && signed_q; /* see fq_gemm_packK */
    FQ_GR_F acc[FQ_GEMM_PASS];
    FQ_GR_FN(fq_gemm_start)(acc, accumulate, out, os, nrows, NC);
    for (int b = 0; b < nblk; b++) {
        const fq_q8_K *y[FQ_GEMM_PASS];
        const int8_t *x[FQ_GEMM_PASS];
        FQ_GR_I isum[FQ_GEMM_PASS], imin[FQ_GEMM_PASS];
        for (int j = 0; j < NC; j++) {
            y[j] = (const fq_q8_K *)(xq + j * xs) + b0 + b;
            isum[j] = FQ_GR_ZERO_I();
        }
        for (int g = 0; g < 16; g += G / 16) { /* G values share a scale: one run over them */
            for (int j = 0; j < NC; j++) x[j] = y[j]->qs + 16 * g;
            FQ_GR_DOT_RUN(t, 64 * b + 4 * g, G / 4, depth, signed_q && !offset, x, &t->sc[16 * b + g],
                          isum, NC);
        }
        if (has_min || offset) {
            for (int j = 0; j < NC; j++) imin[j] = FQ_GR_ZERO_I();
            for (int p = 0; p < 8; p++) {
                const FQ_GR_I mn = t->mn[8 * b + p];
                for (int j = 0; j < NC; j++) {
                    const FQ_GR_I pair = FQ_GR_BCAST4((const int8_t *)(y[j]->bsums + 2 * p));
                    imin[j] = FQ_GR_V(add_epi32)(imin[j], FQ_GR_V(madd_epi16)(mn, pair));
                }
            }
        }
        for (int j = 0; j < NC; j++) {
            const FQ_GR_F dy = FQ_GR_V(set1_ps)(y[j]->d);
            const FQ_GR_I is = offset ? FQ_GR_V(sub_epi32)(isum[j], imin[j]) : isum[j];
            acc[j] = FQ_GR_V(fmadd_ps)(FQ_GR_V(mul_ps)(t->d[b], dy), FQ_GR_V(cvtepi32_ps)(is), acc[j]);
            if (has_min)
                acc[j] = FQ_GR_V(fnmadd_ps)(FQ_GR_V(mul_ps)(t->m[b], dy),
                                            FQ_GR_V(cvtepi32_ps)(imin[j]), acc[j]);
        }
    }
    FQ_GR_FN(fq_gemm_store)(acc, out, os, nrows, NC);
}

#undef FQ_GR_LANES
#undef FQ_GR_TILE
#undef FQ_GR_F
#undef FQ_GR_I
#undef FQ_GR_V
#undef FQ_GR_ZERO_I
#undef FQ_GR_FN
#undef FQ_GR_DOT_RUN
#undef FQ_GR_BCAST4
