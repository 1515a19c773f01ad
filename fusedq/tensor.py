"""QuantizedTensor: a zero-copy view of raw GGUF blocks plus the operations on it.

This module owns shape/byte bookkeeping and every argument check; the maths is delegated to the
backend in force (registry.py), which receives only validated, C-contiguous arrays.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import registry
from .types import QType, qtype as lookup_qtype

ACTIVATION_MODES = ("f32", "q8")


def _as_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of ints, not {type(shape).__name__}") from None
    if not 1 <= len(dims) <= 4:
        raise ValueError(f"shape must have 1 to 4 dimensions, got {len(dims)}: {dims}")
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError(f"shape entries must be ints, got {d!r} in {dims}")
        if d < 1:
            raise ValueError(f"shape entries must be >= 1, got {dims}")
        out.append(int(d))
    return tuple(out)


def _byte_view(data: Any) -> np.ndarray:
    """A flat uint8 view of a bytes-like object or array, without copying."""
    if isinstance(data, np.ndarray):
        if not data.flags.c_contiguous:
            raise ValueError("data array must be C-contiguous (raw GGUF blocks are contiguous bytes)")
        return data.reshape(-1).view(np.uint8)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        raise TypeError(
            f"data must be bytes-like (bytes, bytearray, memoryview, mmap) or a numpy array, "
            f"not {type(data).__name__}") from None


class QuantizedTensor:
    """A weight matrix kept in its GGUF quantized blocks.

    shape is numpy-style (rows, cols) = (out_features, in_features) = GGUF (ne1, ne0); tensors
    with more dimensions are treated as (prod(shape[:-1]), shape[-1]) matrices.
    """

    __slots__ = ("_qt", "_shape", "_data", "name")

    def __init__(self, data: np.ndarray, qt: QType, shape: tuple[int, ...], name: str = ""):
        # Internal: use from_bytes. `data` is a validated uint8 [rows, row_bytes] array.
        self._qt = qt
        self._shape = shape
        self._data = data
        self.name = name

    @classmethod
    def from_bytes(cls, data: Any, qtype: "str | int | QType", shape: Any,
                   name: str = "") -> "QuantizedTensor":
        """Wrap raw GGUF blocks without copying them. `data` must hold exactly the bytes `shape` needs."""
        qt = lookup_qtype(qtype)
        dims = _as_shape(shape)
        cols = dims[-1]
        if cols % qt.block_size:
            raise ValueError(
                f"{qt.name} stores blocks of {qt.block_size} values: the last dimension ({cols}) "
                f"must be a multiple of {qt.block_size}")
        rows = math.prod(dims[:-1])  # Python ints: a product past 2^63 must not wrap
        row_bytes = qt.row_bytes(cols)
        flat = _byte_view(data)
        need = rows * row_bytes
        if flat.size != need:
            raise ValueError(
                f"{qt.name} tensor of shape {dims} needs {need} bytes "
                f"({rows} rows x {row_bytes} bytes), got {flat.size}")
        view = flat.reshape(rows, row_bytes)
        if view.flags.writeable:
            view = view.view()
            view.flags.writeable = False
        return cls(view, qt, dims, name)

    # --- facts -----------------------------------------------------------------------------
    @property
    def qtype(self) -> str:
        """GGML type name, e.g. "Q4_K"."""
        return self._qt.name

    @property
    def traits(self) -> QType:
        """The type-traits row of this tensor's type."""
        return self._qt

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def rows(self) -> int:
        return self._data.shape[0]

    @property
    def cols(self) -> int:
        return self._shape[-1]

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def bits_per_weight(self) -> float:
        return self._qt.bits_per_weight

    @property
    def data(self) -> np.ndarray:
        """Read-only uint8 [rows, row_bytes]: the raw blocks."""
        return self._data

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        return f"QuantizedTensor({label}{self.qtype}, shape={self._shape}, {self.nbytes} bytes)"

    # --- operations ------------------------------------------------------------------------
    def dequantize(self, *, backend: str | None = None) -> np.ndarray:
        """float32 array of this tensor's shape."""
        out = registry.resolve_backend(backend).dequantize(self._qt, self._data, self.cols)
        return out.reshape(self._shape)

    def get_rows(self, ids: Any, *, backend: str | None = None) -> np.ndarray:
        """float32 [len(ids), cols]: only the named rows, dequantized."""
        idx = np.asarray(ids)
        if idx.dtype == object and idx.size and all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in idx.flat):
            bad = next((int(v) for v in idx.flat if not 0 <= v < self.rows), None)  # e.g. beyond int64
            if bad is not None:
                raise IndexError(f"row id {bad} out of range for a tensor of {self.rows} rows")
            idx = idx.astype(np.int64)
        if idx.dtype.kind == "u" and idx.size and int(idx.max()) >= self.rows:
            raise IndexError(f"row id {int(idx.max())} out of range for a tensor of {self.rows} rows")
        if idx.dtype == np.bool_ or idx.dtype.kind not in "iu":
            if idx.size == 0 and idx.dtype.kind == "f":
                idx = idx.astype(np.int64)
            else:
                raise TypeError(f"row ids must be integers, got dtype {idx.dtype}")
        if idx.ndim > 1:
            raise ValueError(f"row ids must be a scalar or a 1-D sequence, got shape {idx.shape}")
        idx = np.ascontiguousarray(idx.reshape(-1), dtype=np.int64)
        if idx.size:
            lo, hi = int(idx.min()), int(idx.max())
            if lo < 0 or hi >= self.rows:
                bad = lo if lo < 0 else hi
                raise IndexError(f"row id {bad} out of range for a tensor of {self.rows} rows")
        else:
            return np.zeros((0, self.cols), dtype=np.float32)
        return registry.resolve_backend(backend).get_rows(self._qt, self._data, idx, self.cols)

    def matmul(self, x: Any, activations: str = "f32", *, backend: str | None = None) -> np.ndarray:
        """x @ W.T: x float [cols] -> [rows], or [n, cols] -> [n, rows].

        activations="f32" multiplies exactly in float32; "q8" first quantizes x to the 8-bit
        format that pairs with the weight type (llama.cpp's scheme) and uses integer dot products.
        """
        if activations not in ACTIVATION_MODES:
            raise ValueError(f"activations must be one of {ACTIVATION_MODES}, got {activations!r}")
        x2, squeeze = self._check_activations(x)
        be = registry.resolve_backend(backend)
        if x2.shape[0] == 0:
            out = np.zeros((0, self.rows), dtype=np.float32)
        else:
            out = be.matmul(self._qt, self._data, self.cols, x2, activations)
        return out[0] if squeeze else out

    def _check_activations(self, x: Any) -> tuple[np.ndarray, bool]:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:   # e.g. ragged nested lists
            raise ValueError(f"x must be a numeric array [{self.cols}] or [n, {self.cols}]: {exc}") from None
        if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
            raise TypeError(f"x must be a real numeric array, got dtype {arr.dtype}")
        if arr.ndim not in (1, 2):
            raise ValueError(f"x must be 1-D [cols] or 2-D [n, cols], got shape {arr.shape}")
        if arr.shape[-1] != self.cols:
            raise ValueError(
                f"x has {arr.shape[-1]} columns but this tensor has {self.cols} "
                f"(x must be [{self.cols}] or [n, {self.cols}])")
        squeeze = arr.ndim == 1
        x2 = np.ascontiguousarray(arr.reshape(1, -1) if squeeze else arr, dtype=np.float32)
        return x2, squeeze
