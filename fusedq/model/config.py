"""Model hyperparameters read from GGUF metadata, every value type- and range-checked before use.

A value that is missing, of the wrong type or absurd (a block_count of 2**32, a head count that
does not divide the width) raises ValueError naming the key; nothing is allocated from an
unchecked number.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

from .architectures import ArchSpec, arch_spec

MAX_LAYERS = 4096
MAX_WIDTH = 1 << 17        # n_embd, n_ff, head dims
MAX_HEADS = 1024
MAX_VOCAB = 1 << 22
MAX_CONTEXT = 1 << 24
_MISSING = object()


class ConfigError(ValueError):
    """GGUF metadata that cannot describe a runnable model."""


def _get(meta: dict, key: str, default: Any) -> Any:
    if key in meta:
        return meta[key]
    if default is _MISSING:
        raise ConfigError(f"missing metadata key {key!r}: this GGUF file does not describe a complete model")
    return default


def get_int(meta: dict, key: str, lo: int, hi: int, default: Any = _MISSING) -> int:
    value = _get(meta, key, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"metadata {key!r} must be an integer, got {type(value).__name__} {value!r:.60}")
    if not lo <= value <= hi:
        raise ConfigError(f"metadata {key!r} = {value} is out of range ({lo}..{hi})")
    return int(value)


def get_float(meta: dict, key: str, lo: float, hi: float, default: Any = _MISSING) -> float:
    value = _get(meta, key, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"metadata {key!r} must be a number, got {type(value).__name__} {value!r:.60}")
    value = float(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ConfigError(f"metadata {key!r} = {value} is out of range ({lo}..{hi})")
    return value


def get_str(meta: dict, key: str, default: Any = _MISSING) -> str:
    value = _get(meta, key, default)
    if not isinstance(value, str):
        raise ConfigError(f"metadata {key!r} must be a string, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class LayerSpec:
    """How one layer attends: its key window (None = all earlier keys) and RoPE frequencies."""

    window: int | None
    rope_base: float
    rope_scale: float   # positions are multiplied by this (linear RoPE scaling: 1 / factor)


@dataclass(frozen=True)
class ModelConfig:
    arch: ArchSpec
    n_vocab: int
    n_embd: int
    n_layer: int
    n_ff: int
    n_head: int
    n_head_kv: int
    head_dim: int          # key/query width of one head
    head_dim_v: int
    n_rot: int             # leading dims of each head that RoPE rotates
    rms_eps: float
    n_ctx_train: int
    attn_scale: float      # queries are multiplied by this before q.k
    logit_softcap: float   # 0: none; else logits = cap * tanh(logits / cap)
    layers: tuple[LayerSpec, ...]

    @property
    def n_group(self) -> int:
        """Query heads per key/value head."""
        return self.n_head // self.n_head_kv

    def describe(self) -> dict[str, Any]:
        local = sum(1 for lay in self.layers if lay.window is not None)
        out = {
            "architecture": self.arch.name, "layers": self.n_layer, "embedding": self.n_embd,
            "feed_forward": self.n_ff, "heads": self.n_head, "kv_heads": self.n_head_kv,
            "head_dim": self.head_dim, "rope_dims": self.n_rot, "vocab": self.n_vocab,
            "context_train": self.n_ctx_train, "rms_eps": self.rms_eps,
            "rope_base": self.layers[-1].rope_base if self.layers else None,
            "rope_layout": self.arch.rope_layout, "attn_scale": round(self.attn_scale, 6),
        }
        if local:
            out["sliding_window"] = self.layers[0].window if self.layers[0].window else next(
                lay.window for lay in self.layers if lay.window)
            out["local_layers"] = local
            out["local_rope_base"] = next(lay.rope_base for lay in self.layers if lay.window)
        if self.logit_softcap:
            out["logit_softcap"] = self.logit_softcap
        return out


def _rope_scale(meta: dict, a: str) -> float:
    kind = get_str(meta, f"{a}.rope.scaling.type", "none")
    if kind == "none":
        return 1.0
    if kind == "linear":
        return 1.0 / get_float(meta, f"{a}.rope.scaling.factor", 1e-6, 1e6)
    raise ConfigError(f"metadata {a}.rope.scaling.type = {kind!r} is not supported (none, linear)")


def config_from_metadata(meta: dict, n_tensors: int | None = None) -> ModelConfig:
    """Validated hyperparameters. `n_tensors` (the file's tensor count) bounds block_count."""
    arch = arch_spec(meta.get("general.architecture"))
    a = arch.name
    max_layers = MAX_LAYERS if n_tensors is None else min(MAX_LAYERS, max(1, n_tensors))
    n_layer = get_int(meta, f"{a}.block_count", 1, max_layers)
    n_embd = get_int(meta, f"{a}.embedding_length", 1, MAX_WIDTH)
    n_ff = get_int(meta, f"{a}.feed_forward_length", 1, MAX_WIDTH * 8)
    n_head = get_int(meta, f"{a}.attention.head_count", 1, MAX_HEADS)
    n_head_kv = get_int(meta, f"{a}.attention.head_count_kv", 1, MAX_HEADS, n_head)
    if n_head % n_head_kv:
        raise ConfigError(f"attention.head_count ({n_head}) must be a multiple of head_count_kv ({n_head_kv})")
    default_hd = n_embd // n_head if n_embd % n_head == 0 else _MISSING
    head_dim = get_int(meta, f"{a}.attention.key_length", 1, MAX_WIDTH, default_hd)
    head_dim_v = get_int(meta, f"{a}.attention.value_length", 1, MAX_WIDTH, head_dim)
    if head_dim_v != head_dim:
        raise ConfigError(f"key_length ({head_dim}) != value_length ({head_dim_v}) is not supported")
    n_rot = get_int(meta, f"{a}.rope.dimension_count", 2, head_dim, head_dim)
    if n_rot % 2:
        raise ConfigError(f"rope.dimension_count ({n_rot}) must be even")
    rms_eps = get_float(meta, f"{a}.attention.layer_norm_rms_epsilon", 0.0, 1.0)
    rope_base = get_float(meta, f"{a}.rope.freq_base", 1.0, 1e12, 10000.0)
    rope_scale = _rope_scale(meta, a)
    n_ctx_train = get_int(meta, f"{a}.context_length", 1, MAX_CONTEXT)
    tokens = meta.get("tokenizer.ggml.tokens")
    default_vocab = len(tokens) if isinstance(tokens, (list, tuple)) and tokens else _MISSING
    n_vocab = get_int(meta, f"{a}.vocab_size", 1, MAX_VOCAB, default_vocab)
    softcap = get_float(meta, f"{a}.final_logit_softcapping", 0.0, 1e6, 0.0)

    window = 0
    if arch.swa_period:
        window = get_int(meta, f"{a}.attention.sliding_window", 0, MAX_CONTEXT, 0)
    if window:
        swa_base = get_float(meta, f"{a}.rope.freq_base_swa", 1.0, 1e12, arch.swa_rope_base)
        local = LayerSpec(window, swa_base, 1.0)
        glob = LayerSpec(None, rope_base, rope_scale)
        p = arch.swa_period
        layers = tuple(glob if il % p == p - 1 else local for il in range(n_layer))
    else:
        layers = (LayerSpec(None, rope_base, rope_scale),) * n_layer

    if arch.big_model_attn_layers and n_layer == arch.big_model_attn_layers:
        attn_scale = 1.0 / math.sqrt(n_embd / n_head)
    else:
        attn_scale = 1.0 / math.sqrt(head_dim)

    return ModelConfig(
        arch=arch, n_vocab=n_vocab, n_embd=n_embd, n_layer=n_layer, n_ff=n_ff, n_head=n_head,
        n_head_kv=n_head_kv, head_dim=head_dim, head_dim_v=head_dim_v, n_rot=n_rot,
        rms_eps=rms_eps, n_ctx_train=n_ctx_train, attn_scale=attn_scale, logit_softcap=softcap,
        layers=layers)
