"""The numpy backend: the readable reference every compiled backend is tested against.

Dequantization is the `gguf` package's (checked bit-exact against ggml upstream). matmul
dequantizes W a chunk of rows at a time (never a full f32 copy of a large matrix) and accumulates
in float64, so it is an oracle rather than a fast path.
"""
from __future__ import annotations

import numpy as np

from ...types import QType
from .activations import fake_quantize

CHUNK_FLOATS = 1 << 20  # dequantize at most ~4 MB of W at once


def _dequantize_rows(qt: QType, data: np.ndarray) -> np.ndarray:
    # imported on first use: gguf (with yaml) costs ~3 MB that a compiled-backend run never needs
    from gguf import GGMLQuantizationType
    from gguf import quants as gguf_quants
    out = gguf_quants.dequantize(data, GGMLQuantizationType(qt.gguf_id))
    return np.ascontiguousarray(out, dtype=np.float32)


class NumpyBackend:
    name = "numpy"

    def describe(self) -> str:
        return "numpy reference (gguf dequantizers, float64 accumulation)"

    def dequantize(self, qt: QType, data: np.ndarray, cols: int) -> np.ndarray:
        return _dequantize_rows(qt, data).reshape(data.shape[0], cols)

    def get_rows(self, qt: QType, data: np.ndarray, ids: np.ndarray, cols: int) -> np.ndarray:
        return _dequantize_rows(qt, data[ids]).reshape(len(ids), cols)

    def matmul(self, qt: QType, data: np.ndarray, cols: int, x: np.ndarray,
               activations: str) -> np.ndarray:
        xs = fake_quantize(x, qt.act_partner) if activations == "q8" else x
        xs = xs.astype(np.float64)
        rows = data.shape[0]
        out = np.empty((x.shape[0], rows), dtype=np.float32)
        step = max(1, CHUNK_FLOATS // cols)
        for r0 in range(0, rows, step):
            w = _dequantize_rows(qt, data[r0:r0 + step]).reshape(-1, cols)
            out[:, r0:r0 + w.shape[0]] = xs @ w.astype(np.float64).T
        return out


def load() -> NumpyBackend:
    return NumpyBackend()
