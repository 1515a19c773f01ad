"""The K-quants: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks).

Each super-block is split into sub-blocks that get their own float scale (and min) from the fits
in fits.py, using the weights llama.cpp's reference quantizers use; those scales are then
quantized against one f16 super-scale (saturated at +-65504), and finally every value is rounded
against the scale that is actually stored. Block layouts: ANCHORS.md section 1.
"""
from __future__ import annotations

import numpy as np

from .fits import fit_scale_min, fit_symmetric, fit_symmetric_refined, signed_absmax
from .packing import (assemble, half_bytes, pack_bit_planes, pack_k4_scales, pack_nibble_halves,
                      pack_q3_scales, to_half)
from .table import register

QK = 256


def _scale_ints(values: np.ndarray, d16: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Round per-sub-block scales [n, s] to integers of the stored super-scale d16 [n]."""
    d = d16.astype(np.float32)[:, None]
    ratio = np.divide(values, d, out=np.zeros_like(values), where=d != 0)
    return np.clip(np.rint(ratio), lo, hi)


def _round_levels(x: np.ndarray, step: np.ndarray, offset: np.ndarray | float,
                  lo: int, hi: int, fallback: int) -> np.ndarray:
    """Levels round((x + offset) / step) in lo..hi per sub-block row; `fallback` where step is 0."""
    shifted = x + offset
    live = step != 0
    ratio = np.divide(shifted, step, out=np.zeros_like(shifted), where=live)
    levels = np.clip(np.rint(ratio), lo, hi)
    levels[~live[:, 0]] = fallback
    return levels.astype(np.int16)


def _scale_min_superblocks(blocks: np.ndarray, sub: int, nmax: int, scale_max: int,
                           rmin: float, rdelta: float, nstep: int, use_mad: bool, weights):
    """Shared by Q2_K / Q4_K / Q5_K: per-sub-block (scale, min) fit, then integer scales.

    Returns d16, dmin16 [n], integer scales and mins [n, 256/sub], levels int16 [n, 256].
    """
    n = blocks.shape[0]
    x = blocks.reshape(-1, sub)
    scale, mn = fit_scale_min(x, weights(x), nmax, rmin, rdelta, nstep, use_mad)
    scale = scale.reshape(n, -1)
    mn = mn.reshape(n, -1)
    d16 = to_half(scale.max(axis=1) / scale_max)
    dmin16 = to_half(mn.max(axis=1) / scale_max)
    ls = _scale_ints(scale, d16, 0, scale_max)
    lm = _scale_ints(mn, dmin16, 0, scale_max)
    step = (d16.astype(np.float32)[:, None] * ls).reshape(-1, 1)
    offset = (dmin16.astype(np.float32)[:, None] * lm).reshape(-1, 1)
    levels = _round_levels(x, step, offset, 0, nmax, 0).reshape(n, QK)
    return d16, dmin16, ls.astype(np.uint8), lm.astype(np.uint8), levels


def _rms_plus_abs(x: np.ndarray) -> np.ndarray:
    """Q4_K / Q5_K weights: rms of the sub-block plus |x|."""
    rms = np.sqrt(np.einsum("ij,ij->i", x, x) / x.shape[1])
    return (np.abs(x) + rms[:, None]).astype(np.float32)


@register("Q2_K")
def quantize_q2_k(blocks: np.ndarray) -> np.ndarray:
    d16, dmin16, ls, lm, q = _scale_min_superblocks(blocks, 16, 3, 15, -0.5, 0.1, 15, True, np.abs)
    return assemble(len(blocks), 84, [ls | (lm << 4), pack_bit_planes(q, 2, 32),
                                      half_bytes(d16), half_bytes(dmin16)])


@register("Q4_K")
def quantize_q4_k(blocks: np.ndarray) -> np.ndarray:
    d16, dmin16, ls, lm, q = _scale_min_superblocks(blocks, 32, 15, 63, -1.0, 0.1, 20, False,
                                                    _rms_plus_abs)
    return assemble(len(blocks), 144, [half_bytes(d16), half_bytes(dmin16), pack_k4_scales(ls, lm),
                                       pack_bit_planes(q, 4, 32)])


@register("Q5_K")
def quantize_q5_k(blocks: np.ndarray) -> np.ndarray:
    d16, dmin16, ls, lm, q = _scale_min_superblocks(blocks, 32, 31, 63, -0.5, 0.1, 15, False,
                                                    _rms_plus_abs)
    return assemble(len(blocks), 176, [half_bytes(d16), half_bytes(dmin16), pack_k4_scales(ls, lm),
                                       pack_bit_planes(q >> 4, 1, 32), pack_bit_planes(q & 15, 4, 32)])


def _symmetric_superblocks(blocks: np.ndarray, sub_scales: np.ndarray, scale_top: int,
                           scale_lo: int, scale_hi: int, qmax: int):
    """Shared by Q3_K / Q6_K: signed sub-block scales -> d16 [n], integer scales, levels.

    The largest-magnitude sub-scale maps to -scale_top; levels round(x / (d * sc)) in
    -qmax..qmax-1, returned offset by +qmax as int16 [n, 256].
    """
    n = blocks.shape[0]
    d16 = to_half(signed_absmax(sub_scales) / -scale_top)
    sc = _scale_ints(sub_scales, d16, scale_lo, scale_hi)
    step = (d16.astype(np.float32)[:, None] * sc).reshape(-1, 1)
    x = blocks.reshape(-1, 16)
    levels = _round_levels(x, step, 0.0, -qmax, qmax - 1, 0) + qmax
    return d16, sc.astype(np.int16), levels.reshape(n, QK)


@register("Q3_K")
def quantize_q3_k(blocks: np.ndarray) -> np.ndarray:
    n = blocks.shape[0]
    scales = fit_symmetric_refined(blocks.reshape(-1, 16), 4).reshape(n, 16)
    d16, sc, q = _symmetric_superblocks(blocks, scales, 32, -32, 31, 4)
    return assemble(n, 110, [pack_bit_planes(q >> 2, 1, 32), pack_bit_planes(q & 3, 2, 32),
                             pack_q3_scales(sc + 32), half_bytes(d16)])


@register("Q6_K")
def quantize_q6_k(blocks: np.ndarray) -> np.ndarray:
    n = blocks.shape[0]
    x = blocks.reshape(-1, 16)
    scales = fit_symmetric(x, x * x, 32).reshape(n, 16)
    d16, sc, q = _symmetric_superblocks(blocks, scales, 128, -128, 127, 32)
    low = pack_nibble_halves((q & 15).reshape(n, 2, 128)).reshape(n, 128)
    return assemble(n, 210, [low, pack_bit_planes(q >> 4, 2, 32),
                             sc.astype(np.int8).view(np.uint8), half_bytes(d16)])
