/* The C entry points one compiled backend offers other extensions (the model engine), handed over
 * as a PyCapsule named "fusedq.kernel_api" by the backend's kernel_api(): nothing is duplicated,
 * the engine calls the very kernels and drivers of the backend in force. */
#ifndef FQ_KERNEL_API_H
#define FQ_KERNEL_API_H

#include "act_quant.h"
#include "kernel_table.h"
#include "matmul_driver.h"

#define FQ_KERNEL_API_NAME "fusedq.kernel_api"
#define FQ_KERNEL_API_VERSION 9 /* 2: gemm_q8; 3: gemv_q8; 4: gemm_f32; 5: row_tile; 6: gemv_f32;
                                  * 7: gemv_x_order; 8: gemv_q8 over columns, gemv_cols;
                                  * 9: x_bf16x3, gemm_bf16x3 */

typedef struct fq_kernel_api {
    int version;      /* FQ_KERNEL_API_VERSION of the backend that filled it */
    int struct_size;  /* sizeof(fq_kernel_api) there: a layout check for the user */
    int kernels_size; /* sizeof(fq_kernels) there */
    const fq_kernels *(*lookup)(int type_id);
    int (*matmul)(const fq_kernels *k, const uint8_t *w, int64_t rows, int64_t row_bytes,
                  int64_t cols, const float *x, int64_t n, int use_q8, float *out, int nthreads);
    int (*get_rows)(const fq_kernels *k, const uint8_t *w, int64_t row_bytes, const int64_t *ids,
                    int64_t nids, int64_t cols, float *out, int nthreads);
    const fq_act_format *act_formats; /* indexed by enum fq_partner */
    int n_act_formats;
    const char *(*target)(void);
    void (*row_tile)(const fq_kernels *k, const uint8_t *w, int64_t row_bytes, int64_t r0,
                     int64_t r1, int64_t nb, const uint8_t *xq, int64_t xq_stride, const float *xf,
                     int64_t x_stride, int64_t n, float *out, int64_t rows);
} fq_kernel_api;

/* The calling backend's table (only the backend's own module calls this). */
static inline const fq_kernel_api *fq_kernel_api_of_this_backend(void) {
    static const fq_kernel_api api = {
        FQ_KERNEL_API_VERSION, (int)sizeof(fq_kernel_api), (int)sizeof(fq_kernels),
        fq_lookup, fq_matmul, fq_get_rows, fq_act_formats, FQ_ACT_COUNT, fq_backend_target,
        fq_row_tile};
    return &api;
}

#endif
