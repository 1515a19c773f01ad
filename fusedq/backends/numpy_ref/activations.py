"""How activations are quantized to 8 bits in "q8" mode: the one definition all backends follow.

For a block of B values (B = 32 for Q8_0/Q8_1, 256 for Q8_K), in float32 arithmetic:
    amax = max |x|;  d = amax / 127;  id = 1 / d (0 when d == 0);  q = round_half_even(x * id)
For the 32-blocks (Q8_0, Q8_1) the stored scale is then rounded to float16, as llama.cpp stores it
(q is still computed with the float32 scale): d = float16(d), except where float16 would overflow
it or flush it to zero (llama.cpp then computes inf or 0; we keep the float32 d). Q8_K keeps the
float32 scale.
The block's values become q * d. Q8_1 additionally carries d * sum(q), Q8_K the int16 sums of q
over each 16 values; both are derived data for the integer kernels and do not change the values.
Matching llama.cpp's rounding keeps q8 results close to llama.cpp's, not only to the exact product.
"""
from __future__ import annotations

import numpy as np

PARTNER_BLOCK = {"Q8_0": 32, "Q8_1": 32, "Q8_K": 256}
HALF_SCALE_BLOCK = 32  # blocks of this size store their scale as float16


def quantize_q8(x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """x float32 [n, cols] -> (q int8 [n, cols/block, block], d float32 [n, cols/block])."""
    n, cols = x.shape
    blocks = x.reshape(n, cols // block, block).astype(np.float32, copy=False)
    amax = np.max(np.abs(blocks), axis=-1)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    q = np.rint(blocks * inv[..., None]).astype(np.int8)
    if block == HALF_SCALE_BLOCK:
        with np.errstate(over="ignore"):
            half = d.astype(np.float16).astype(np.float32)
        d = np.where((half != 0) & np.isfinite(half), half, d)
    return q, d


def fake_quantize(x: np.ndarray, partner: str) -> np.ndarray:
    """The float32 values a compiled q8 kernel effectively multiplies by: q * d per block."""
    block = PARTNER_BLOCK.get(partner)
    if block is None:  # float weight types multiply f32 activations in both modes
        return x
    q, d = quantize_q8(x, block)
    return (q.astype(np.float32) * d[..., None]).reshape(x.shape)
