"""The 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.

Same maths as llama.cpp's reference quantizers (and gguf-py's): symmetric types take the scale
from the largest-magnitude value, asymmetric ones from min and max. One deliberate difference:
the levels are computed against the f16 scale actually stored (saturated at +-65504), so the
blocks decode as intended even when the scale is a subnormal or clamped half.
"""
from __future__ import annotations

import numpy as np

from .fits import signed_absmax
from .packing import (assemble, half_bytes, pack_bits_u32, pack_nibble_halves, safe_inverse,
                      to_half)
from .table import register


def _symmetric_levels(blocks: np.ndarray, nmax: int) -> tuple[np.ndarray, np.ndarray]:
    """d = max / -nmax; levels floor(x / d + nmax + 0.5) in 0..2*nmax-1."""
    d16 = to_half(signed_absmax(blocks, axis=1) / -nmax)
    inv = safe_inverse(d16.astype(np.float32))
    levels = np.floor(blocks * inv[:, None] + (nmax + 0.5))
    np.clip(levels, 0, 2 * nmax - 1, out=levels)
    return d16, levels.astype(np.uint8)


def _asymmetric_levels(blocks: np.ndarray, nmax: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """d = (max - min) / nmax, m = min; levels floor((x - m) / d + 0.5) in 0..nmax."""
    lo = blocks.min(axis=1)
    hi = blocks.max(axis=1)
    d16 = to_half((hi - lo) / nmax)
    m16 = to_half(lo)
    inv = safe_inverse(d16.astype(np.float32))
    levels = np.floor((blocks - m16.astype(np.float32)[:, None]) * inv[:, None] + 0.5)
    np.clip(levels, 0, nmax, out=levels)
    return d16, m16, levels.astype(np.uint8)


@register("Q4_0")
def quantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    d16, q = _symmetric_levels(blocks, 8)
    return assemble(len(blocks), 18, [half_bytes(d16), pack_nibble_halves(q)])


@register("Q4_1")
def quantize_q4_1(blocks: np.ndarray) -> np.ndarray:
    d16, m16, q = _asymmetric_levels(blocks, 15)
    return assemble(len(blocks), 20, [half_bytes(d16), half_bytes(m16), pack_nibble_halves(q)])


@register("Q5_0")
def quantize_q5_0(blocks: np.ndarray) -> np.ndarray:
    d16, q = _symmetric_levels(blocks, 16)
    return assemble(len(blocks), 22, [half_bytes(d16), pack_bits_u32(q >> 4),
                                      pack_nibble_halves(q & 15)])


@register("Q5_1")
def quantize_q5_1(blocks: np.ndarray) -> np.ndarray:
    d16, m16, q = _asymmetric_levels(blocks, 31)
    return assemble(len(blocks), 24, [half_bytes(d16), half_bytes(m16), pack_bits_u32(q >> 4),
                                      pack_nibble_halves(q & 15)])


@register("Q8_0")
def quantize_q8_0(blocks: np.ndarray) -> np.ndarray:
    """d = absmax / 127; levels round(x / d) (half away from zero) in -127..127."""
    d16 = to_half(np.abs(blocks).max(axis=1) / 127)
    inv = safe_inverse(d16.astype(np.float32))
    scaled = blocks * inv[:, None]
    q = np.copysign(np.floor(np.abs(scaled) + 0.5), scaled)
    np.clip(q, -127, 127, out=q)
    return assemble(len(blocks), 34, [half_bytes(d16), q.astype(np.int8).view(np.uint8)])
