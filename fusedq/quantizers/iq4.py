"""IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-linear grid of 16 int8 values.

The scale search follows llama.cpp's quantize_row_iq4_nl_impl (weights x^2, the largest value
mapped onto the grid's ends, 2 * ntry + 2 candidate inverse scales, least-squares scale per
candidate). Nearest grid value: a table lookup on floor(2 * v), exact because twice every
midpoint between neighbouring grid values is an integer.
"""
from __future__ import annotations

import numpy as np

from .fits import colsum, normalize_columns, signed_absmax
from .packing import assemble, half_bytes, pack_nibble_halves, safe_inverse, to_half
from .table import register

GRID = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113],
                dtype=np.float32)
NTRY = 7

# 2 * midpoint between GRID[j-1] and GRID[j]; index(v) = #{j : 2v >= _EDGES[j-1]}
_EDGES = (GRID[:-1] + GRID[1:]).astype(np.int64)
_LUT_LO = int(_EDGES[0]) - 1
_LUT_HI = int(_EDGES[-1])
_INDEX_LUT = np.searchsorted(_EDGES, np.arange(_LUT_LO, _LUT_HI + 1), side="right").astype(np.uint8)
_VALUE_LUT = GRID[_INDEX_LUT]


def _lut_slot(scaled: np.ndarray) -> np.ndarray:
    """Position of floor(2 * scaled) in the lookup tables."""
    k = np.floor(scaled * 2)
    np.clip(k, _LUT_LO, _LUT_HI, out=k)
    k -= _LUT_LO
    return k.astype(np.intp)


def nearest_index(scaled: np.ndarray) -> np.ndarray:
    """Index of the nearest GRID value (ties go up) for every element of `scaled`."""
    return _INDEX_LUT[_lut_slot(scaled)]


def fit_grid_scale(xt: np.ndarray, ntry: int = NTRY) -> np.ndarray:
    """Weighted (x^2) least-squares scale of each column of xt [32, groups] onto the grid."""
    xn, factor, live = normalize_columns(xt)
    top = signed_absmax(xn, axis=0)
    top[~live] = 1.0
    w = xn * xn
    wx = w * xn
    q = np.empty_like(xn)
    wq = np.empty_like(xn)

    def sums(iscale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        np.take(_VALUE_LUT, _lut_slot(xn * iscale), out=q)
        np.multiply(w, q, out=wq)
        return colsum(wx, q), colsum(wq, q)

    sxq, sqq = sums(-GRID[0] / top)
    scale = sxq / np.where(sqq > 0, sqq, 1.0)
    best = scale * sxq
    for t in range(-ntry, ntry + 1):
        sxq, sqq = sums((t + GRID[0]) / top)
        better = (sqq > 0) & (sxq * sxq > best * sqq)
        new_scale = sxq / np.where(sqq > 0, sqq, 1.0)
        np.copyto(scale, new_scale, where=better)
        np.copyto(best, new_scale * sxq, where=better)
    return np.where(live, scale * factor, 0.0).astype(np.float32)


def _grid_indices(xt: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Nearest grid index of x / step, xt [k, groups] with step [groups]; -> uint8 [groups, k].

    Where step is 0 the index is that of the grid value nearest 0 (the block decodes to 0).
    """
    return nearest_index(xt * safe_inverse(step)).T


@register("IQ4_NL")
def quantize_iq4_nl(blocks: np.ndarray) -> np.ndarray:
    xt = np.ascontiguousarray(blocks.T)
    d16 = to_half(fit_grid_scale(xt))
    idx = _grid_indices(xt, d16.astype(np.float32))
    return assemble(len(blocks), 18, [half_bytes(d16), pack_nibble_halves(idx)])


@register("IQ4_XS")
def quantize_iq4_xs(blocks: np.ndarray) -> np.ndarray:
    n = blocks.shape[0]
    xt = np.ascontiguousarray(blocks.reshape(-1, 32).T)
    scales = fit_grid_scale(xt).reshape(n, 8)
    d16 = to_half(signed_absmax(scales, axis=1) / -32)
    d = d16.astype(np.float32)[:, None]
    ratio = np.divide(scales, d, out=np.zeros_like(scales), where=d != 0)
    ls = np.clip(np.rint(ratio), -32, 31)
    idx = _grid_indices(xt, (d * ls).reshape(-1)).reshape(n, 8, 32)
    stored = (ls + 32).astype(np.uint16)
    scales_l = (stored[:, 0::2] & 15) | ((stored[:, 1::2] & 15) << 4)
    scales_h = np.zeros(n, dtype=np.uint16)
    for ib in range(8):
        scales_h |= (stored[:, ib] >> 4) << (2 * ib)
    return assemble(n, 136, [half_bytes(d16), scales_h.astype("<u2").reshape(-1, 1).view(np.uint8),
                             scales_l.astype(np.uint8), pack_nibble_halves(idx).reshape(n, 128)])
