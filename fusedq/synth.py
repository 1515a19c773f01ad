"""Synthetic GGUF models: a real architecture's shapes, random weights, a real tokenizer.

`write_synthetic(path, like="tinyllama", mix="Q4_K_M")` writes a llama-architecture GGUF that
llama.cpp and fusedq both load: weights are normal * 0.02 (norms 1.0) quantized with
fusedq.quantize in llama.cpp's per-tensor mix, and the tokenizer is SmolLM2's byte-level BPE
vocabulary cut to the preset's vocabulary size. Tensors are generated, quantized and written one
at a time, so memory stays at about one float32 matrix.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter

from .quantize import quantize
from .types import QTYPES

WEIGHT_STD = 0.02
QK_K = 256


@dataclass(frozen=True)
class Shape:
    """Hyper-parameters of a llama-architecture model."""

    n_layer: int
    dim: int
    ffn: int
    n_head: int
    n_head_kv: int
    n_vocab: int
    n_ctx: int = 2048
    rope_base: float = 10000.0
    rms_eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_head


PRESETS = {
    # TinyLlama-1.1B: the original demo's model
    "tinyllama": Shape(n_layer=22, dim=2048, ffn=5632, n_head=32, n_head_kv=4, n_vocab=32000),
    # a few-MB model for tests: 8 layers so the Q4_K_M layer rule picks Q6_K for some of them
    "tiny": Shape(n_layer=8, dim=256, ffn=512, n_head=4, n_head_kv=2, n_vocab=1024, n_ctx=512),
}


# --- llama.cpp's per-tensor type choice (llama-quant.cpp, llama_tensor_get_type) ------------------
def use_more_bits(i_layer: int, n_layer: int) -> bool:
    """The layers llama.cpp's *_K_M mixes give more bits: the first and last eighth, and every
    third layer in between."""
    return (i_layer < n_layer // 8 or i_layer >= 7 * n_layer // 8
            or (i_layer - n_layer // 8) % 3 == 2)


# K-quant -> the type llama.cpp falls back to when a row is not a multiple of 256
K_FALLBACK = {"Q2_K": "IQ4_NL", "Q3_K": "IQ4_NL", "IQ4_XS": "IQ4_NL", "Q4_K": "Q5_0",
              "Q5_K": "Q5_1", "Q6_K": "Q8_0"}


def _q4_k_m(role: str, layer: int, n_layer: int) -> str:
    if role == "output":
        return "Q6_K"
    if role in ("attn_v", "ffn_down") and use_more_bits(layer, n_layer):
        return "Q6_K"
    return "Q4_K"


# mix name -> (llama_ftype id for general.file_type, rule(role, layer, n_layer) -> type)
MIXES: dict[str, tuple[int, Callable[[str, int, int], str]]] = {"Q4_K_M": (15, _q4_k_m)}
PURE_FTYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9,
               "Q2_K": 10, "Q4_K": 14, "Q5_K": 16, "Q6_K": 18, "IQ4_NL": 25, "IQ4_XS": 30,
               "BF16": 32}


def tensor_type(mix: str, role: str, layer: int, n_layer: int, cols: int) -> str:
    """The type `mix` gives a 2-D weight of `role` ("output", "token_embd", "attn_q", ...)."""
    key = mix.upper()
    if key in MIXES:
        name = MIXES[key][1](role, layer, n_layer)
    elif key in PURE_FTYPES:
        name = "Q6_K" if role == "output" and QTYPES[key].is_quantized and key != "Q8_0" else key
    else:
        raise ValueError(f"unknown type mix {mix!r}; choose one of {', '.join([*MIXES, *PURE_FTYPES])}")
    if cols % QK_K and name in K_FALLBACK:
        name = K_FALLBACK[name]
    return name


# --- the model's tensors, in file order ------------------------------------------------------------
@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]   # numpy order: (rows, cols) or (cols,)
    role: str
    layer: int               # -1 outside the blocks


def tensor_specs(s: Shape) -> list[TensorSpec]:
    kv = s.n_head_kv * s.head_dim
    out = [TensorSpec("token_embd.weight", (s.n_vocab, s.dim), "token_embd", -1)]
    for i in range(s.n_layer):
        p = f"blk.{i}."
        out += [TensorSpec(p + "attn_norm.weight", (s.dim,), "norm", i),
                TensorSpec(p + "attn_q.weight", (s.dim, s.dim), "attn_q", i),
                TensorSpec(p + "attn_k.weight", (kv, s.dim), "attn_k", i),
                TensorSpec(p + "attn_v.weight", (kv, s.dim), "attn_v", i),
                TensorSpec(p + "attn_output.weight", (s.dim, s.dim), "attn_output", i),
                TensorSpec(p + "ffn_norm.weight", (s.dim,), "norm", i),
                TensorSpec(p + "ffn_gate.weight", (s.ffn, s.dim), "ffn_gate", i),
                TensorSpec(p + "ffn_up.weight", (s.ffn, s.dim), "ffn_up", i),
                TensorSpec(p + "ffn_down.weight", (s.dim, s.ffn), "ffn_down", i)]
    out += [TensorSpec("output_norm.weight", (s.dim,), "norm", -1),
            TensorSpec("output.weight", (s.n_vocab, s.dim), "output", -1)]
    return out


def planned_types(s: Shape, mix: str) -> dict[str, str]:
    """Tensor name -> type name the file will hold."""
    return {t.name: ("F32" if len(t.shape) == 1 else
                     tensor_type(mix, t.role, t.layer, s.n_layer, t.shape[-1]))
            for t in tensor_specs(s)}


def _encoded(t: TensorSpec, type_name: str, rng: np.random.Generator) -> np.ndarray:
    if len(t.shape) == 1:
        return np.ones(t.shape, dtype=np.float32)
    w = rng.standard_normal(t.shape, dtype=np.float32)
    w *= WEIGHT_STD
    if type_name == "F32":
        return w
    return np.ascontiguousarray(quantize(w, type_name).data)


# --- tokenizer --------------------------------------------------------------------------------------
TOKENIZER_SCALARS = ["tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id",
                     "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
                     "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_bos_token",
                     "tokenizer.ggml.add_space_prefix"]


def donor_tokenizer(n_vocab: int, donor_path=None) -> dict:
    """SmolLM2's gpt2 tokenizer cut to its first n_vocab tokens: merges are kept only when both
    parts and their result are still in the vocabulary."""
    from .gguf_file import load_gguf
    from .model_files import smollm2_path
    meta = load_gguf(donor_path or smollm2_path()).metadata
    tokens = list(meta["tokenizer.ggml.tokens"])
    if n_vocab > len(tokens):
        raise ValueError(f"the donor tokenizer has only {len(tokens)} tokens; ask for at most that many")
    kept = tokens[:n_vocab]
    vocab = set(kept)
    merges = [m for m in meta["tokenizer.ggml.merges"]
              if (lambda a, b: a in vocab and b in vocab and a + b in vocab)(*m.split(" ", 1))]
    out = {k: meta[k] for k in TOKENIZER_SCALARS if k in meta}
    for k in ("bos", "eos", "unknown", "padding"):
        key = f"tokenizer.ggml.{k}_token_id"
        if key in out and out[key] >= n_vocab:
            raise ValueError(f"{key}={out[key]} does not fit a vocabulary of {n_vocab}")
    out.update(tokens=kept, token_type=np.asarray(meta["tokenizer.ggml.token_type"][:n_vocab]),
               merges=merges)
    return out


def _add_tokenizer(w: GGUFWriter, tok: dict) -> None:
    w.add_tokenizer_model(tok["tokenizer.ggml.model"])
    if "tokenizer.ggml.pre" in tok:
        w.add_tokenizer_pre(tok["tokenizer.ggml.pre"])
    w.add_token_list(tok["tokens"])
    w.add_token_types([int(v) for v in tok["token_type"]])
    w.add_token_merges(tok["merges"])
    adders = {"bos_token_id": w.add_bos_token_id, "eos_token_id": w.add_eos_token_id,
              "unknown_token_id": w.add_unk_token_id, "padding_token_id": w.add_pad_token_id,
              "add_bos_token": w.add_add_bos_token, "add_space_prefix": w.add_add_space_prefix}
    for suffix, add in adders.items():
        key = "tokenizer.ggml." + suffix
        if key in tok:
            add(tok[key])


# --- the writer -------------------------------------------------------------------------------------
def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def write_synthetic(path, like: str = "tinyllama", mix: str = "Q4_K_M", seed: int = 0,
                    progress: bool = False, donor_path=None) -> dict[str, str]:
    """Write the synthetic model to `path` (atomically); returns tensor name -> type name."""
    if like not in PRESETS:
        raise ValueError(f"unknown model shape {like!r}; choose one of {', '.join(PRESETS)}")
    s = PRESETS[like]
    types = planned_types(s, mix)
    tok = donor_tokenizer(s.n_vocab, donor_path)
    specs = tensor_specs(s)
    tmp = f"{os.fspath(path)}.partial"
    writer = GGUFWriter(tmp, "llama")
    try:
        writer.add_name(f"fusedq synthetic {like} {mix.upper()}")
        writer.add_context_length(s.n_ctx)
        writer.add_embedding_length(s.dim)
        writer.add_block_count(s.n_layer)
        writer.add_feed_forward_length(s.ffn)
        writer.add_head_count(s.n_head)
        writer.add_head_count_kv(s.n_head_kv)
        writer.add_layer_norm_rms_eps(s.rms_eps)
        writer.add_rope_freq_base(s.rope_base)
        writer.add_rope_dimension_count(s.head_dim)
        writer.add_vocab_size(s.n_vocab)
        key = mix.upper()
        writer.add_file_type(MIXES[key][0] if key in MIXES else PURE_FTYPES[key])
        writer.add_quantization_version(2)
        _add_tokenizer(writer, tok)
        for t in specs:
            qt = QTYPES[types[t.name]]
            nbytes = (qt.row_bytes(t.shape[-1]) * int(np.prod(t.shape[:-1], dtype=np.int64))
                      if len(t.shape) > 1 else 4 * t.shape[0])
            byte_shape = (*t.shape[:-1], qt.row_bytes(t.shape[-1])) if len(t.shape) > 1 else t.shape
            if qt.name == "F32" or len(t.shape) == 1:
                writer.add_tensor_info(t.name, t.shape, np.dtype(np.float32), nbytes)
            else:
                writer.add_tensor_info(t.name, byte_shape, np.dtype(np.uint8), nbytes,
                                       raw_dtype=GGMLQuantizationType(qt.gguf_id))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        rng = np.random.default_rng(seed)
        for k, t in enumerate(specs):
            if progress and len(t.shape) > 1:
                _progress(f"synth: [{k + 1}/{len(specs)}] {t.name} {types[t.name]} {t.shape}")
            writer.write_tensor_data(_encoded(t, types[t.name], rng))
        writer.close()
    except BaseException:
        writer.close()
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    os.replace(tmp, path)
    return types


def cached_synthetic(like: str = "tinyllama", mix: str = "Q4_K_M", progress: bool = True):
    """Path of the synthetic model in fusedq's cache directory, written on first use."""
    from .model_files import cache_dir
    target = cache_dir() / f"synth-{like}-{mix.lower()}.gguf"
    if not target.exists():
        if progress:
            _progress(f"synth: writing {target} (once) ...")
        write_synthetic(target, like, mix, progress=progress)
    return target

