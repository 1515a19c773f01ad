"""The quantizer table: GGML type name -> function turning float32 blocks into GGUF block bytes.

Every quantizer takes a float32 array [n_blocks, block_size] (finite values, already clipped to
a safe range by the driver) and returns uint8 [n_blocks, type_size]. Family modules register
their functions here with `@register("Q4_K")`; nothing else branches on type names.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

BlockQuantizer = Callable[[np.ndarray], np.ndarray]

QUANTIZERS: dict[str, BlockQuantizer] = {}


def register(name: str) -> Callable[[BlockQuantizer], BlockQuantizer]:
    """Decorator: enter `fn` in QUANTIZERS as the quantizer of type `name`."""
    def enter(fn: BlockQuantizer) -> BlockQuantizer:
        if name in QUANTIZERS:
            raise RuntimeError(f"two quantizers registered for {name}")
        QUANTIZERS[name] = fn
        return fn
    return enter
