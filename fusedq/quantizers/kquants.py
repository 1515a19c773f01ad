"""The K-quants: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks).

Each super-block is split into sub-blocks that get their own float scale (and min) from the fits
in fits.py, using the weights llama.cpp's reference quantizers use; those scales are then
quantized against one f16 super-scale (saturated at +-65504), and finally every value is rounded
against the scale that is actually stored. Block layouts: ANCHORS.md section 1.
"""
from __future__ import annotations

import numpy as np

from .fits import (colsum, fit_scale_min, fit_symmetric, fit_symmetric_refined,
                   signed_absmax)
from .packing import (assemble, half_bytes, pack_bit_planes, pack_k4_scales, pack_nibble_halves,
                      pack_q3_scales, safe_inverse, to_half)
from .table import register

QK = 256


def _scale_ints(values: np.ndarray, d16: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Round per-sub-block scales [n, s] to integers of the stored super-scale d16 [n]."""
    d = d16.astype(np.float32)[:, None]
    ratio = np.divide(values, d, out=np.zeros_like(values), where=d != 0)
    return np.clip(np.rint(ratio), lo, hi)


def _columns(blocks: np.ndarray, sub: int) -> np.ndarray:
    """[n, 256] super-blocks -> [sub, n * 256 / sub]: one column per sub-block (fits.py layout)."""
    return np.ascontiguousarray(blocks.reshape(-1, sub).T)


def _round_levels(xt: np.ndarray, step: np.ndarray, offset: np.ndarray | None,
                  lo: int, hi: int, n: int) -> np.ndarray:
    """Levels round((x + offset) / step) clipped to lo..hi, shifted by -lo -> uint8 [n, 256].

    xt [sub, groups] holds one sub-block per column; step and offset are per column. Where the
    step is 0 the level is the one of value 0 (the sub-block decodes to its offset).
    """
    ratio = xt + offset if offset is not None else xt.copy()
    ratio *= safe_inverse(step)
    np.rint(ratio, out=ratio)
    np.clip(ratio, lo, hi, out=ratio)
    if lo:
        ratio -= lo
    return ratio.astype(np.uint8).T.reshape(n, QK)


def _scale_min_superblocks(blocks: np.ndarray, sub: int, nmax: int, scale_max: int,
                           search: tuple, use_mad: bool, weights):
    """Shared by Q2_K / Q4_K / Q5_K: per-sub-block (scale, min) fit, then integer scales.

    Returns d16, dmin16 [n], integer scales and mins [n, 256/sub], levels uint8 [n, 256].
    """
    n = blocks.shape[0]
    xt = _columns(blocks, sub)
    scale, mn = fit_scale_min(xt, weights, nmax, *search, use_mad=use_mad)
    scale = scale.reshape(n, -1)
    mn = mn.reshape(n, -1)
    d16 = to_half(scale.max(axis=1) / scale_max)
    dmin16 = to_half(mn.max(axis=1) / scale_max)
    ls = _scale_ints(scale, d16, 0, scale_max)
    lm = _scale_ints(mn, dmin16, 0, scale_max)
    step = (d16.astype(np.float32)[:, None] * ls).reshape(-1)
    offset = (dmin16.astype(np.float32)[:, None] * lm).reshape(-1)
    levels = _round_levels(xt, step, offset, 0, nmax, n)
    return d16, dmin16, ls.astype(np.uint8), lm.astype(np.uint8), levels


def _rms_plus_abs(xt: np.ndarray) -> np.ndarray:
    """Q4_K / Q5_K weights: rms of the sub-block plus |x|."""
    rms = np.sqrt(colsum(xt, xt) / xt.shape[0]).astype(np.float32)
    return np.abs(xt) + rms


# Candidate searches of fit_scale_min: (rmin, rdelta, nstep, refine). Q2_K uses llama.cpp's
# reference search; Q4_K / Q5_K use 11 wider-spaced candidates plus one refinement (re-round
# against the best fit, refit), which matches the reference's 21 / 16 candidates in error
# (Q5_K is 1% better) at about half the cost.
Q2_K_SEARCH = (-0.5, 0.1, 15, 0)
Q4_K_SEARCH = (-1.0, 0.2, 10, 1)
Q5_K_SEARCH = (-1.0, 0.2, 10, 1)
# Searches of fit_symmetric: (spacing, steps, refine). llama.cpp's Q6_K tries 18 candidates
# 0.1 apart; 6 candidates 0.3 apart plus one refinement give the same error (to 4 digits, on
# Gaussian, Student-t and real weights) at 8 evaluations instead of 19.
Q6_K_SEARCH = (0.3, 3, 1)


@register("Q2_K")
def quantize_q2_k(blocks: np.ndarray) -> np.ndarray:
    d16, dmin16, ls, lm, q = _scale_min_superblocks(blocks, 16, 3, 15, Q2_K_SEARCH, True, np.abs)
    return assemble(len(blocks), 84, [ls | (lm << 4), pack_bit_planes(q, 2, 32),
                                      half_bytes(d16), half_bytes(dmin16)])


@register("Q4_K")
def quantize_q4_k(blocks: np.ndarray) -> np.ndarray:
    d16, dmin16, ls, lm, q = _scale_min_superblocks(blocks, 32, 15, 63, Q4_K_SEARCH, False,
                                                    _rms_plus_abs)
    return assemble(len(blocks), 144, [half_bytes(d16), half_bytes(dmin16), pack_k4_scales(ls, lm),
                                       pack_bit_planes(q, 4, 32)])


@register("Q5_K")
def quantize_q5_k(blocks: np.ndarray) -> np.ndarray:
    d16, dmin16, ls, lm, q = _scale_min_superblocks(blocks, 32, 31, 63, Q5_K_SEARCH, False,
                                                    _rms_plus_abs)
    return assemble(len(blocks), 176, [half_bytes(d16), half_bytes(dmin16), pack_k4_scales(ls, lm),
                                       pack_bit_planes(q >> 4, 1, 32),
                                       pack_bit_planes(q & 15, 4, 32)])


def _symmetric_superblocks(xt: np.ndarray, sub_scales: np.ndarray, scale_top: int,
                           scale_lo: int, scale_hi: int, qmax: int):
    """Shared by Q3_K / Q6_K: signed sub-block scales [n, 16] -> d16 [n], integer scales, levels.

    The largest-magnitude sub-scale maps to -scale_top; levels round(x / (d * sc)) in
    -qmax..qmax-1, returned offset by +qmax as uint8 [n, 256].
    """
    n = sub_scales.shape[0]
    d16 = to_half(signed_absmax(sub_scales, axis=1) / -scale_top)
    sc = _scale_ints(sub_scales, d16, scale_lo, scale_hi)
    step = (d16.astype(np.float32)[:, None] * sc).reshape(-1)
    levels = _round_levels(xt, step, None, -qmax, qmax - 1, n)
    return d16, sc.astype(np.int8), levels


@register("Q3_K")
def quantize_q3_k(blocks: np.ndarray) -> np.ndarray:
    n = blocks.shape[0]
    xt = _columns(blocks, 16)
    scales = fit_symmetric_refined(xt, 4).reshape(n, 16)
    d16, sc, q = _symmetric_superblocks(xt, scales, 32, -32, 31, 4)
    return assemble(n, 110, [pack_bit_planes(q >> 2, 1, 32), pack_bit_planes(q & 3, 2, 32),
                             pack_q3_scales(sc + 32), half_bytes(d16)])


@register("Q6_K")
def quantize_q6_k(blocks: np.ndarray) -> np.ndarray:
    n = blocks.shape[0]
    xt = _columns(blocks, 16)
    scales = fit_symmetric(xt, np.square, 32, *Q6_K_SEARCH).reshape(n, 16)
    d16, sc, q = _symmetric_superblocks(xt, scales, 128, -128, 127, 32)
    low = pack_nibble_halves((q & 15).reshape(n, 2, 128)).reshape(n, 128)
    return assemble(n, 210, [low, pack_bit_planes(q >> 4, 2, 32),
                             sc.view(np.uint8), half_bytes(d16)])
