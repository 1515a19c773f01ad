"""Bit-level helpers shared by the quantizer families: f16 fields, nibbles, bit planes, scales.

All functions are vectorized over a leading block axis; level arrays hold small non-negative
integers (any integer or float dtype) and come back packed as uint8.
"""
from __future__ import annotations

import numpy as np

F16_MAX = 65504.0


def to_half(values: np.ndarray) -> np.ndarray:
    """float -> float16, saturating at +-65504 instead of overflowing to Inf; -0 becomes +0."""
    return (np.clip(values, -F16_MAX, F16_MAX) + 0.0).astype(np.float16)


def half_bytes(halves: np.ndarray) -> np.ndarray:
    """float16 [n] -> uint8 [n, 2] (little-endian IEEE half)."""
    return halves.astype("<f2").reshape(-1, 1).view(np.uint8)


def safe_inverse(d: np.ndarray) -> np.ndarray:
    """1/d where d != 0, else 0 (float32)."""
    d = np.asarray(d, dtype=np.float32)
    out = np.zeros_like(d)
    np.divide(1.0, d, out=out, where=d != 0)
    return out


def pack_nibble_halves(levels: np.ndarray) -> np.ndarray:
    """[n, 2k] levels 0..15 -> [n, k] bytes: element j in the low nibble, j + k in the high."""
    q = levels.astype(np.uint8)
    k = q.shape[-1] // 2
    return q[..., :k] | (q[..., k:] << 4)


def pack_bit_planes(levels: np.ndarray, bits: int, group: int) -> np.ndarray:
    """Pack `bits`-wide levels the K-quant way.

    levels [n, chunks * (8 // bits) * group] -> [n, chunks * group]: within each chunk, byte l holds
    element l of slice s (slice = `group` consecutive elements) at bit offset s * bits.
    """
    q = levels.astype(np.uint8)
    per_byte = 8 // bits
    n = q.shape[0]
    q = q.reshape(n, -1, per_byte, group)
    out = np.zeros((n, q.shape[1], group), dtype=np.uint8)
    for s in range(per_byte):
        out |= q[:, :, s, :] << (bits * s)
    return out.reshape(n, -1)


def pack_bits_u32(bits: np.ndarray) -> np.ndarray:
    """[n, 32] of 0/1 -> uint8 [n, 4]: little-endian u32 with bit j = bits[:, j]."""
    return np.packbits(bits.astype(np.uint8), axis=-1, bitorder="little")


def pack_k4_scales(scales: np.ndarray, mins: np.ndarray) -> np.ndarray:
    """Q4_K / Q5_K: 8 six-bit scales and 8 six-bit mins [n, 8] -> the 12-byte field [n, 12].

    Bytes 0-3: scale j (low 6 bits) + high 2 bits of scale j+4; bytes 4-7: min j + high 2 bits of
    min j+4; bytes 8-11: low nibbles of scale j+4 and min j+4.
    """
    sc = scales.astype(np.uint8)
    mn = mins.astype(np.uint8)
    out = np.empty((sc.shape[0], 12), dtype=np.uint8)
    out[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    out[:, 4:8] = mn[:, 0:4] | ((mn[:, 4:8] >> 4) << 6)
    out[:, 8:12] = (sc[:, 4:8] & 15) | ((mn[:, 4:8] & 15) << 4)
    return out


def pack_q3_scales(scales: np.ndarray) -> np.ndarray:
    """Q3_K: 16 six-bit scales (already offset by +32) [n, 16] -> the 12-byte field [n, 12].

    Low nibbles: scale j < 8 in the low nibble of byte j, scale j >= 8 in the high nibble of
    byte j - 8. High 2 bits: byte 8 + j % 4, bit offset 2 * (j // 4).
    """
    sc = scales.astype(np.uint8)
    out = np.empty((sc.shape[0], 12), dtype=np.uint8)
    out[:, 0:8] = (sc[:, 0:8] & 15) | ((sc[:, 8:16] & 15) << 4)
    high = (sc >> 4).reshape(-1, 4, 4)  # [n, j // 4, j % 4]
    out[:, 8:12] = high[:, 0] | (high[:, 1] << 2) | (high[:, 2] << 4) | (high[:, 3] << 6)
    return out


def assemble(n: int, type_size: int, fields: list[np.ndarray]) -> np.ndarray:
    """Concatenate per-block byte fields [n, k_i] (in block order) into uint8 [n, type_size]."""
    out = np.empty((n, type_size), dtype=np.uint8)
    at = 0
    for field in fields:
        width = field.shape[1]
        out[:, at:at + width] = field
        at += width
    if at != type_size:
        raise AssertionError(f"block fields add up to {at} bytes, expected {type_size}")
    return out
