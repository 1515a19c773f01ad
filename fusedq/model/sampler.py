"""Next-token sampling: greedy at temperature 0, else llama.cpp's chain top-k -> top-p -> min-p ->
temperature -> draw, with a seeded generator (same seed, same tokens)."""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.8
    top_k: int = 40        # <= 0: no limit
    top_p: float = 0.95    # 1: off
    min_p: float = 0.05    # 0: off

    def __post_init__(self):
        _real("temperature", self.temperature)
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, numbers.Integral):
            raise ValueError(f"top_k must be an integer (<= 0 disables it), got {self.top_k!r}")
        _real("top_p", self.top_p)
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        _real("min_p", self.min_p)
        if not 0 <= self.min_p <= 1:
            raise ValueError(f"min_p must be in [0, 1], got {self.min_p}")


def _real(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise ValueError(f"{name} must be a real number, got {value!r}")


class Sampler:
    def __init__(self, params: SamplingParams, seed: int | None = None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"seed must be an integer or None, got {seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.params = params
        self.rng = np.random.default_rng(seed)

    def __call__(self, logits: np.ndarray) -> int:
        p = self.params
        if p.temperature == 0:
            return int(np.argmax(logits))
        if 0 < p.top_k < logits.shape[0]:
            ids = np.argpartition(logits, -p.top_k)[-p.top_k:]
            vals = logits[ids]
        else:
            ids, vals = np.arange(logits.shape[0]), logits
        order = np.argsort(-vals, kind="stable")          # most likely first
        ids, vals = ids[order], vals[order].astype(np.float64)
        probs = np.exp(vals - vals[0])
        probs /= probs.sum()
        if p.top_p < 1:
            # keep the smallest prefix whose mass reaches top_p (at least one token)
            keep = int(np.searchsorted(np.cumsum(probs), p.top_p)) + 1
            ids, vals, probs = ids[:keep], vals[:keep], probs[:keep]
        if p.min_p > 0:
            keep = max(1, int(np.count_nonzero(probs >= p.min_p * probs[0])))
            ids, vals = ids[:keep], vals[:keep]
        scaled = (vals - vals[0]) / p.temperature
        final = np.exp(scaled)
        final /= final.sum()
        return int(ids[self.rng.choice(final.shape[0], p=final)])
