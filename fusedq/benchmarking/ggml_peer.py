"""The ggml peer: ggml's own CPU mul_mat on the same raw GGUF blocks, driven through ctypes.

Benchmark-only. ggml is taken from the libggml*.so files shipped inside the `llama-cpp-python`
package (never a fusedq dependency); `ggml_available()` says whether it can be used here and
`GGMLMatmul` raises GGMLUnavailable otherwise.

One GGMLMatmul holds a ggml context with W (the blocks copied in once), an f32 activation tensor
of n columns, the graph `mul_mat(W, x)`, its compute plan and a persistent thread pool, so each
call times only what llama.cpp does per matmul: quantize x to the weight type's partner, then the
dot products. GGMLMatmul is the plain ggml path; GGMLRepackedMatmul puts W in the CPU backend's
repack buffer, where Q4_0/Q4_K/IQ4_NL rows are interleaved as when llama.cpp loads a model on
AVX2; `llama_cpp_matmul` picks the one llama.cpp would run for a type.
"""
from __future__ import annotations

import ctypes
import glob
import os
from typing import Optional

import numpy as np

GGML_TYPE_F32 = 0
GGML_MAX_N_THREADS = 512                      # ggml.h
THREADPOOL_PARAMS_BYTES = 4096                # >= sizeof(struct ggml_threadpool_params) (~528)
CONTEXT_SLACK_BYTES = 1 << 20                 # tensor/graph headers and alignment padding



def _float_view(lib, tensor, shape: tuple[int, int]) -> np.ndarray:
    """A numpy view of a ggml float32 tensor's data (no copy)."""
    data = ctypes.cast(lib.ggml_get_data(tensor), ctypes.POINTER(ctypes.c_float))
    return np.ctypeslib.as_array(data, shape=shape)

class GGMLUnavailable(RuntimeError):
    """llama-cpp-python (and so libggml) is not importable, or its ggml lacks a needed symbol."""


class _InitParams(ctypes.Structure):          # struct ggml_init_params, passed BY VALUE
    _fields_ = [("mem_size", ctypes.c_size_t),
                ("mem_buffer", ctypes.c_void_p),
                ("no_alloc", ctypes.c_bool)]


class _CPlan(ctypes.Structure):               # struct ggml_cplan (ggml-cpu.h), returned by value
    _fields_ = [("work_size", ctypes.c_size_t),
                ("work_data", ctypes.c_void_p),
                ("n_threads", ctypes.c_int),
                ("threadpool", ctypes.c_void_p),
                ("abort_callback", ctypes.c_void_p),
                ("abort_callback_data", ctypes.c_void_p),
                ("use_ref", ctypes.c_bool)]


_P = ctypes.c_void_p
# name -> (library, restype, argtypes)
_SIGNATURES = {
    "ggml_init": ("base", _P, [_InitParams]),
    "ggml_free": ("base", None, [_P]),
    "ggml_tensor_overhead": ("base", ctypes.c_size_t, []),
    "ggml_graph_overhead": ("base", ctypes.c_size_t, []),
    "ggml_new_tensor_2d": ("base", _P, [_P, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]),
    "ggml_nbytes": ("base", ctypes.c_size_t, [_P]),
    "ggml_get_data": ("base", _P, [_P]),
    "ggml_mul_mat": ("base", _P, [_P, _P, _P]),
    "ggml_new_graph": ("base", _P, [_P]),
    "ggml_build_forward_expand": ("base", None, [_P, _P]),
    "ggml_threadpool_params_init": ("base", None, [_P, ctypes.c_int]),
    "ggml_cpu_init": ("cpu", None, []),
    "ggml_graph_plan": ("cpu", _CPlan, [_P, ctypes.c_int, _P]),
    "ggml_graph_compute": ("cpu", ctypes.c_int, [_P, ctypes.POINTER(_CPlan)]),
    "ggml_threadpool_new": ("cpu", _P, [_P]),
    "ggml_threadpool_free": ("cpu", None, [_P]),
    "ggml_threadpool_pause": ("cpu", None, [_P]),
    # the backend API, for the repacked path llama.cpp uses when it loads a model
    "ggml_backend_cpu_init": ("cpu", _P, []),
    "ggml_backend_cpu_set_n_threads": ("cpu", None, [_P, ctypes.c_int]),
    "ggml_backend_get_device": ("base", _P, [_P]),
    "ggml_backend_dev_backend_reg": ("base", _P, [_P]),
    "ggml_backend_reg_get_proc_address": ("base", _P, [_P, ctypes.c_char_p]),
    "ggml_backend_buft_name": ("base", ctypes.c_char_p, [_P]),
    "ggml_backend_alloc_ctx_tensors_from_buft": ("base", _P, [_P, _P]),
    "ggml_backend_alloc_ctx_tensors": ("base", _P, [_P, _P]),
    "ggml_backend_tensor_set": ("base", None, [_P, _P, ctypes.c_size_t, ctypes.c_size_t]),
    "ggml_backend_graph_compute": ("base", ctypes.c_int, [_P, _P]),
    "ggml_backend_buffer_free": ("base", None, [_P]),
    "ggml_backend_free": ("base", None, [_P]),
}
_EXTRA_BUFTS_FN = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)

_lib = None
_load_error: Optional[str] = None


def library_dir() -> str:
    """Directory of the libggml*.so files inside the installed llama_cpp package."""
    try:
        import llama_cpp  # noqa: F401  (importing it also loads its bundled libraries)
    except Exception as exc:  # ImportError, or a broken build raising OSError
        raise GGMLUnavailable(f"llama-cpp-python is not importable ({exc}); "
                              "pip install llama-cpp-python to compare with ggml") from None
    base = os.path.dirname(llama_cpp.__file__)
    for candidate in (os.path.join(base, "lib"), base):
        if glob.glob(os.path.join(candidate, "libggml-base.so*")):
            return candidate
    raise GGMLUnavailable(f"no libggml-base.so found under {base}")


class _Lib:
    def __init__(self):
        where = library_dir()
        mode = ctypes.RTLD_GLOBAL
        self.base = ctypes.CDLL(os.path.join(where, "libggml-base.so"), mode=mode)
        self.cpu = ctypes.CDLL(os.path.join(where, "libggml-cpu.so"), mode=mode)
        for name, (which, restype, argtypes) in _SIGNATURES.items():
            try:
                fn = getattr(getattr(self, which), name)
            except AttributeError:
                raise GGMLUnavailable(f"this libggml has no {name}") from None
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)
        self.ggml_cpu_init()


def _library() -> _Lib:
    global _lib, _load_error
    if _lib is None:
        if _load_error is not None:
            raise GGMLUnavailable(_load_error)
        try:
            _lib = _Lib()
        except (GGMLUnavailable, OSError) as exc:
            _load_error = str(exc)
            raise GGMLUnavailable(_load_error) from None
    return _lib


def ggml_available() -> tuple[bool, str]:
    """(True, library dir) when ggml can be driven here, else (False, the reason)."""
    try:
        _library()
        return True, library_dir()
    except GGMLUnavailable as exc:
        return False, str(exc)


class GGMLMatmul:
    """y = x @ W.T by ggml's CPU mul_mat for W given as raw GGUF blocks [rows, row_bytes].

    `gguf_id` is the ggml type id (fusedq.types.QType.gguf_id); x is float32 [n, cols].
    Call close() (or use as a context manager) to free the context and thread pool.
    """

    def __init__(self, data: np.ndarray, gguf_id: int, rows: int, cols: int, n: int,
                 n_threads: int = 2):
        lib = self._lib = _library()
        data = np.ascontiguousarray(data, dtype=np.uint8)
        mem = (data.nbytes + 4 * cols * n + 4 * rows * n
               + 4 * lib.ggml_tensor_overhead() + lib.ggml_graph_overhead() + CONTEXT_SLACK_BYTES)
        self._ctx = lib.ggml_init(_InitParams(mem, None, False))
        if not self._ctx:
            raise MemoryError(f"ggml_init could not allocate {mem} bytes")
        self.rows, self.cols, self.n = rows, cols, n
        self._pool = None
        try:
            self._w = lib.ggml_new_tensor_2d(self._ctx, gguf_id, cols, rows)
            if lib.ggml_nbytes(self._w) != data.nbytes:
                raise ValueError(f"ggml expects {lib.ggml_nbytes(self._w)} bytes for type {gguf_id} "
                                 f"[{rows}, {cols}], got {data.nbytes}")
            ctypes.memmove(lib.ggml_get_data(self._w), data.ctypes.data, data.nbytes)
            self._x = lib.ggml_new_tensor_2d(self._ctx, GGML_TYPE_F32, cols, n)
            self._y = lib.ggml_mul_mat(self._ctx, self._w, self._x)
            self._graph = lib.ggml_new_graph(self._ctx)
            lib.ggml_build_forward_expand(self._graph, self._y)
            params = ctypes.create_string_buffer(THREADPOOL_PARAMS_BYTES)
            lib.ggml_threadpool_params_init(params, n_threads)
            self._pool = lib.ggml_threadpool_new(params)
            self._plan = lib.ggml_graph_plan(self._graph, n_threads, self._pool)
            self._work = np.empty(max(1, self._plan.work_size), dtype=np.uint8)
            self._plan.work_data = self._work.ctypes.data
        except BaseException:
            self.close()
            raise
        self._x_view = _float_view(lib, self._x, (n, cols))
        self._y_view = _float_view(lib, self._y, (n, rows))

    def set_input(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float32).reshape(self.n, self.cols)
        self._x_view[...] = x

    def compute(self) -> None:
        """One mul_mat on the current input (what a benchmark times)."""
        status = self._lib.ggml_graph_compute(self._graph, ctypes.byref(self._plan))
        if status != 0:
            raise RuntimeError(f"ggml_graph_compute failed with status {status}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """float32 [n, rows]: set x, compute, copy the result out."""
        self.set_input(x)
        self.compute()
        return self._y_view.copy()

    def pause(self) -> None:
        """Let the pool's threads sleep (so they do not spin while other code is timed)."""
        if self._pool:
            self._lib.ggml_threadpool_pause(self._pool)

    def close(self) -> None:
        if getattr(self, "_pool", None):
            self._lib.ggml_threadpool_free(self._pool)
            self._pool = None
        if getattr(self, "_ctx", None):
            self._lib.ggml_free(self._ctx)
            self._ctx = None

    def __enter__(self) -> "GGMLMatmul":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass


def repack_buffer_type(lib: _Lib, backend: int) -> Optional[int]:
    """The CPU backend's repacking buffer type ("CPU_REPACK"), or None if this build has none."""
    reg = lib.ggml_backend_dev_backend_reg(lib.ggml_backend_get_device(backend))
    addr = lib.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_dev_get_extra_bufts")
    if not addr:
        return None
    bufts = _EXTRA_BUFTS_FN(addr)(lib.ggml_backend_get_device(backend))
    i = 0
    while bufts and bufts[i]:
        if b"REPACK" in (lib.ggml_backend_buft_name(bufts[i]) or b"").upper():
            return bufts[i]
        i += 1
    return None


class GGMLRepackedMatmul(GGMLMatmul):
    """Like GGMLMatmul, but W lives in the CPU backend's repacking buffer, as when llama.cpp loads
    a model: on AVX2, Q4_0/Q4_K/IQ4_NL rows are interleaved at load (other types are stored as
    they are). Runs through ggml_backend_graph_compute."""

    def __init__(self, data: np.ndarray, gguf_id: int, rows: int, cols: int, n: int,
                 n_threads: int = 2):
        lib = self._lib = _library()
        data = np.ascontiguousarray(data, dtype=np.uint8)
        self.rows, self.cols, self.n = rows, cols, n
        self._pool = self._ctx = self._ctx_w = self._buf_w = self._buf_x = None
        self._backend = lib.ggml_backend_cpu_init()
        try:
            lib.ggml_backend_cpu_set_n_threads(self._backend, n_threads)
            buft = repack_buffer_type(lib, self._backend)
            if buft is None:
                raise GGMLUnavailable("this libggml has no CPU repack buffer type")
            headers = 4 * lib.ggml_tensor_overhead() + lib.ggml_graph_overhead() + CONTEXT_SLACK_BYTES
            self._ctx_w = lib.ggml_init(_InitParams(headers, None, True))
            self._w = lib.ggml_new_tensor_2d(self._ctx_w, gguf_id, cols, rows)
            self._buf_w = lib.ggml_backend_alloc_ctx_tensors_from_buft(self._ctx_w, buft)
            if not self._buf_w:
                raise GGMLUnavailable("ggml could not allocate W in the repack buffer")
            lib.ggml_backend_tensor_set(self._w, data.ctypes.data, 0, data.nbytes)  # repacks
            self._ctx = lib.ggml_init(_InitParams(headers, None, True))
            self._x = lib.ggml_new_tensor_2d(self._ctx, GGML_TYPE_F32, cols, n)
            self._y = lib.ggml_mul_mat(self._ctx, self._w, self._x)
            self._graph = lib.ggml_new_graph(self._ctx)
            lib.ggml_build_forward_expand(self._graph, self._y)
            self._buf_x = lib.ggml_backend_alloc_ctx_tensors(self._ctx, self._backend)
        except BaseException:
            self.close()
            raise
        self._x_view = _float_view(lib, self._x, (n, cols))
        self._y_view = _float_view(lib, self._y, (n, rows))

    def compute(self) -> None:
        status = self._lib.ggml_backend_graph_compute(self._backend, self._graph)
        if status != 0:
            raise RuntimeError(f"ggml_backend_graph_compute failed with status {status}")

    def close(self) -> None:
        lib = self._lib
        for attr, free in (("_buf_x", lib.ggml_backend_buffer_free), ("_buf_w", lib.ggml_backend_buffer_free),
                           ("_ctx", lib.ggml_free), ("_ctx_w", lib.ggml_free),
                           ("_backend", lib.ggml_backend_free)):
            handle = getattr(self, attr, None)
            if handle:
                free(handle)
                setattr(self, attr, None)


# types whose rows llama.cpp's CPU backend interleaves at load on AVX2 (no-op types crash there)
REPACKED_TYPES = {"Q4_0": 2, "Q4_K": 12, "IQ4_NL": 20}


def llama_cpp_matmul(data: np.ndarray, gguf_id: int, rows: int, cols: int, n: int,
                     n_threads: int = 2) -> GGMLMatmul:
    """ggml's mul_mat as llama.cpp runs it on a loaded model: repacked W for the types it
    repacks (when the repack buffer exists and rows are a multiple of 8), plain otherwise."""
    if gguf_id in REPACKED_TYPES.values() and rows % 8 == 0:
        try:
            return GGMLRepackedMatmul(data, gguf_id, rows, cols, n, n_threads)
        except GGMLUnavailable:
            pass
    return GGMLMatmul(data, gguf_id, rows, cols, n, n_threads)
