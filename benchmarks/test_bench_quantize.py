"""Quantizer throughput: fusedq.quantize per type on a TinyLlama-shaped 2048 x 5632 matrix.

Run: python -m pytest benchmarks/test_bench_quantize.py --benchmark-only
Thread count is explicit in every benchmark name. When llama-cpp-python is installed, the same
run also times llama.cpp's own reference quantizer (ggml_quantize_chunk, one thread) as a peer
and reports both quantizers' relative RMSE in `extra_info`.
"""
from __future__ import annotations

import ctypes
import pathlib

import numpy as np
import pytest
from gguf import GGMLQuantizationType
from gguf import quants as gguf_quants

from fusedq.quantizers import quantize_matrix
from fusedq.types import QTYPES

SHAPE = (2048, 5632)
SMALL_SHAPE = (256, 5632)  # the types without a speed target
TARGET_TYPES = ["Q4_K", "Q6_K", "Q5_0", "Q8_0"]
OTHER_TYPES = [n for n in QTYPES if n not in TARGET_TYPES and QTYPES[n].is_quantized]


def _ggml_quantize_chunk():
    """llama.cpp's ggml_quantize_chunk from llama-cpp-python's bundled libggml-base, or None."""
    try:
        import llama_cpp
    except ImportError:
        return None
    for lib in pathlib.Path(llama_cpp.__file__).parent.glob("lib/libggml-base.so*"):
        fn = ctypes.CDLL(str(lib)).ggml_quantize_chunk
        fn.restype = ctypes.c_size_t
        fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                       ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        return fn
    return None


GGML_QUANTIZE = _ggml_quantize_chunk()


def _weights(shape) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(shape).astype(np.float32)


def _relative_rmse(w: np.ndarray, blocks: np.ndarray, name: str) -> float:
    deq = gguf_quants.dequantize(blocks, GGMLQuantizationType[name]).reshape(w.shape)
    return float(np.sqrt(np.mean((w - deq) ** 2)) / np.sqrt(np.mean(w ** 2)))


def _run_fusedq(benchmark, name, shape, threads):
    w = _weights(shape)
    blocks = benchmark.pedantic(quantize_matrix, args=(w, QTYPES[name], threads), rounds=3,
                                iterations=1, warmup_rounds=0)
    benchmark.extra_info["Mweights_per_s"] = w.size / benchmark.stats.stats.median / 1e6
    benchmark.extra_info["relative_rmse"] = _relative_rmse(w, blocks, name)
    benchmark.extra_info["threads"] = threads


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", TARGET_TYPES)
def test_fusedq_quantize_2048x5632(benchmark, name, threads):
    _run_fusedq(benchmark, name, SHAPE, threads)


@pytest.mark.parametrize("name", OTHER_TYPES)
def test_fusedq_quantize_256x5632_2_threads(benchmark, name):
    _run_fusedq(benchmark, name, SMALL_SHAPE, 2)


@pytest.mark.skipif(GGML_QUANTIZE is None, reason="llama-cpp-python (peer) not installed")
@pytest.mark.parametrize("name", TARGET_TYPES + OTHER_TYPES)
def test_llama_cpp_reference_quantize_1_thread(benchmark, name):
    shape = SHAPE if name in TARGET_TYPES else SMALL_SHAPE
    w = _weights(shape)
    qt = QTYPES[name]
    out = np.empty((shape[0], qt.row_bytes(shape[1])), dtype=np.uint8)

    def run():
        GGML_QUANTIZE(qt.gguf_id, w.ctypes.data, out.ctypes.data, 0, shape[0], shape[1], None)
        return out

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=0)
    benchmark.extra_info["Mweights_per_s"] = w.size / benchmark.stats.stats.median / 1e6
    benchmark.extra_info["relative_rmse"] = _relative_rmse(w, out, name)
    benchmark.extra_info["threads"] = 1
