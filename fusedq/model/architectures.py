"""The supported architectures, each described once as data (no per-architecture branches elsewhere).

Facts follow llama.cpp (src/llama-model.cpp, src/models/llama.cpp, src/models/gemma3.cpp):
- `llama`: GGUF stores Q/K rows permuted so that RoPE rotates adjacent pairs (ggml "NORM" mode);
  SwiGLU feed-forward; one RMSNorm before attention and one before the FFN; attention scale
  1/sqrt(head_dim); output.weight optional (tied to token_embd when absent).
- `gemma3`: embeddings scaled by sqrt(n_embd); RoPE rotates the two halves of each head ("NEOX");
  RMSNorm on each Q and K head; norms before *and after* attention and FFN; GELU(tanh) gated FFN;
  with attention.sliding_window set, layer il is global iff il % 6 == 5, the others are local
  (window of n_swa keys, RoPE base 10000 unscaled); queries scaled by 1/sqrt(key_length)
  (1/sqrt(n_embd/n_head) for the 62-layer 27B); output tied to token_embd.
The `(1 + w)` of Gemma's norms is already folded into the GGUF weights by the converter.
"""
from __future__ import annotations

from dataclasses import dataclass

# Rope layouts: which two coordinates of a head form one rotated pair.
ROPE_PAIRS = "pairs"    # (x[2i], x[2i+1])        ggml LLAMA_ROPE_TYPE_NORM
ROPE_HALVES = "halves"  # (x[i], x[i + n_rot/2])  ggml LLAMA_ROPE_TYPE_NEOX

# Per-layer weights every architecture has: (attribute, GGUF suffix after "blk.N.").
LINEAR_TENSORS = (
    ("wq", "attn_q.weight"), ("wk", "attn_k.weight"), ("wv", "attn_v.weight"),
    ("wo", "attn_output.weight"),
    ("w_gate", "ffn_gate.weight"), ("w_up", "ffn_up.weight"), ("w_down", "ffn_down.weight"),
)
BASE_NORMS = (("attn_norm", "attn_norm.weight"), ("ffn_norm", "ffn_norm.weight"))
QK_NORMS = (("q_norm", "attn_q_norm.weight"), ("k_norm", "attn_k_norm.weight"))
POST_NORMS = (("attn_post_norm", "post_attention_norm.weight"),
              ("ffn_post_norm", "post_ffw_norm.weight"))


@dataclass(frozen=True)
class ArchSpec:
    """What distinguishes one decoder-only architecture from another."""

    name: str
    rope_layout: str              # ROPE_PAIRS or ROPE_HALVES
    ffn_activation: str           # key of ops.GATE_ACTIVATIONS: "silu" or "gelu_tanh"
    scale_embeddings: bool        # multiply token embeddings by sqrt(n_embd)
    qk_norm: bool                 # RMSNorm over each Q and K head before RoPE
    post_norms: bool              # RMSNorm on the attention and FFN outputs before the residual add
    tied_output_only: bool        # the output projection is always token_embd
    swa_period: int = 0           # with a sliding window: layer il is global iff il % period == period - 1
    swa_rope_base: float = 10000.0  # RoPE base of sliding-window layers (unless the file says otherwise)
    big_model_attn_layers: int = 0  # layer count whose attention scale is 1/sqrt(n_embd / n_head)

    @property
    def layer_norms(self) -> tuple[tuple[str, str], ...]:
        return BASE_NORMS + (QK_NORMS if self.qk_norm else ()) + (POST_NORMS if self.post_norms else ())


ARCHITECTURES: dict[str, ArchSpec] = {
    "llama": ArchSpec(
        name="llama", rope_layout=ROPE_PAIRS, ffn_activation="silu", scale_embeddings=False,
        qk_norm=False, post_norms=False, tied_output_only=False),
    "gemma3": ArchSpec(
        name="gemma3", rope_layout=ROPE_HALVES, ffn_activation="gelu_tanh", scale_embeddings=True,
        qk_norm=True, post_norms=True, tied_output_only=True, swa_period=6,
        swa_rope_base=10000.0, big_model_attn_layers=62),
}


def arch_spec(name: object) -> ArchSpec:
    """The spec of a supported architecture, or a ValueError naming the supported ones."""
    spec = ARCHITECTURES.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(
            f"unsupported model architecture {name!r}: fusedq runs {', '.join(sorted(ARCHITECTURES))} "
            "(Llama family: SmolLM2, TinyLlama, Llama 2/3, Mistral-style; Gemma 3)")
    return spec
