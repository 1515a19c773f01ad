# The Cython layer shared by the compiled backends (included by each backend's _kernels.pyx).
# It checks every argument and buffer size, then runs the C drivers without the GIL.
from libc.stdint cimport int64_t, uint8_t

import numpy as np

cdef extern from "kernel_table.h" nogil:
    ctypedef struct fq_kernels:
        int type_id
        const char *name
        int block_size
        int type_size
        int partner
        void *dot_q8
        const char *impl
    const fq_kernels *fq_lookup(int type_id)
    const fq_kernels *fq_table(int *count)
    const char *fq_backend_target()

cdef extern from "act_quant.h" nogil:
    ctypedef struct fq_act_format:
        const char *name
        int block
    const fq_act_format fq_act_formats[]

cdef extern from "matmul_driver.h" nogil:
    int FQ_OK
    int FQ_MAX_COLS
    int FQ_COLS_PER_CALL
    int fq_dequantize_rows(const fq_kernels *k, const uint8_t *w, int64_t rows, int64_t row_bytes,
                           int64_t cols, float *out, int nthreads)
    int fq_get_rows(const fq_kernels *k, const uint8_t *w, int64_t row_bytes, const int64_t *ids,
                    int64_t nids, int64_t cols, float *out, int nthreads)
    int fq_matmul(const fq_kernels *k, const uint8_t *w, int64_t rows, int64_t row_bytes,
                  int64_t cols, const float *x, int64_t n, int use_q8, float *out, int nthreads)
    int fq_openmp_compiled()

cdef extern from "cpu_features.h" nogil:
    ctypedef struct fq_cpu:
        int x86, sse41, avx, fma, f16c, avx2, avx512f, avx512bw, avx512vl, avx512dq, avx512vnni
        int amx_tile, amx_bf16, os_ymm, os_zmm, os_amx
    void fq_detect_cpu(fq_cpu *out)
    int fq_request_amx()


cdef const fq_kernels *_kernels_for(int type_id) except NULL:
    cdef const fq_kernels *k = fq_lookup(type_id)
    if k == NULL:
        raise ValueError(f"GGML type id {type_id} has no kernels in this backend")
    return k


cdef int64_t _row_bytes(const fq_kernels *k, int64_t row_bytes_given, int64_t cols) except -1:
    if cols <= 0 or cols % k.block_size:
        raise ValueError(f"{k.name.decode()}: cols={cols} must be a positive multiple of "
                         f"{k.block_size}")
    cdef int64_t need = (cols // k.block_size) * k.type_size
    if row_bytes_given != need:
        raise ValueError(f"{k.name.decode()}: rows of {cols} values take {need} bytes, "
                         f"but the weight buffer has {row_bytes_given} bytes per row")
    return need


cdef int _threads(int nthreads) except -1:
    if nthreads < 1:
        raise ValueError(f"thread count must be 1 or more, got {nthreads}")
    return nthreads


cdef _check_status(int status):
    if status != FQ_OK:
        raise MemoryError("fusedq kernel could not allocate its activation buffer")


def dequantize(int type_id, const uint8_t[:, ::1] data, int64_t cols, int nthreads):
    """float32 [rows, cols] from raw blocks uint8 [rows, row_bytes]."""
    cdef const fq_kernels *k = _kernels_for(type_id)
    cdef int64_t rb = _row_bytes(k, data.shape[1], cols), rows = data.shape[0]
    _threads(nthreads)
    out = np.empty((rows, cols), dtype=np.float32)
    if rows == 0:
        return out
    cdef float[:, ::1] o = out
    cdef int status
    with nogil:
        status = fq_dequantize_rows(k, &data[0, 0], rows, rb, cols, &o[0, 0], nthreads)
    _check_status(status)
    return out


def get_rows(int type_id, const uint8_t[:, ::1] data, const int64_t[::1] ids, int64_t cols,
             int nthreads):
    """float32 [len(ids), cols]: the named rows, dequantized."""
    cdef const fq_kernels *k = _kernels_for(type_id)
    cdef int64_t rb = _row_bytes(k, data.shape[1], cols), rows = data.shape[0]
    cdef int64_t i, nids = ids.shape[0]
    _threads(nthreads)
    for i in range(nids):
        if ids[i] < 0 or ids[i] >= rows:
            raise IndexError(f"row id {ids[i]} out of range for a tensor of {rows} rows")
    out = np.empty((nids, cols), dtype=np.float32)
    if nids == 0:
        return out
    cdef float[:, ::1] o = out
    cdef int status
    with nogil:
        status = fq_get_rows(k, &data[0, 0], rb, &ids[0], nids, cols, &o[0, 0], nthreads)
    _check_status(status)
    return out


def matmul(int type_id, const uint8_t[:, ::1] data, int64_t cols, const float[:, ::1] x,
           bint q8, int nthreads):
    """float32 [n, rows] = x @ W.T, activations f32 or quantized to the type's 8-bit partner."""
    cdef const fq_kernels *k = _kernels_for(type_id)
    cdef int64_t rb = _row_bytes(k, data.shape[1], cols), rows = data.shape[0], n = x.shape[0]
    _threads(nthreads)
    if x.shape[1] != cols:
        raise ValueError(f"x has {x.shape[1]} columns, the weights have {cols}")
    out = np.zeros((n, rows), dtype=np.float32)
    if n == 0 or rows == 0:
        return out
    cdef float[:, ::1] o = out
    cdef int status
    with nogil:
        status = fq_matmul(k, &data[0, 0], rows, rb, cols, &x[0, 0], n, q8, &o[0, 0], nthreads)
    _check_status(status)
    return out


def kernel_table():
    """[{type_id, name, block_size, type_size, partner, impl}] of this backend's table."""
    cdef int count = 0, i
    cdef const fq_kernels *t = fq_table(&count)
    return [dict(type_id=t[i].type_id, name=t[i].name.decode(), block_size=t[i].block_size,
                 type_size=t[i].type_size,
                 partner=fq_act_formats[t[i].partner].name.decode()
                 if t[i].dot_q8 != NULL else "F32",
                 impl=t[i].impl.decode()) for i in range(count)]


def cpu_features():
    """CPU features detected at run time (cpuid + xgetbv)."""
    cdef fq_cpu c
    fq_detect_cpu(&c)
    return dict(x86=bool(c.x86), sse41=bool(c.sse41), avx=bool(c.avx), fma=bool(c.fma),
                f16c=bool(c.f16c), avx2=bool(c.avx2), avx512f=bool(c.avx512f),
                avx512bw=bool(c.avx512bw), avx512vl=bool(c.avx512vl), avx512dq=bool(c.avx512dq),
                avx512vnni=bool(c.avx512vnni), amx_tile=bool(c.amx_tile), amx_bf16=bool(c.amx_bf16),
                os_saves_ymm=bool(c.os_ymm), os_saves_zmm=bool(c.os_zmm), os_saves_amx=bool(c.os_amx))


def request_amx():
    """Ask the OS for this process's permission to use AMX tiles (Linux); True when granted."""
    return bool(fq_request_amx())


def build_info():
    """Facts about this compiled module: OpenMP, SIMD target, columns per weight-row decode."""
    return dict(openmp=bool(fq_openmp_compiled()), target=fq_backend_target().decode(),
                max_cols=FQ_MAX_COLS, cols_per_call=FQ_COLS_PER_CALL)


# --- C entry points for other extensions (the model engine), without duplicating them -------
from cpython.pycapsule cimport PyCapsule_New

cdef extern from "kernel_api.h" nogil:
    const void *fq_kernel_api_of_this_backend()


def kernel_api():
    """PyCapsule "fusedq.kernel_api": pointer to this backend's fq_kernel_api (kernel_api.h)."""
    return PyCapsule_New(<void *>fq_kernel_api_of_this_backend(), b"fusedq.kernel_api", NULL)
