"""Model-runner test helpers: tiny synthetic GGUF models of each architecture (random weights,
quantized with fusedq.quantize), a byte-level test tokenizer, and the golden data."""
from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np
import pytest

import fusedq

GOLDEN = Path("/work/shared/golden")
N_BYTES = 256
BOS, EOS = 256, 257
TINY_VOCAB = 258

# name -> (architecture, hyperparameters, quant type per tensor kind)
TINY_MODELS = {
    "llama": dict(arch="llama", n_embd=64, n_layer=3, n_ff=96, n_head=4, n_head_kv=2, head_dim=16,
                  rope_base=10000.0, extra={"llama.rope.dimension_count": 16}, tied=False),
    "gemma3": dict(arch="gemma3", n_embd=64, n_layer=7, n_ff=128, n_head=4, n_head_kv=2, head_dim=32,
                   rope_base=1000000.0, window=8, tied=True),
}
QTYPES = {"attn_q": "Q4_0", "attn_k": "Q5_0", "attn_v": "Q8_0", "attn_output": "Q4_1",
          "ffn_gate": "Q5_1", "ffn_up": "Q4_0", "ffn_down": "Q8_0", "token_embd": "Q8_0",
          "output": "Q8_0"}


class ByteTokenizer:
    """Test tokenizer: one token per byte, BOS 256, EOS 257 (multi-byte characters span tokens)."""

    bos_id, eos_id, n_vocab = BOS, EOS, TINY_VOCAB
    eog_ids = frozenset({EOS})

    def __init__(self, add_bos: bool = True):
        self.add_bos = add_bos

    def encode(self, text, add_bos=None):
        bos = self.add_bos if add_bos is None else add_bos
        return ([BOS] if bos else []) + list(text.encode("utf-8"))

    def token_bytes(self, i):
        return bytes([i]) if i < N_BYTES else b""

    def decode(self, ids):
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")


class IdsTokenizer(ByteTokenizer):
    """For real models when only ids matter (golden prompt_ids): BOS/EOG from the file's metadata."""

    def __init__(self, meta):
        self.bos_id = int(meta.get("tokenizer.ggml.bos_token_id", 0))
        self.eos_id = int(meta.get("tokenizer.ggml.eos_token_id", 0))
        self.eog_ids = frozenset({self.eos_id})
        self.n_vocab = len(meta["tokenizer.ggml.tokens"])

    def encode(self, text, add_bos=None):
        raise NotImplementedError("ids-only test tokenizer")


def _weight(rng, rows, cols, scale):
    return (rng.standard_normal((rows, cols)) * scale).astype(np.float32)


def write_tiny_model(path: Path, kind: str, seed: int = 0, qtypes=None, **overrides) -> Path:
    """A tiny model of `kind` (TINY_MODELS, with overrides), weights in QTYPES or `qtypes`."""
    spec = dict(TINY_MODELS[kind])
    spec.update(overrides)
    types = {**QTYPES, **(qtypes or {})}
    a, d, hd = spec["arch"], spec["n_embd"], spec["head_dim"]
    nh, nkv, nff = spec["n_head"], spec["n_head_kv"], spec["n_ff"]
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), a)
    w.add_uint32(f"{a}.block_count", spec["n_layer"])
    w.add_uint32(f"{a}.embedding_length", d)
    w.add_uint32(f"{a}.feed_forward_length", nff)
    w.add_uint32(f"{a}.attention.head_count", nh)
    w.add_uint32(f"{a}.attention.head_count_kv", nkv)
    w.add_uint32(f"{a}.attention.key_length", hd)
    w.add_uint32(f"{a}.attention.value_length", hd)
    w.add_uint32(f"{a}.context_length", 256)
    w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", 1e-6)
    w.add_float32(f"{a}.rope.freq_base", spec["rope_base"])
    if spec.get("window"):
        w.add_uint32(f"{a}.attention.sliding_window", spec["window"])
    for key, value in spec.get("extra", {}).items():
        (w.add_float32 if isinstance(value, float) else w.add_uint32)(key, value)
    w.add_tokenizer_model("test-bytes")
    w.add_token_list([f"<0x{i:02X}>" for i in range(N_BYTES)] + ["<bos>", "<eos>"])
    w.add_bos_token_id(BOS)
    w.add_eos_token_id(EOS)

    def add(name, kind_, rows, cols, scale):
        q = fusedq.quantize(_weight(rng, rows, cols, scale), types[kind_])
        w.add_tensor(name, np.array(q.data), raw_dtype=gguf.GGMLQuantizationType[types[kind_]])

    def add_norm(name, size):
        w.add_tensor(name, (1.0 + 0.2 * rng.standard_normal(size)).astype(np.float32))

    add("token_embd.weight", "token_embd", TINY_VOCAB, d, 1.0)
    add_norm("output_norm.weight", d)
    if not spec["tied"]:
        add("output.weight", "output", TINY_VOCAB, d, d ** -0.5)
    for il in range(spec["n_layer"]):
        p = f"blk.{il}."
        add(p + "attn_q.weight", "attn_q", nh * hd, d, d ** -0.5)
        add(p + "attn_k.weight", "attn_k", nkv * hd, d, d ** -0.5)
        add(p + "attn_v.weight", "attn_v", nkv * hd, d, d ** -0.5)
        add(p + "attn_output.weight", "attn_output", d, nh * hd, (nh * hd) ** -0.5)
        add(p + "ffn_gate.weight", "ffn_gate", nff, d, d ** -0.5)
        add(p + "ffn_up.weight", "ffn_up", nff, d, d ** -0.5)
        add(p + "ffn_down.weight", "ffn_down", d, nff, nff ** -0.5)
        add_norm(p + "attn_norm.weight", d)
        add_norm(p + "ffn_norm.weight", d)
        if a == "gemma3":
            add_norm(p + "attn_q_norm.weight", hd)
            add_norm(p + "attn_k_norm.weight", hd)
            add_norm(p + "post_attention_norm.weight", d)
            add_norm(p + "post_ffw_norm.weight", d)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Paths of the tiny models, written once per session (import this fixture by name)."""
    root = tmp_path_factory.mktemp("tiny_models")
    return {kind: write_tiny_model(root / f"{kind}.gguf", kind) for kind in TINY_MODELS}


def load_tiny(path, backend="numpy", **kw) -> fusedq.Model:
    kw.setdefault("n_ctx", 64)
    return fusedq.Model.load(path, backend=backend, tokenizer=ByteTokenizer(), **kw)


def golden(name):
    data = json.loads((GOLDEN / f"{name}.json").read_text())
    logits = np.load(GOLDEN / f"{name}.logits.npy")
    return data, logits


def compiled_backends():
    return [b for b in fusedq.available_backends() if b != "numpy"]
