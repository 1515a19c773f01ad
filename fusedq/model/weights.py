"""Model weights: QuantizedTensors straight from the memory-mapped GGUF file, shape-checked once.

Matrices stay in their GGUF blocks; `Linear` binds one to the backend kernel so the hot path calls
the kernel with buffers the runner already guarantees are float32, C-contiguous [n, cols] (the
checks `QuantizedTensor.matmul` makes per call are made here once, at load). Only the small norm
vectors are turned into float32 arrays.
"""
from __future__ import annotations

import numpy as np

from ..tensor import QuantizedTensor
from .architectures import LINEAR_TENSORS
from .config import ModelConfig


class WeightError(ValueError):
    """A tensor the architecture needs is missing, has the wrong shape, or is unexpected."""


class Linear:
    """y = x @ W.T with W kept quantized. x: float32 C-contiguous [n, cols] -> float32 [n, rows]."""

    __slots__ = ("tensor", "rows", "cols", "activations", "_qt", "_data", "_kernel")

    def __init__(self, tensor: QuantizedTensor, backend, activations: str):
        self.tensor = tensor
        self.rows, self.cols = tensor.rows, tensor.cols
        # Float weights multiply float activations in either mode; "q8" matters for blocks only.
        self.activations = activations if tensor.traits.is_quantized else "f32"
        self._qt = tensor.traits
        self._data = tensor.data
        self._kernel = backend.matmul

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._kernel(self._qt, self._data, self.cols, x, self.activations)


class Embedding:
    """Token embedding rows, dequantized only for the ids asked for."""

    __slots__ = ("tensor", "_qt", "_data", "_kernel", "cols", "rows")

    def __init__(self, tensor: QuantizedTensor, backend):
        self.tensor = tensor
        self.rows, self.cols = tensor.rows, tensor.cols
        self._qt, self._data = tensor.traits, tensor.data
        self._kernel = backend.get_rows

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """ids: int64 C-contiguous, each in [0, rows) (checked by the caller)."""
        return self._kernel(self._qt, self._data, ids, self.cols)


class LayerWeights:
    """One transformer block: Linear matrices and float32 norm vectors (None where absent)."""

    def __init__(self):
        self.wq = self.wk = self.wv = self.wo = None
        self.w_gate = self.w_up = self.w_down = None
        self.attn_norm = self.ffn_norm = None
        self.q_norm = self.k_norm = None
        self.attn_post_norm = self.ffn_post_norm = None


class Weights:
    """All tensors of a model, validated against its config."""

    def __init__(self, config: ModelConfig, tensors: dict[str, QuantizedTensor], backend,
                 activations: str = "q8"):
        self.config = config
        self._tensors = tensors
        self._used: set[str] = set()
        c = config
        embd = self._tensor("token_embd.weight", (c.n_vocab, c.n_embd))
        self.token_embd = Embedding(embd, backend)
        self.output_norm = self._vector("output_norm.weight", c.n_embd)
        out = None
        if not c.arch.tied_output_only and "output.weight" in tensors:
            out = self._tensor("output.weight", (c.n_vocab, c.n_embd))
        self.output = Linear(out if out is not None else embd, backend, activations)
        self.output_tied = out is None
        self.rope_freqs = None
        if "rope_freqs.weight" in tensors:
            self.rope_freqs = self._vector("rope_freqs.weight", c.n_rot // 2)

        q_rows, kv_rows = c.n_head * c.head_dim, c.n_head_kv * c.head_dim
        v_rows = c.n_head_kv * c.head_dim_v
        shapes = {"wq": (q_rows, c.n_embd), "wk": (kv_rows, c.n_embd), "wv": (v_rows, c.n_embd),
                  "wo": (c.n_embd, c.n_head * c.head_dim_v),
                  "w_gate": (c.n_ff, c.n_embd), "w_up": (c.n_ff, c.n_embd), "w_down": (c.n_embd, c.n_ff)}
        norm_sizes = {"attn_norm": c.n_embd, "ffn_norm": c.n_embd, "q_norm": c.head_dim,
                      "k_norm": c.head_dim, "attn_post_norm": c.n_embd, "ffn_post_norm": c.n_embd}
        self.layers = []
        for il in range(c.n_layer):
            lw = LayerWeights()
            for attr, suffix in LINEAR_TENSORS:
                t = self._tensor(f"blk.{il}.{suffix}", shapes[attr])
                setattr(lw, attr, Linear(t, backend, activations))
            for attr, suffix in c.arch.layer_norms:
                setattr(lw, attr, self._vector(f"blk.{il}.{suffix}", norm_sizes[attr]))
            self.layers.append(lw)

        unused = sorted(set(tensors) - self._used)
        if unused:
            shown = ", ".join(unused[:5]) + (" ..." if len(unused) > 5 else "")
            raise WeightError(
                f"{len(unused)} tensor(s) that the {c.arch.name} architecture does not use: {shown} "
                "(a variant fusedq does not support, e.g. attention biases)")

    def _tensor(self, name: str, shape: tuple[int, int]) -> QuantizedTensor:
        t = self._tensors.get(name)
        if t is None:
            raise WeightError(f"missing tensor {name!r} (needed by the {self.config.arch.name} architecture)")
        if (t.rows, t.cols) != shape or len(t.shape) != 2:
            raise WeightError(f"tensor {name!r} has shape {t.shape}, expected {shape}")
        self._used.add(name)
        return t

    def _vector(self, name: str, size: int) -> np.ndarray:
        t = self._tensors.get(name)
        if t is None:
            raise WeightError(f"missing tensor {name!r} (needed by the {self.config.arch.name} architecture)")
        if t.shape != (size,):
            raise WeightError(f"tensor {name!r} has shape {t.shape}, expected ({size},)")
        self._used.add(name)
        if t.qtype == "F32":   # norm vectors: read in place (no gguf import, no copy)
            v = np.frombuffer(t.data, dtype="<f4", count=size)
        else:
            v = np.ascontiguousarray(t.dequantize(backend="numpy").reshape(size), dtype=np.float32)
        if not np.isfinite(v).all():
            raise WeightError(f"tensor {name!r} contains NaN or Inf")
        return v
