"""IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-linear grid of 16 int8 values.

The scale search follows llama.cpp's quantize_row_iq4_nl_impl (weights x^2, the largest value
mapped onto the grid's ends, 2 * ntry + 2 candidate inverse scales, least-squares scale per
candidate). Nearest grid value: a lookup on floor(2 * v), exact because every midpoint between
neighbouring grid values is a half-integer multiple of 1 (their sums are integers).
"""
from __future__ import annotations

import numpy as np

from .fits import GROUP_EPS, signed_absmax
from .packing import assemble, half_bytes, pack_nibble_halves, to_half
from .table import register

GRID = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113],
                dtype=np.float32)
NTRY = 7

# 2 * midpoint between GRID[j-1] and GRID[j]; index(v) = #{j : 2v >= _EDGES[j-1]}
_EDGES = (GRID[:-1] + GRID[1:]).astype(np.int64)
_LUT_LO = int(_EDGES[0]) - 1
_LUT_HI = int(_EDGES[-1])
_INDEX_LUT = np.searchsorted(_EDGES, np.arange(_LUT_LO, _LUT_HI + 1), side="right").astype(np.uint8)


def nearest_index(scaled: np.ndarray) -> np.ndarray:
    """Index of the nearest GRID value (ties go up) for every element of `scaled`."""
    k = np.floor(scaled * 2)
    np.clip(k, _LUT_LO, _LUT_HI, out=k)
    k -= _LUT_LO
    return _INDEX_LUT[k.astype(np.intp)]


def fit_grid_scale(x: np.ndarray, ntry: int = NTRY) -> np.ndarray:
    """Weighted (x^2) least-squares scale of each row of x [groups, 32] onto the grid."""
    top = signed_absmax(x)
    live = np.abs(top) >= GROUP_EPS
    top = np.where(live, top, 1.0).astype(np.float32)
    w = x * x
    wx = w * x

    def sums(iscale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = GRID[nearest_index(x * iscale[:, None])]
        return (np.einsum("ij,ij->i", wx, q).astype(np.float64),
                np.einsum("ij,ij,ij->i", w, q, q).astype(np.float64))

    sxq, sqq = sums(-GRID[0] / top)
    scale = sxq / np.where(sqq > 0, sqq, 1.0)
    best = scale * sxq
    for t in range(-ntry, ntry + 1):
        sxq, sqq = sums((t + GRID[0]) / top)
        better = (sqq > 0) & (sxq * sxq > best * sqq)
        new_scale = sxq / np.where(sqq > 0, sqq, 1.0)
        scale = np.where(better, new_scale, scale)
        best = np.where(better, new_scale * sxq, best)
    return np.where(live, scale, 0.0).astype(np.float32)


def _grid_indices(x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Nearest grid index of x / step per row ([groups, k], step [groups, 1]); 0-steps give 0/1."""
    ratio = np.divide(x, step, out=np.zeros_like(x), where=step != 0)
    return nearest_index(ratio)


@register("IQ4_NL")
def quantize_iq4_nl(blocks: np.ndarray) -> np.ndarray:
    d16 = to_half(fit_grid_scale(blocks))
    idx = _grid_indices(blocks, d16.astype(np.float32)[:, None])
    return assemble(len(blocks), 18, [half_bytes(d16), pack_nibble_halves(idx)])


@register("IQ4_XS")
def quantize_iq4_xs(blocks: np.ndarray) -> np.ndarray:
    n = blocks.shape[0]
    x = blocks.reshape(-1, 32)
    scales = fit_grid_scale(x).reshape(n, 8)
    d16 = to_half(signed_absmax(scales) / -32)
    d = d16.astype(np.float32)[:, None]
    ratio = np.divide(scales, d, out=np.zeros_like(scales), where=d != 0)
    ls = np.clip(np.rint(ratio), -32, 31)
    idx = _grid_indices(x, (d * ls).reshape(-1, 1)).reshape(n, 8, 32)
    stored = (ls + 32).astype(np.uint16)
    scales_l = (stored[:, 0::2] & 15) | ((stored[:, 1::2] & 15) << 4)
    scales_h = np.zeros(n, dtype=np.uint16)
    for ib in range(8):
        scales_h |= (stored[:, ib] >> 4) << (2 * ib)
    return assemble(n, 136, [half_bytes(d16), scales_h.astype("<u2").reshape(-1, 1).view(np.uint8),
                             scales_l.astype(np.uint8), pack_nibble_halves(idx).reshape(n, 128)])
