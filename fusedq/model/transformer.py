"""The forward pass: token ids at positions pos0.. -> hidden states -> logits of the last position.

Read top to bottom it is the architecture: embed; per layer, RMSNorm -> Q,K,V -> (Q/K norm) ->
RoPE -> attention over the cache -> output projection -> (post-norm) -> residual; RMSNorm ->
gated FFN -> (post-norm) -> residual; final RMSNorm -> output projection. What differs between
architectures comes from ArchSpec/LayerSpec data, not from branches on the architecture's name.
Prefill passes n tokens at once (matrix products as GEMMs); decode passes one (GEMVs).
"""
from __future__ import annotations

import math

import numpy as np

from .config import ModelConfig
from .kv_cache import KVCache, LayerCache
from .ops import (GATE_ACTIVATIONS, GATE_ACTIVATIONS_F16, apply_rope, pair_permutation, rms_norm, rope_rotations,
                  softmax_inplace)
from .weights import Weights

F32 = np.float32
F16 = np.float16


class Transformer:
    def __init__(self, config: ModelConfig, weights: Weights, n_ctx: int):
        c = self.config = config
        self.weights = weights
        self.n_ctx = n_ctx
        self.cache = KVCache(config, n_ctx)
        # Round K, V (as stored), q and the attention weights to f16 where they meet, as
        # llama.cpp's f16 KV cache does. Against the golden logits this neither helps nor hurts
        # measurably (8-bit activation rounding dominates); on, so the compiled engine
        # (engine/) and this reference forward agree in their default mode.
        self.f16_rounding = True
        self.activation = GATE_ACTIVATIONS[c.arch.ffn_activation]
        self.activation_f16 = GATE_ACTIVATIONS_F16[c.arch.ffn_activation]
        self.embed_scale = F32(math.sqrt(c.n_embd)) if c.arch.scale_embeddings else None
        self.perm = pair_permutation(c.head_dim, c.n_rot, c.arch.rope_layout)
        self.q_tail_scale = F32(c.attn_scale) if c.n_rot < c.head_dim else None
        # One RoPE table per distinct (base, scale); the query table carries the attention scale.
        tables: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}
        self.rope_k, self.rope_q = [], []
        for lay in c.layers:
            key = (lay.rope_base, lay.rope_scale)
            if key not in tables:
                rot = rope_rotations(n_ctx, c.n_rot, lay.rope_base, lay.rope_scale, weights.rope_freqs)
                tables[key] = (rot, (rot * F32(c.attn_scale)).astype(np.complex64))
            self.rope_k.append(tables[key][0])
            self.rope_q.append(tables[key][1])

    # ---------------------------------------------------------------------------------------
    def forward(self, ids: np.ndarray, pos0: int) -> np.ndarray:
        """Run tokens `ids` (int64 [n]) at positions pos0..pos0+n-1; return the last position's
        logits (float32 [n_vocab]). The cache must hold exactly positions 0..pos0-1."""
        c, w = self.config, self.weights
        n = ids.shape[0]
        with np.errstate(over="ignore"):
            x = w.token_embd(ids)                                # [n, d]
            if self.embed_scale is not None:
                x *= self.embed_scale
            for il, lw in enumerate(w.layers):
                # --- attention block
                h = rms_norm(x, lw.attn_norm, c.rms_eps)
                q = lw.wq(h).reshape(n, c.n_head, c.head_dim)
                k = lw.wk(h).reshape(n, c.n_head_kv, c.head_dim)
                v = lw.wv(h).reshape(n, c.n_head_kv, c.head_dim_v)
                if lw.q_norm is not None:
                    q = rms_norm(q, lw.q_norm, c.rms_eps, out=q)
                    k = rms_norm(k, lw.k_norm, c.rms_eps, out=k)
                if self.perm is not None:
                    q, k = np.take(q, self.perm, axis=-1), np.take(k, self.perm, axis=-1)
                apply_rope(q, self.rope_q[il][pos0:pos0 + n], c.n_rot)
                apply_rope(k, self.rope_k[il][pos0:pos0 + n], c.n_rot)
                if self.q_tail_scale is not None:
                    q[..., c.n_rot:] *= self.q_tail_scale
                a = self.attend(self.cache.layers[il], q, k, v, pos0)
                a = lw.wo(a)
                if lw.attn_post_norm is not None:
                    a = rms_norm(a, lw.attn_post_norm, c.rms_eps, out=a)
                x += a
                # --- feed-forward block
                h = rms_norm(x, lw.ffn_norm, c.rms_eps)
                activation = self.activation_f16 if self.f16_rounding else self.activation
                g = activation(lw.w_gate(h), lw.w_up(h))
                f = lw.w_down(g)
                if lw.ffn_post_norm is not None:
                    f = rms_norm(f, lw.ffn_post_norm, c.rms_eps, out=f)
                x += f
            self.cache.length = pos0 + n
            h = rms_norm(x[n - 1:], w.output_norm, c.rms_eps)
            logits = w.output(h)[0]
            if c.logit_softcap:
                cap = F32(c.logit_softcap)
                logits /= cap
                np.tanh(logits, out=logits)
                logits *= cap
        return logits

    # ---------------------------------------------------------------------------------------
    def attend(self, cache: LayerCache, q: np.ndarray, k: np.ndarray, v: np.ndarray,
               pos0: int) -> np.ndarray:
        """Store k, v for positions pos0.. and attend q [n, heads, hd] -> [n, heads * hd_v]."""
        n = q.shape[0]
        end = pos0 + n
        if self.f16_rounding:
            k, v = k.astype(F16), v.astype(F16)
        if not cache.wraps(end):
            cache.k[:, pos0:end] = k.transpose(1, 0, 2)
            cache.v[:, pos0:end] = v.transpose(1, 0, 2)
            keys, vals = cache.k[:, :end], cache.v[:, :end]
            mask = None
            if n > 1:   # causal: query pos0+i sees keys 0..pos0+i
                kpos = np.arange(end)
                mask = np.where(kpos[None, :] > np.arange(pos0, end)[:, None], F32(-np.inf), F32(0))
        elif n == 1:    # a full ring holds exactly the window of the new query
            slot = pos0 % cache.capacity
            cache.k[:, slot] = k[0]
            cache.v[:, slot] = v[0]
            keys, vals, mask = cache.k, cache.v, None
        else:           # a batch that wraps the ring: attend over ring + batch, then store
            old = cache.slot_positions(pos0)
            keys = np.concatenate([cache.k, k.transpose(1, 0, 2).astype(F32)], axis=1)
            vals = np.concatenate([cache.v, v.transpose(1, 0, 2).astype(F32)], axis=1)
            kpos = np.concatenate([old, np.arange(pos0, end)])
            qpos = np.arange(pos0, end)[:, None]
            visible = (kpos[None, :] >= 0) & (kpos[None, :] <= qpos) & (qpos - kpos[None, :] < cache.window)
            mask = np.where(visible, F32(0), F32(-np.inf))
            keep = min(n, cache.capacity)
            slots = np.arange(end - keep, end) % cache.capacity
            cache.k[:, slots] = k[n - keep:].transpose(1, 0, 2)
            cache.v[:, slots] = v[n - keep:].transpose(1, 0, 2)
        return self._attention(q, keys, vals, mask)

    def _attention(self, q: np.ndarray, keys: np.ndarray, vals: np.ndarray,
                   mask: np.ndarray | None) -> np.ndarray:
        c = self.config
        n = q.shape[0]
        half = self.f16_rounding
        if half:
            q = q.astype(F16).astype(F32)
        if n == 1:
            qh = q.reshape(c.n_head_kv, c.n_group, c.head_dim)
            scores = np.matmul(qh, keys.transpose(0, 2, 1))           # [kv, g, T]
            softmax_inplace(scores)
            if half:
                scores = scores.astype(F16).astype(F32)
            return np.matmul(scores, vals).reshape(1, c.n_head * c.head_dim_v)
        # one [g*n, hd] x [hd, T] product per kv head (contiguous operands: BLAS GEMMs)
        qh = q.reshape(n, c.n_head_kv, c.n_group, c.head_dim).transpose(1, 2, 0, 3)
        qh = qh.reshape(c.n_head_kv, c.n_group * n, c.head_dim)
        scores = np.matmul(qh, keys.transpose(0, 2, 1))               # [kv, g*n, T]
        scores.reshape(c.n_head_kv, c.n_group, n, -1)[...] += mask
        softmax_inplace(scores)
        if half:
            scores = scores.astype(F16).astype(F32)
        out = np.matmul(scores, vals)                                 # [kv, g*n, hd_v]
        out = out.reshape(c.n_head_kv, c.n_group, n, c.head_dim_v)
        return out.transpose(2, 0, 1, 3).reshape(n, c.n_head * c.head_dim_v)
