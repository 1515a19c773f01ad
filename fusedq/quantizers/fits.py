"""Weighted scale (and min) fits for groups of values, vectorized over many groups at once.

The maths follows llama.cpp's reference K-quant quantizers (learned from ggml-quants.c, written
anew for numpy): for a small fixed set of candidate inverse scales the levels are rounded, the
best scale (and min) for those levels is the weighted least-squares solution, and the candidate
with the smallest weighted error wins. Loops run over candidates or positions inside a group,
never over groups.

Layout: every function takes the groups as COLUMNS, xt [n, groups] (the transpose of the usual
[groups, n]), so per-group scalars broadcast along contiguous rows and the per-group sums are
cheap reductions over axis 0. Per-group bookkeeping is done in float64.
"""
from __future__ import annotations

import numpy as np

# Groups whose largest magnitude is below this are treated as all zero.
GROUP_EPS = 1e-15


def colsum(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Per column sum of a (or of a * b) -> float64 [groups]."""
    if b is None:
        return a.sum(axis=0).astype(np.float64)
    return np.einsum("ij,ij->j", a, b).astype(np.float64)


def signed_absmax(a: np.ndarray, axis: int) -> np.ndarray:
    """Along `axis` of a 2-D array, the value with the largest magnitude (first on ties), sign kept."""
    idx = np.expand_dims(np.argmax(np.abs(a), axis=axis), axis)
    return np.take_along_axis(a, idx, axis=axis).squeeze(axis)


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return num / np.where(den > 0, den, 1.0)


def fit_scale_min(xt: np.ndarray, wt: np.ndarray, nmax: int, rmin: float, rdelta: float,
                  nstep: int, refine: int = 0, *, use_mad: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Asymmetric fit x ~ scale * l - min, l in 0..nmax (llama.cpp's make_qkx2_quants).

    Candidates: the plain one from max and min (clamped to <= 0), then iscale = (nmax + rmin +
    rdelta * k) / (max - min) for k = 0..nstep, rounding against the best min found so far. Each
    candidate's (scale, min) is the weighted least-squares fit for its levels (min clamped to
    <= 0); the smallest weighted squared error wins (absolute error if `use_mad`). Then
    `refine` more rounds re-round the levels against the best fit so far and refit.
    For a least-squares fit the squared error is sum(w x^2) - (scale * sum(w x l) + min *
    sum(w x)), so comparing candidates needs only their sums.
    Returns (scale, min) float32 [groups], both >= 0; the value is scale * l - min.
    """
    lo = np.minimum(xt.min(axis=0), 0.0)
    hi = xt.max(axis=0)
    span = (hi - lo).astype(np.float32)
    live = span > 0
    span[~live] = 1.0

    sw = colsum(wt)
    wx = wt * xt
    swx = colsum(wx)
    swxx = colsum(wx, xt)
    levels = np.empty_like(xt)
    weighted = np.empty_like(xt)

    def round_levels(iscale: np.ndarray, offset: np.ndarray) -> np.ndarray:
        np.subtract(xt, offset.astype(np.float32), out=levels)
        np.multiply(levels, iscale, out=levels)
        np.rint(levels, out=levels)
        np.clip(levels, 0, nmax, out=levels)
        return levels

    def level_sums(lv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        np.multiply(wt, lv, out=weighted)
        return colsum(weighted), colsum(weighted, lv), colsum(wx, lv)

    def mad_error(scale: np.ndarray, offset: np.ndarray, lv: np.ndarray) -> np.ndarray:
        diff = lv * scale.astype(np.float32)
        diff += offset.astype(np.float32)
        diff -= xt
        np.abs(diff, out=diff)
        return colsum(wt, diff)

    best_min = lo.astype(np.float64)
    best_scale = span.astype(np.float64) / nmax
    lv = round_levels(np.float32(nmax) / span, best_min)
    sl, sll, sxl = level_sums(lv)
    if use_mad:
        best_err = mad_error(best_scale, best_min, lv)
    else:
        best_err = (best_scale * best_scale * sll + 2 * best_scale * best_min * sl
                    - 2 * best_scale * sxl + best_min * best_min * sw - 2 * best_min * swx + swxx)

    candidates = [np.float32(rmin + rdelta * k + nmax) / span for k in range(nstep + 1)]
    for k in range(nstep + 1 + refine):
        if k <= nstep:
            iscale = candidates[k]
        else:  # refinement: re-round against the best fit so far
            iscale = np.float32(1.0) / np.where(best_scale > 0, best_scale, 1.0).astype(np.float32)
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
        np.copyto(best_err, err, where=better)
        np.copyto(best_scale, scale, where=better)
        np.copyto(best_min, offset, where=better)

    out_scale = np.where(live, best_scale, 0.0).astype(np.float32)
    out_min = np.where(live, -best_min, -lo).astype(np.float32)
    return out_scale, out_min


def fit_symmetric(xt: np.ndarray, wt: np.ndarray, nmax: int, steps: int = 9) -> np.ndarray:
    """Symmetric fit x ~ scale * l, l in -nmax..nmax-1 (llama.cpp's make_qx_quants, rmse type 1).

    The largest-magnitude value maps to level -nmax; candidates iscale = -(nmax + 0.1 k) / max
    for k = -steps..steps; each candidate's scale is the weighted least-squares one and the
    candidate maximising (sum w x l)^2 / sum w l^2 wins. Returns the signed scale [groups].
    """
    top = signed_absmax(xt, axis=0)
    live = np.abs(top) >= GROUP_EPS
    top = np.where(live, top, 1.0).astype(np.float32)
    wx = wt * xt
    levels = np.empty_like(xt)
    weighted = np.empty_like(xt)

    def sums(iscale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        np.multiply(xt, iscale, out=levels)
        np.rint(levels, out=levels)
        np.clip(levels, -nmax, nmax - 1, out=levels)
        np.multiply(wt, levels, out=weighted)
        return colsum(wx, levels), colsum(weighted, levels)

    sxl, sll = sums(np.float32(-nmax) / top)
    scale = np.where(sll > 0, _safe_ratio(sxl, sll), 0.0)
    best = scale * sxl
    for k in range(-steps, steps + 1):
        if k == 0:
            continue
        sxl, sll = sums(np.float32(-(nmax + 0.1 * k)) / top)
        better = (sll > 0) & (sxl * sxl > best * sll)
        new_scale = _safe_ratio(sxl, sll)
        np.copyto(scale, new_scale, where=better)
        np.copyto(best, new_scale * sxl, where=better)
    return np.where(live, scale, 0.0).astype(np.float32)


def fit_symmetric_refined(xt: np.ndarray, nmax: int, passes: int = 5) -> np.ndarray:
    """Symmetric fit with coordinate descent on the levels (llama.cpp's make_q3_quants, rmse on).

    Weights are x^2. Start from the levels of iscale = -nmax / max, then, position by position,
    move a level to the one its value prefers given the other levels, keeping the move when it
    raises (sum w x l)^2 / sum w l^2. Up to `passes` sweeps. Returns the signed scale [groups].
    """
    top = signed_absmax(xt, axis=0)
    live = np.abs(top) >= GROUP_EPS
    top = np.where(live, top, 1.0).astype(np.float32)
    x = xt.astype(np.float64)
    w = x * x
    lv = np.clip(np.rint(xt * (np.float32(-nmax) / top)), -nmax, nmax - 1).astype(np.float64)
    sxl = np.einsum("ij,ij,ij->j", w, x, lv)
    sll = np.einsum("ij,ij,ij->j", w, lv, lv)
    for _ in range(passes):
        changed = np.zeros(x.shape[1], dtype=bool)
        for i in range(x.shape[0]):
            wi, xi, li = w[i], x[i], lv[i]
            slx = sxl - wi * xi * li
            sl2 = sll - wi * li * li
            movable = slx > 0
            target = np.clip(np.rint(xi * sl2 / np.where(movable, slx, 1.0)), -nmax, nmax - 1)
            new_slx = slx + wi * xi * target
            new_sl2 = sl2 + wi * target * target
            take = (movable & (target != li) & (new_sl2 > 0)
                    & (new_slx * new_slx * sll > sxl * sxl * new_sl2))
            np.copyto(li, target, where=take)
            np.copyto(sxl, new_slx, where=take)
            np.copyto(sll, new_sl2, where=take)
            changed |= take
        if not changed.any():
            break
    scale = np.where(sll > 0, _safe_ratio(sxl, sll), 0.0)
    return np.where(live, scale, 0.0).astype(np.float32)
