"""fusedq.quantize: float32 [rows, cols] -> QuantizedTensor, for every type of the traits table.

This module checks the arguments; the quantizers themselves live in fusedq.quantizers (one
module per type family, one table name -> function).
"""
from __future__ import annotations

import numpy as np

from .quantizers import QUANTIZERS, quantize_matrix
from .tensor import QuantizedTensor
from .types import qtype as lookup_qtype


def quantize(w, qtype: str) -> QuantizedTensor:
    """Quantize a 2-D float matrix [rows, cols] into GGUF blocks of `qtype` (e.g. "Q4_K").

    Values too large for the type's f16 scales saturate at the largest representable magnitude;
    blocks of zeros (or values below ~1e-15) encode as zeros. Deterministic: the same input gives
    the same bytes, whatever the thread count.
    """
    qt = lookup_qtype(qtype)
    arr = np.asarray(w)
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"quantize expects real numbers (an int or float array), got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"quantize expects a 2-D [rows, cols] array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"quantize needs at least one row and one column, got shape {arr.shape}")
    if arr.shape[1] % qt.block_size:
        raise ValueError(
            f"{qt.name} stores blocks of {qt.block_size} values: the column count ({arr.shape[1]}) "
            f"must be a multiple of {qt.block_size}; pad the rows or pick another type")
    with np.errstate(over="ignore"):  # float64 beyond the float32 range becomes Inf: caught next
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("quantize input contains NaN or Inf (after conversion to float32); "
                         "clean the weights first")
    if qt.name not in QUANTIZERS:  # pragma: no cover - every table type is registered (tested)
        raise ValueError(f"no quantizer registered for {qt.name}")
    return QuantizedTensor.from_bytes(quantize_matrix(arr, qt), qt, arr.shape)
