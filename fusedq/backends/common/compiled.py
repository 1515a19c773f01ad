"""CompiledBackend: the Backend protocol over a compiled `_kernels` module (scalar or simd).

The module checks buffers and runs the C drivers without the GIL; this wrapper only adds the
thread count, read from fusedq.threads on every call so set_num_threads takes effect at once.
"""
from __future__ import annotations

import numpy as np

from ...threads import get_num_threads
from ...types import QType


class CompiledBackend:
    def __init__(self, name: str, module):
        self.name = name
        self._m = module
        self._table = {row["type_id"]: row for row in module.kernel_table()}

    # --- facts ------------------------------------------------------------------------------
    def build_info(self) -> dict:
        """OpenMP compiled in, SIMD target, CPU features detected, per-type implementations."""
        info = dict(self._m.build_info())
        info["cpu"] = self._m.cpu_features()
        info["kernels"] = {row["name"]: row["impl"] for row in self._table.values()}
        return info

    def describe(self) -> str:
        info = self._m.build_info()
        omp = "OpenMP" if info["openmp"] else "no OpenMP (single-threaded build)"
        return (f"{self.name}: {info['target']}, {omp}, {get_num_threads()} threads, "
                f"{info['cols_per_call']} activation columns per weight-row decode")

    def kernel_api(self):
        """PyCapsule with this backend's C entry points (kernel_api.h), for the model engine."""
        return self._m.kernel_api()

    # --- operations -------------------------------------------------------------------------
    def dequantize(self, qt: QType, data: np.ndarray, cols: int) -> np.ndarray:
        return self._m.dequantize(qt.gguf_id, data, cols, get_num_threads())

    def get_rows(self, qt: QType, data: np.ndarray, ids: np.ndarray, cols: int) -> np.ndarray:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        return self._m.get_rows(qt.gguf_id, data, ids, cols, get_num_threads())

    def matmul(self, qt: QType, data: np.ndarray, cols: int, x: np.ndarray,
               activations: str) -> np.ndarray:
        if activations not in ("f32", "q8"):
            raise ValueError(f"activations must be 'f32' or 'q8', got {activations!r}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 2:
            raise ValueError(f"x must be 2-D [n, cols], got shape {x.shape}")
        return self._m.matmul(qt.gguf_id, data, cols, x, activations == "q8", get_num_threads())
