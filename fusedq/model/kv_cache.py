"""Key/value cache, allocated once for n_ctx.

Each layer keeps keys and values as float32 [n_kv_heads, capacity, head_dim]. Global layers hold
every position (capacity = n_ctx). Sliding-window layers hold only the last `window` positions in
a ring (capacity = min(n_ctx, window)): a query at position p sees keys p-window+1..p, so a full
ring is exactly its key set. The arrays are zero-filled lazily by the OS, so untouched capacity
costs no resident memory.
"""
from __future__ import annotations

import numpy as np

from .config import ModelConfig

MAX_CACHE_BYTES = 64 << 30


class LayerCache:
    __slots__ = ("k", "v", "capacity", "window")

    def __init__(self, n_kv: int, capacity: int, head_dim: int, head_dim_v: int, window: int | None):
        self.capacity = capacity
        self.window = window
        self.k = np.zeros((n_kv, capacity, head_dim), dtype=np.float32)
        self.v = np.zeros((n_kv, capacity, head_dim_v), dtype=np.float32)

    def wraps(self, end: int) -> bool:
        """True when positions up to `end` (exclusive) no longer fit without reusing slots."""
        return end > self.capacity

    def slot_positions(self, length: int) -> np.ndarray:
        """Position held by each slot once positions 0..length-1 are written (-1: empty).
        Slot s holds the latest position p < length with p % capacity == s."""
        s = np.arange(self.capacity, dtype=np.int64)
        return s + self.capacity * ((length - 1 - s) // self.capacity)


class KVCache:
    def __init__(self, config: ModelConfig, n_ctx: int):
        c = config
        caps = [n_ctx if lay.window is None else min(n_ctx, lay.window) for lay in c.layers]
        nbytes = sum(caps) * c.n_head_kv * (c.head_dim + c.head_dim_v) * 4
        if nbytes > MAX_CACHE_BYTES:
            raise ValueError(
                f"a KV cache for n_ctx={n_ctx} would need {nbytes / 2**30:.1f} GiB; use a smaller n_ctx")
        self.n_ctx = n_ctx
        self.nbytes = nbytes
        self.layers = [LayerCache(c.n_head_kv, cap, c.head_dim, c.head_dim_v, lay.window)
                       for cap, lay in zip(caps, c.layers)]
        self.length = 0  # positions 0..length-1 are filled

    def reset(self) -> None:
        """Forget the sequence (slots are overwritten before they are read again)."""
        self.length = 0
