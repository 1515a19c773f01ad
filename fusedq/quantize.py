"""fusedq.quantize: float32 [rows, cols] -> QuantizedTensor, for every type of the traits table.

Placeholder until the quantizers land: float types and the types the `gguf` package writes.
"""
from __future__ import annotations

import numpy as np
from gguf import GGMLQuantizationType
from gguf import quants as gguf_quants

from .tensor import QuantizedTensor
from .types import qtype as lookup_qtype


def quantize(w, qtype: str) -> QuantizedTensor:
    qt = lookup_qtype(qtype)
    arr = np.asarray(w)
    if arr.ndim != 2:
        raise ValueError(f"quantize expects a 2-D [rows, cols] array, got shape {arr.shape}")
    if arr.dtype.kind not in "iuf" or arr.dtype == np.bool_:
        raise TypeError(f"quantize expects real numbers, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("quantize input contains NaN or Inf")
    if arr.shape[1] % qt.block_size:
        raise ValueError(f"{qt.name} needs a column count that is a multiple of {qt.block_size}, got {arr.shape[1]}")
    raw = gguf_quants.quantize(arr, GGMLQuantizationType(qt.gguf_id))
    return QuantizedTensor.from_bytes(np.ascontiguousarray(raw).view(np.uint8), qt, arr.shape)
