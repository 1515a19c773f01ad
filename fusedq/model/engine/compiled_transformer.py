"""CompiledTransformer: the Transformer whose forward runs in the compiled engine (_engine.pyx).

It is a Transformer (same config, weights, RoPE tables, pair permutation and KV cache, so the two
forwards are interchangeable on one sequence); only `forward` differs: one nogil call runs every
layer. `engine_spec` turns the Python objects into the plain description the engine checks.
"""
from __future__ import annotations

import numpy as np

from ...threads import get_num_threads
from ..transformer import Transformer
from ._engine import Engine

ENGINE_BATCH = 128   # tokens per engine call (scratch buffers are sized for this many; 128
                     # keeps GEMM tiles efficient and the scratch at ~5.5 MB for Gemma 3)


def _linear(lin) -> tuple[int, np.ndarray, bool]:
    return (lin.tensor.traits.gguf_id, lin.tensor.data, lin.activations == "q8")


def _rope_table(rot: np.ndarray) -> np.ndarray:
    """complex64 [n_ctx, 1, n_rot/2] -> float32 [n_ctx, n_rot] of (cos, sin) pairs."""
    return np.ascontiguousarray(rot).view(np.float32).reshape(rot.shape[0], -1)


def engine_spec(t: Transformer, n_batch: int) -> dict:
    c, w = t.config, t.weights
    layers = []
    for il, lw in enumerate(w.layers):
        cache = t.cache.layers[il]
        layers.append(dict(
            wq=_linear(lw.wq), wk=_linear(lw.wk), wv=_linear(lw.wv), wo=_linear(lw.wo),
            gate=_linear(lw.w_gate), up=_linear(lw.w_up), down=_linear(lw.w_down),
            attn_norm=lw.attn_norm, ffn_norm=lw.ffn_norm, q_norm=lw.q_norm, k_norm=lw.k_norm,
            attn_post_norm=lw.attn_post_norm, ffn_post_norm=lw.ffn_post_norm,
            rope_q=_rope_table(t.rope_q[il]), rope_k=_rope_table(t.rope_k[il]),
            k_cache=cache.k, v_cache=cache.v, capacity=cache.capacity, window=cache.window or 0))
    embd = w.token_embd.tensor
    return dict(
        n_vocab=c.n_vocab, n_embd=c.n_embd, n_layer=c.n_layer, n_ff=c.n_ff, n_head=c.n_head,
        n_head_kv=c.n_head_kv, head_dim=c.head_dim, n_rot=c.n_rot, n_ctx=t.n_ctx,
        n_batch=min(n_batch, t.n_ctx), rms_eps=c.rms_eps,
        embed_scale=float(t.embed_scale) if t.embed_scale is not None else 0.0,
        q_tail_scale=float(t.q_tail_scale) if t.q_tail_scale is not None else 0.0,
        logit_softcap=c.logit_softcap, gate=c.arch.ffn_activation, perm=t.perm,
        embd=(embd.traits.gguf_id, embd.data, False), output=_linear(w.output),
        output_norm=w.output_norm, layers=layers)


class CompiledTransformer(Transformer):
    def __init__(self, config, weights, n_ctx: int, kernel_api, n_batch: int = ENGINE_BATCH):
        super().__init__(config, weights, n_ctx)
        if config.head_dim_v != config.head_dim:
            raise ValueError("the engine needs key_length == value_length")
        self.engine = Engine(kernel_api, engine_spec(self, n_batch), max(2, get_num_threads()))

    def forward(self, ids: np.ndarray, pos0: int) -> np.ndarray:
        """As Transformer.forward; batches longer than the engine's scratch run in chunks."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if ids.ndim != 1 or ids.shape[0] == 0:
            raise ValueError(f"ids must be a non-empty 1-D array, got shape {ids.shape}")
        if pos0 > self.cache.length:
            raise ValueError(f"position {pos0} skips cached positions {self.cache.length}..{pos0 - 1}")
        step = self.engine.n_batch
        logits = None
        for start in range(0, ids.shape[0], step):
            chunk = ids[start:start + step]
            logits = self.engine.forward(chunk, pos0 + start, self.f16_rounding, get_num_threads())
            self.cache.length = pos0 + start + chunk.shape[0]
        return logits
