"""Runs a registered block quantizer over a whole matrix: in chunks, on the fusedq thread count.

Chunks keep the working set in cache; numpy releases the GIL inside its loops, so chunks run
in parallel threads. Values of quantized types are first clipped to +-1e12: no block format can
represent more than ~3e8, and the clip keeps every intermediate sum finite in float32.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..threads import get_num_threads
from ..types import QType
from .table import QUANTIZERS

VALUE_LIMIT = 1e12
CHUNK_VALUES = 1 << 17  # values per chunk handed to a quantizer


def quantize_matrix(arr: np.ndarray, qt: QType, threads: int | None = None) -> np.ndarray:
    """float32 C-contiguous [rows, cols] -> uint8 [rows, row_bytes] of GGUF blocks.

    The values must be finite and cols a multiple of the block size (quantize() checks both).
    """
    fn = QUANTIZERS[qt.name]
    rows, cols = arr.shape
    blocks = arr.reshape(-1, qt.block_size)
    out = np.empty((blocks.shape[0], qt.type_size), dtype=np.uint8)
    per_chunk = max(1, CHUNK_VALUES // qt.block_size)
    starts = range(0, blocks.shape[0], per_chunk)

    def run(start: int) -> None:
        part = blocks[start:start + per_chunk]
        if qt.is_quantized:
            part = np.clip(part, -VALUE_LIMIT, VALUE_LIMIT)
        out[start:start + per_chunk] = fn(part)

    workers = min(threads or get_num_threads(), len(starts))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, starts))
    else:
        for start in starts:
            run(start)
    return out.reshape(rows, qt.row_bytes(cols))
