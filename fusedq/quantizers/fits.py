"""Weighted scale (and min) fits for groups of values, vectorized over many groups at once.

The maths follows llama.cpp's reference K-quant quantizers (learned from ggml-quants.c, written
anew for numpy): for a small fixed set of candidate inverse scales the levels are rounded, the
best scale (and min) for those levels is the weighted least-squares solution, and the candidate
with the smallest weighted error wins. Loops run over candidates or positions inside a group,
never over groups.

Layout: every function takes the groups as COLUMNS, xt [n, groups] (the transpose of the usual
[groups, n]), so per-group scalars broadcast along contiguous rows and the per-group sums are
cheap reductions over axis 0. Each group is first scaled by a power of two so that its largest
magnitude lies in [0.5, 1): that is exact, makes the search independent of the input's
magnitude, and keeps every sum finite and precise in float32.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

# Groups whose largest magnitude is below this are treated as all zero.
GROUP_EPS = 1e-15

Weights = Callable[[np.ndarray], np.ndarray]


def colsum(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Per column sum of a (or of a * b) [groups]."""
    if b is None:
        return a.sum(axis=0)
    return np.einsum("ij,ij->j", a, b)


def signed_absmax(a: np.ndarray, axis: int) -> np.ndarray:
    """Along `axis`, the value with the largest magnitude, sign kept (+m wins a tie with -m)."""
    hi = a.max(axis=axis)
    lo = a.min(axis=axis)
    return np.where(hi >= -lo, hi, lo)


def normalize_columns(xt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each column by a power of two so its largest magnitude is in [0.5, 1).

    Returns (normalized float32 columns, float32 power of two to multiply results by,
    live mask: columns whose largest magnitude is at least GROUP_EPS; dead columns become 0).
    """
    amax = np.abs(xt).max(axis=0)
    live = amax >= GROUP_EPS
    _, exponent = np.frexp(np.where(live, amax, 1.0))
    factor = np.ldexp(np.float32(1.0), exponent).astype(np.float32)
    inverse = np.where(live, np.ldexp(np.float32(1.0), -exponent), 0.0).astype(np.float32)
    return (xt * inverse).astype(np.float32, copy=False), factor, live


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return num / np.where(den > 0, den, 1.0)


def fit_scale_min(xt: np.ndarray, weights: Weights, nmax: int, rmin: float, rdelta: float,
                  nstep: int, refine: int = 0, *,
                  use_mad: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Asymmetric fit x ~ scale * l - min, l in 0..nmax (llama.cpp's make_qkx2_quants).

    `weights` maps the (normalized) columns to their per-value weights. Candidates: the plain
    one from max and min (min clamped to <= 0), then iscale = (nmax + rmin + rdelta * k) /
    (max - min) for k = 0..nstep, rounding against the best min found so far. Each candidate's
    (scale, min) is the weighted least-squares fit for its levels (min clamped to <= 0); the
    smallest weighted squared error wins (absolute error if `use_mad`). Then `refine` more
    rounds re-round the levels against the best fit so far and refit.
    For a least-squares fit the squared error is sum(w x^2) - (scale * sum(w x l) + min *
    sum(w x)), so comparing candidates needs only their sums.
    Returns (scale, min) float32 [groups], both >= 0; the value is scale * l - min.
    """
    xn, factor, live = normalize_columns(xt)
    wt = weights(xn)
    lo = np.minimum(xn.min(axis=0), 0.0)
    hi = xn.max(axis=0)
    span = hi - lo
    live &= span > 0
    span[~live] = 1.0

    sw = colsum(wt)
    wx = wt * xn
    swx = colsum(wx)
    swxx = colsum(wx, xn)
    levels = np.empty_like(xn)
    weighted = np.empty_like(xn)

    def round_levels(iscale: np.ndarray, offset: np.ndarray) -> np.ndarray:
        np.subtract(xn, offset, out=levels)
        np.multiply(levels, iscale, out=levels)
        np.rint(levels, out=levels)
        np.clip(levels, 0, nmax, out=levels)
        return levels

    def level_sums(lv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        np.multiply(wt, lv, out=weighted)
        return colsum(weighted), colsum(weighted, lv), colsum(wx, lv)

    def mad_error(scale: np.ndarray, offset: np.ndarray, lv: np.ndarray) -> np.ndarray:
        diff = lv * scale
        diff += offset
        diff -= xn
        np.abs(diff, out=diff)
        return colsum(wt, diff)

    best_min = lo
    best_scale = span / np.float32(nmax)
    lv = round_levels(np.float32(nmax) / span, best_min)
    sl, sll, sxl = level_sums(lv)
    if use_mad:
        best_err = mad_error(best_scale, best_min, lv)
    else:
        best_err = (best_scale * best_scale * sll + 2 * best_scale * best_min * sl
                    - 2 * best_scale * sxl + best_min * best_min * sw - 2 * best_min * swx + swxx)

    for k in range(nstep + 1 + refine):
        if k <= nstep:
            iscale = np.float32(rmin + rdelta * k + nmax) / span
        else:  # refinement: re-round against the best fit so far
            iscale = np.float32(1.0) / np.where(best_scale > 0, best_scale, 1.0)
        lv = round_levels(iscale, best_min)
        sl, sll, sxl = level_sums(lv)
        det = sw * sll - sl * sl
        ok = det > 0
        det[~ok] = 1.0
        scale = (sw * sxl - swx * sl) / det
        offset = (sll * swx - sl * sxl) / det
        clamp = offset > 0
        offset[clamp] = 0.0
        scale = np.where(clamp, _safe_ratio(sxl, sll), scale)
        if use_mad:
            err = mad_error(scale, offset, lv)
        else:
            err = swxx - (scale * sxl + offset * swx)
        better = ok & (err < best_err)
        best_err = np.where(better, err, best_err)
        best_scale = np.where(better, scale, best_scale)
        best_min = np.where(better, offset, best_min)

    out_scale = np.where(live, best_scale * factor, 0.0).astype(np.float32)
    out_min = np.where(live, -best_min, -lo) * factor
    return out_scale, out_min.astype(np.float32)


def fit_symmetric(xt: np.ndarray, weights: Weights, nmax: int, spacing: float = 0.1,
                  steps: int = 9, refine: int = 0) -> np.ndarray:
    """Symmetric fit x ~ scale * l, l in -nmax..nmax-1 (llama.cpp's make_qx_quants, rmse type 1).

    The largest-magnitude value maps to level -nmax; candidates iscale = -(nmax + spacing * k)
    / max for k = -steps..steps; each candidate's scale is the weighted least-squares one and
    the candidate maximising (sum w x l)^2 / sum w l^2 wins. Then `refine` more rounds re-round
    against the best scale so far. Returns the signed scale [groups].
    """
    xn, factor, live = normalize_columns(xt)
    wt = weights(xn)
    top = signed_absmax(xn, axis=0)
    top[~live] = 1.0
    wx = wt * xn
    levels = np.empty_like(xn)
    weighted = np.empty_like(xn)

    def sums(iscale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        np.multiply(xn, iscale, out=levels)
        np.rint(levels, out=levels)
        np.clip(levels, -nmax, nmax - 1, out=levels)
        np.multiply(wt, levels, out=weighted)
        return colsum(wx, levels), colsum(weighted, levels)

    sxl, sll = sums(np.float32(-nmax) / top)
    scale = np.where(sll > 0, _safe_ratio(sxl, sll), 0.0)
    best = scale * sxl
    offsets = [spacing * k for k in range(-steps, steps + 1) if k]
    for k in range(len(offsets) + refine):
        if k < len(offsets):
            iscale = np.float32(-(nmax + offsets[k])) / top
        else:  # refinement: re-round against the best scale so far
            iscale = np.float32(1.0) / np.where(scale != 0, scale, 1.0)
        sxl, sll = sums(iscale)
        better = (sll > 0) & (sxl * sxl > best * sll)
        new_scale = _safe_ratio(sxl, sll)
        scale = np.where(better, new_scale, scale)
        best = np.where(better, new_scale * sxl, best)
    return np.where(live, scale * factor, 0.0).astype(np.float32)


def fit_symmetric_refined(xt: np.ndarray, nmax: int, passes: int = 5) -> np.ndarray:
    """Symmetric fit with coordinate descent on the levels (llama.cpp's make_q3_quants, rmse on).

    Weights are x^2. Start from the levels of iscale = -nmax / max, then, position by position,
    move a level to the one its value prefers given the other levels, keeping the move when it
    raises (sum w x l)^2 / sum w l^2. Up to `passes` sweeps; a group leaves once a sweep changes
    nothing in it (as in llama.cpp). Returns the signed scale [groups].
    """
    xn, factor, live = normalize_columns(xt)
    top = signed_absmax(xn, axis=0)
    top[~live] = 1.0
    x = xn
    w = x * x
    wx = w * x
    lv = np.clip(np.rint(xn * (np.float32(-nmax) / top)), -nmax, nmax - 1)
    sxl = colsum(wx, lv)
    sll = np.einsum("ij,ij,ij->j", w, lv, lv)
    active = np.arange(x.shape[1])
    for sweep in range(passes):
        if sweep:  # only the groups the last sweep changed can change again
            w_a, wx_a, x_a, lv_a = w[:, active], wx[:, active], x[:, active], lv[:, active]
            sxl_a, sll_a = sxl[active], sll[active]
        else:
            w_a, wx_a, x_a, lv_a, sxl_a, sll_a = w, wx, x, lv, sxl, sll
        changed = np.zeros(active.size, dtype=bool)
        for i in range(x.shape[0]):
            li = lv_a[i]
            slx = sxl_a - wx_a[i] * li
            sl2 = sll_a - w_a[i] * li * li
            movable = slx > 0
            target = np.clip(np.rint(x_a[i] * sl2 / np.where(movable, slx, 1.0)), -nmax, nmax - 1)
            new_slx = slx + wx_a[i] * target
            new_sl2 = sl2 + w_a[i] * target * target
            take = (movable & (target != li) & (new_sl2 > 0)
                    & (new_slx * new_slx * sll_a > sxl_a * sxl_a * new_sl2))
            np.copyto(li, target, where=take)
            np.copyto(sxl_a, new_slx, where=take)
            np.copyto(sll_a, new_sl2, where=take)
            changed |= take
        if sweep:
            lv[:, active] = lv_a
            sxl[active] = sxl_a
            sll[active] = sll_a
        active = active[changed]
        if not active.size:
            break
    scale = np.where(sll > 0, _safe_ratio(sxl, sll), 0.0)
    return np.where(live, scale * factor, 0.0).astype(np.float32)
