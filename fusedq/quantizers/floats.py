"""Unquantized storage types: F32, F16 (saturating at +-65504) and BF16 (round to nearest even)."""
from __future__ import annotations

import numpy as np

from .packing import to_half
from .table import register


@register("F32")
def quantize_f32(blocks: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(blocks, dtype="<f4").view(np.uint8)


@register("F16")
def quantize_f16(blocks: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(to_half(blocks), dtype="<f2").view(np.uint8)


@register("BF16")
def quantize_bf16(blocks: np.ndarray) -> np.ndarray:
    """Top 16 bits of the f32 pattern after rounding the dropped 16 bits to nearest, ties to even.

    Inputs are finite; a value that would round up past the largest bf16 saturates there instead.
    """
    bits = np.ascontiguousarray(blocks, dtype=np.float32).view(np.uint32)
    rounding = np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))
    top = ((bits + rounding) >> 16).astype("<u2")
    top[(top & 0x7FFF) == 0x7F80] -= 1
    return top.view(np.uint8)
