"""Weighted scale (and min) fits for groups of values, vectorized over many groups at once.

The maths follows llama.cpp's reference K-quant quantizers (learned from ggml-quants.c, written
anew for numpy): every function takes x [groups, n] float32 and weights of the same shape and
searches a small fixed set of candidate inverse scales; for each candidate the levels are
rounded and the best scale (and min) for those levels is the weighted least-squares solution.
Loops run over candidates or positions inside a group, never over groups.
"""
from __future__ import annotations

import numpy as np

# Groups whose largest magnitude is below this are treated as all zero.
GROUP_EPS = 1e-15


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of two [groups, n] arrays -> float64 [groups]."""
    return np.einsum("ij,ij->i", a, b).astype(np.float64)


def signed_absmax(x: np.ndarray) -> np.ndarray:
    """Per row, the value with the largest magnitude (first one on ties), sign kept."""
    idx = np.argmax(np.abs(x), axis=1)
    return np.take_along_axis(x, idx[:, None], axis=1)[:, 0]


def fit_scale_min(x: np.ndarray, w: np.ndarray, nmax: int, rmin: float, rdelta: float,
                  nstep: int, use_mad: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Asymmetric fit x ~ scale * l - min, l in 0..nmax (llama.cpp's make_qkx2_quants).

    Candidates: iscale = (nmax + rmin + rdelta * k) / (max - min) for k = 0..nstep, plus the
    plain max/min one. Levels are rounded against the best min found so far; each candidate's
    (scale, min) is the weighted least-squares fit (min clamped to <= 0); the candidate with the
    smallest weighted squared (or absolute, `use_mad`) error wins.
    Returns (scale, min) float32 [groups], both >= 0; the value is scale * l - min.
    """
    lo = np.minimum(x.min(axis=1), 0.0)
    hi = x.max(axis=1)
    span = (hi - lo).astype(np.float32)
    live = span > 0
    span[~live] = 1.0

    sw = w.sum(axis=1, dtype=np.float64)
    wx = w * x
    swx = wx.sum(axis=1, dtype=np.float64)
    swxx = _dot(wx, x)

    levels = np.empty_like(x)

    def round_levels(iscale: np.ndarray, offset: np.ndarray) -> np.ndarray:
        np.subtract(x, offset[:, None], out=levels)
        np.multiply(levels, iscale[:, None], out=levels)
        np.rint(levels, out=levels)
        np.clip(levels, 0, nmax, out=levels)
        return levels

    def error(scale: np.ndarray, offset: np.ndarray, lv: np.ndarray,
              sl: np.ndarray, sll: np.ndarray, sxl: np.ndarray) -> np.ndarray:
        if use_mad:
            diff = lv * scale.astype(np.float32)[:, None]
            diff += offset.astype(np.float32)[:, None]
            diff -= x
            np.abs(diff, out=diff)
            return _dot(w, diff)
        # sum w (s*l + m - x)^2 expanded into the sums already at hand
        return (scale * scale * sll + 2 * scale * offset * sl - 2 * scale * sxl
                + offset * offset * sw - 2 * offset * swx + swxx)

    best_min = lo.astype(np.float64)
    best_scale = span.astype(np.float64) / nmax
    lv = round_levels(np.float32(nmax) / span, lo.astype(np.float32))
    sl = _dot(w, lv)
    sll = _dot(w * lv, lv)
    sxl = _dot(wx, lv)
    best_err = error(best_scale, best_min, lv, sl, sll, sxl)

    for k in range(nstep + 1):
        iscale = np.float32(rmin + rdelta * k + nmax) / span
        lv = round_levels(iscale, best_min.astype(np.float32))
        wl = w * lv
        sl = wl.sum(axis=1, dtype=np.float64)
        sll = _dot(wl, lv)
        sxl = _dot(wx, lv)
        det = sw * sll - sl * sl
        ok = det > 0
        det[~ok] = 1.0
        scale = (sw * sxl - swx * sl) / det
        offset = (sll * swx - sl * sxl) / det
        clamp = offset > 0
        offset[clamp] = 0.0
        scale[clamp] = sxl[clamp] / np.where(sll[clamp] > 0, sll[clamp], 1.0)
        err = error(scale, offset, lv, sl, sll, sxl)
        better = ok & (err < best_err)
        best_err = np.where(better, err, best_err)
        best_scale = np.where(better, scale, best_scale)
        best_min = np.where(better, offset, best_min)

    out_scale = np.where(live, best_scale, 0.0).astype(np.float32)
    out_min = np.where(live, -best_min, -lo).astype(np.float32)
    return out_scale, out_min


def fit_symmetric(x: np.ndarray, w: np.ndarray, nmax: int, steps: int = 9) -> np.ndarray:
    """Symmetric fit x ~ scale * l, l in -nmax..nmax-1 (llama.cpp's make_qx_quants, rmse type 1).

    The largest-magnitude value maps to level -nmax; candidates iscale = -(nmax + 0.1 k) / max
    for k = -steps..steps; each candidate's scale is the weighted least-squares one and the
    candidate maximising (sum w x l)^2 / sum w l^2 wins. Returns the signed scale [groups].
    """
    top = signed_absmax(x)
    live = np.abs(top) >= GROUP_EPS
    top = np.where(live, top, 1.0).astype(np.float32)
    wx = w * x
    levels = np.empty_like(x)

    def sums(iscale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        np.multiply(x, iscale[:, None], out=levels)
        np.rint(levels, out=levels)
        np.clip(levels, -nmax, nmax - 1, out=levels)
        return _dot(wx, levels), _dot(w * levels, levels)

    sxl, sll = sums(np.float32(-nmax) / top)
    scale = np.where(sll > 0, sxl / np.where(sll > 0, sll, 1.0), 0.0)
    best = scale * sxl
    for k in range(-steps, steps + 1):
        if k == 0:
            continue
        sxl, sll = sums(np.float32(-(nmax + 0.1 * k)) / top)
        better = (sll > 0) & (sxl * sxl > best * sll)
        new_scale = sxl / np.where(sll > 0, sll, 1.0)
        scale = np.where(better, new_scale, scale)
        best = np.where(better, new_scale * sxl, best)
    return np.where(live, scale, 0.0).astype(np.float32)


def fit_symmetric_refined(x: np.ndarray, nmax: int, passes: int = 5) -> np.ndarray:
    """Symmetric fit with coordinate descent on the levels (llama.cpp's make_q3_quants, rmse on).

    Weights are x^2. Start from the levels of iscale = -nmax / max, then, position by position,
    move a level to the one its value prefers given the other levels, keeping the move when it
    raises (sum w x l)^2 / sum w l^2. Up to `passes` sweeps. Returns the signed scale [groups].
    """
    top = signed_absmax(x)
    live = np.abs(top) >= GROUP_EPS
    top = np.where(live, top, 1.0).astype(np.float32)
    w = (x * x).astype(np.float64)
    xd = x.astype(np.float64)
    lv = np.clip(np.rint(x * (np.float32(-nmax) / top)[:, None]), -nmax, nmax - 1).astype(np.float64)
    sxl = np.einsum("ij,ij,ij->i", w, xd, lv)
    sll = np.einsum("ij,ij,ij->i", w, lv, lv)
    for _ in range(passes):
        changed = np.zeros(x.shape[0], dtype=bool)
        for i in range(x.shape[1]):
            wi, xi, li = w[:, i], xd[:, i], lv[:, i]
            slx = sxl - wi * xi * li
            sl2 = sll - wi * li * li
            movable = slx > 0
            target = np.clip(np.rint(xi * sl2 / np.where(movable, slx, 1.0)), -nmax, nmax - 1)
            new_slx = slx + wi * xi * target
            new_sl2 = sl2 + wi * target * target
            take = (movable & (target != li) & (new_sl2 > 0)
                    & (new_slx * new_slx * sll > sxl * sxl * new_sl2))
            lv[:, i] = np.where(take, target, li)
            sxl = np.where(take, new_slx, sxl)
            sll = np.where(take, new_sl2, sll)
            changed |= take
        if not changed.any():
            break
    scale = np.where(sll > 0, sxl / np.where(sll > 0, sll, 1.0), 0.0)
    return np.where(live, scale, 0.0).astype(np.float32)
