"""Inputs for kernel measurements: random valid blocks of any type, activations, real tensors."""
from __future__ import annotations

import numpy as np

from ..tensor import QuantizedTensor
from ..types import QTYPES, QType

# The original demo's matrices (TinyLlama FFN shapes) and the real Gemma 3 tensors it adds.
DEMO_SHAPES = [(5632, 2048), (2048, 5632)]
GEMMA_TENSORS = ["blk.0.ffn_down.weight", "blk.0.attn_output.weight"]


def random_blocks(qt: QType, rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """uint8 [rows, row_bytes] of random but valid blocks: scale fields are finite, modest halves."""
    rng = np.random.default_rng(seed)
    if qt.name == "F32":
        return rng.standard_normal((rows, cols), dtype=np.float32).view(np.uint8)
    if qt.name == "F16":
        return rng.standard_normal((rows, cols)).astype(np.float16).view(np.uint8)
    if qt.name == "BF16":
        f = rng.standard_normal((rows, cols)).astype(np.float32)
        return (f.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
    nblocks = cols // qt.block_size
    raw = rng.integers(0, 256, size=(rows, nblocks, qt.type_size), dtype=np.uint8)
    for off in qt.half_fields:
        halves = (rng.uniform(0.5, 2.0, size=(rows, nblocks)) * 0.01).astype(np.float16)
        raw[:, :, off:off + 2] = halves.view(np.uint8).reshape(rows, nblocks, 2)
    return raw.reshape(rows, nblocks * qt.type_size)


def random_tensor(name: str, rows: int, cols: int, seed: int = 0) -> QuantizedTensor:
    qt = QTYPES[name]
    return QuantizedTensor.from_bytes(random_blocks(qt, rows, cols, seed), qt, (rows, cols))


def activations(n: int, cols: int, seed: int = 1) -> np.ndarray:
    """float32 [n, cols] standard-normal activations."""
    return np.random.default_rng(seed).standard_normal((n, cols)).astype(np.float32)


def gemma_tensor(name: str) -> QuantizedTensor:
    """A tensor of the default Gemma 3 model (FileNotFoundError when its package is missing)."""
    from ..gguf_file import load_gguf
    from ..model_files import default_model_path
    tensors = load_gguf(default_model_path()).tensors
    if name not in tensors:
        raise ValueError(f"{name!r} is not a tensor of the default model (try e.g. {GEMMA_TENSORS[0]})")
    return tensors[name]
