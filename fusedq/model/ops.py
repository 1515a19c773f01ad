"""The small float32 operations of a transformer step, in numpy, writing into caller buffers where
the shapes allow (the matrix products live in the backends).
"""
from __future__ import annotations

import math

import numpy as np

from .architectures import ROPE_HALVES

F32 = np.float32
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float, out: np.ndarray | None = None) -> np.ndarray:
    """x / sqrt(mean(x^2) + eps) * weight over the last axis (llama.cpp's RMSNorm then MUL)."""
    mean_sq = np.vecdot(x, x)
    mean_sq *= F32(1.0 / x.shape[-1])
    mean_sq += F32(eps)
    np.sqrt(mean_sq, out=mean_sq)
    out = np.divide(x, mean_sq[..., None], out=out)
    out *= weight
    return out


def silu_gate(gate: np.ndarray, up: np.ndarray) -> np.ndarray:
    """silu(gate) * up, computed in place in `gate` (SwiGLU)."""
    t = np.negative(gate)
    np.exp(t, out=t)
    t += F32(1.0)
    np.divide(gate, t, out=gate)
    gate *= up
    return gate


def gelu_tanh_gate(gate: np.ndarray, up: np.ndarray) -> np.ndarray:
    """gelu_tanh(gate) * up in place in `gate` (GeGLU), using
    0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)) with u = sqrt(2/pi) (x + 0.044715 x^3)."""
    t = np.multiply(gate, gate)
    t *= F32(-2.0 * _SQRT_2_OVER_PI * 0.044715)
    t += F32(-2.0 * _SQRT_2_OVER_PI)
    t *= gate
    np.exp(t, out=t)
    t += F32(1.0)
    np.divide(gate, t, out=gate)
    gate *= up
    return gate


def gelu_tanh_gate_f16(gate: np.ndarray, up: np.ndarray) -> np.ndarray:
    """gelu_tanh_gate as llama.cpp computes it: GELU through a float16 table (input and result
    rounded to float16) for -10 < x < 10; 0 below, x above."""
    x = gate.copy()
    gate[...] = gate.astype(np.float16).astype(np.float32)
    gelu_tanh_gate(gate, np.ones_like(gate))
    with np.errstate(over="ignore"):
        gate[...] = gate.astype(np.float16).astype(np.float32)
    gate[x <= F32(-10.0)] = F32(0.0)
    high = x >= F32(10.0)
    gate[high] = x[high]
    gate *= up
    return gate


GATE_ACTIVATIONS = {"silu": silu_gate, "gelu_tanh": gelu_tanh_gate}
# llama.cpp's float16 versions, used when the forward rounds like llama.cpp (f16_rounding)
GATE_ACTIVATIONS_F16 = {**GATE_ACTIVATIONS, "gelu_tanh": gelu_tanh_gate_f16}


def softmax_inplace(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place (masked entries may be -inf)."""
    m = scores.max(axis=-1, keepdims=True)
    scores -= m
    np.exp(scores, out=scores)
    s = scores.sum(axis=-1, keepdims=True)
    scores /= s
    return scores


def rope_rotations(n_ctx: int, n_rot: int, base: float, pos_scale: float,
                   freq_factors: np.ndarray | None = None) -> np.ndarray:
    """complex64 [n_ctx, 1, n_rot/2]: exp(i * pos * pos_scale * base^(-2j/n_rot) / factor_j)."""
    j = np.arange(n_rot // 2, dtype=np.float64)
    inv_freq = base ** (-2.0 * j / n_rot)
    if freq_factors is not None:
        inv_freq = inv_freq / freq_factors.astype(np.float64)
    angles = np.outer(np.arange(n_ctx, dtype=np.float64) * pos_scale, inv_freq)
    return np.exp(1j * angles).astype(np.complex64).reshape(n_ctx, 1, n_rot // 2)


def pair_permutation(head_dim: int, n_rot: int, layout: str) -> np.ndarray | None:
    """Index order that makes each rotated pair adjacent, or None when it already is.

    With the "halves" layout coordinate j pairs with j + n_rot/2; gathering both heads' q and k
    into [0, h, 1, h+1, ...] order leaves every q.k dot product unchanged and lets RoPE be one
    complex multiplication."""
    if layout != ROPE_HALVES:
        return None
    h = n_rot // 2
    pairs = np.stack([np.arange(h), np.arange(h) + h], axis=1).reshape(-1)
    return np.concatenate([pairs, np.arange(n_rot, head_dim)]).astype(np.intp)


def apply_rope(x: np.ndarray, rot: np.ndarray, n_rot: int) -> None:
    """Rotate adjacent pairs of x [n, heads, head_dim] (float32, C-contiguous) in place by rot [n, 1, n_rot/2]."""
    xc = x.view(np.complex64)
    if n_rot == x.shape[-1]:
        xc *= rot
    else:
        xc[..., : n_rot // 2] *= rot
