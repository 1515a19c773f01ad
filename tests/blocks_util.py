"""Test helpers shared by every test directory: random valid blocks of any type.

Imported by name (`from blocks_util import ...`); conftest.py files are not importable helpers
because each test directory may have its own.
"""
from __future__ import annotations

import numpy as np

import fusedq
from fusedq.types import QTYPES, QType


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


def random_tensor(name: str, rows: int, cols: int, seed: int = 0) -> fusedq.QuantizedTensor:
    qt = QTYPES[name]
    return fusedq.QuantizedTensor.from_bytes(random_blocks(qt, rows, cols, seed), name, (rows, cols))


ALL_TYPES = list(QTYPES)
