"""The runner on tiny synthetic models of both architectures, against an independent float64
re-implementation of the forward pass written plainly from the maths, and across backends."""
from __future__ import annotations

import math

import gguf
import numpy as np
import pytest
from gguf import quants as gguf_quants
from model_helpers import TINY_MODELS, compiled_backends, load_tiny, tiny_models  # noqa: F401

# ------------------------------------------------------------------------------------------------
# float64 oracle: reads the file with gguf-py, dequantizes with gguf-py, full recompute, no cache.


def _read(path):
    r = gguf.GGUFReader(str(path))
    meta = {k: f.contents() for k, f in r.fields.items() if not k.startswith("tokenizer")}
    w = {}
    for t in r.tensors:
        vals = gguf_quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        w[t.name] = vals.reshape(tuple(int(n) for n in reversed(t.shape))) if len(t.shape) > 1 else vals.reshape(-1)
    return meta, w


def _rmsnorm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def _rope(x, positions, base, n_rot, halves):
    """x [n, heads, hd]; rotate pair i by angle pos * base^(-2i/n_rot)."""
    out = x.copy()
    for i in range(n_rot // 2):
        a, b = (i, i + n_rot // 2) if halves else (2 * i, 2 * i + 1)
        theta = positions[:, None] * base ** (-2.0 * i / n_rot)
        c, s = np.cos(theta), np.sin(theta)
        out[..., a] = x[..., a] * c - x[..., b] * s
        out[..., b] = x[..., a] * s + x[..., b] * c
    return out


def oracle_logits(path, ids):
    meta, w = _read(path)
    arch = meta["general.architecture"]
    gemma = arch == "gemma3"
    m = lambda key, default=None: meta.get(f"{arch}.{key}", default)  # noqa: E731
    d, n_layer, nh, nkv = m("embedding_length"), m("block_count"), m("attention.head_count"), m("attention.head_count_kv")
    hd, eps = m("attention.key_length"), m("attention.layer_norm_rms_epsilon")
    n_rot = m("rope.dimension_count", hd)
    window = m("attention.sliding_window")
    n = len(ids)
    pos = np.arange(n, dtype=np.float64)
    x = w["token_embd.weight"][ids]
    if gemma:
        x = x * math.sqrt(d)
    for il in range(n_layer):
        p = f"blk.{il}."
        local = gemma and window and il % 6 != 5
        base = 10000.0 if local else m("rope.freq_base")
        h = _rmsnorm(x, w[p + "attn_norm.weight"], eps)
        q = (h @ w[p + "attn_q.weight"].T).reshape(n, nh, hd)
        k = (h @ w[p + "attn_k.weight"].T).reshape(n, nkv, hd)
        v = (h @ w[p + "attn_v.weight"].T).reshape(n, nkv, hd)
        if gemma:
            q = _rmsnorm(q, w[p + "attn_q_norm.weight"], eps)
            k = _rmsnorm(k, w[p + "attn_k_norm.weight"], eps)
        q, k = _rope(q, pos, base, n_rot, gemma), _rope(k, pos, base, n_rot, gemma)
        o = np.zeros((n, nh, hd))
        for head in range(nh):
            kvh = head // (nh // nkv)
            s = q[:, head] @ k[:, kvh].T / math.sqrt(hd)
            for i in range(n):
                for j in range(n):
                    if j > i or (local and i - j >= window):
                        s[i, j] = -np.inf
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            o[:, head] = s @ v[:, kvh]
        a = o.reshape(n, nh * hd) @ w[p + "attn_output.weight"].T
        if gemma:
            a = _rmsnorm(a, w[p + "post_attention_norm.weight"], eps)
        x = x + a
        h = _rmsnorm(x, w[p + "ffn_norm.weight"], eps)
        g, u = h @ w[p + "ffn_gate.weight"].T, h @ w[p + "ffn_up.weight"].T
        if gemma:
            act = 0.5 * g * (1 + np.tanh(math.sqrt(2 / math.pi) * (g + 0.044715 * g ** 3)))
        else:
            act = g / (1 + np.exp(-g))
        f = (act * u) @ w[p + "ffn_down.weight"].T
        if gemma:
            f = _rmsnorm(f, w[p + "post_ffw_norm.weight"], eps)
        x = x + f
    h = _rmsnorm(x[-1], w["output_norm.weight"], eps)
    out = w.get("output.weight", w["token_embd.weight"])
    return h @ out.T


# ------------------------------------------------------------------------------------------------
KINDS = sorted(TINY_MODELS)
IDS = [256, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 32, 84, 104, 105, 115, 32]


def _exact(model):
    """Float32 attention throughout (no f16 rounding of K/V/q/weights as llama.cpp does)."""
    model.transformer.f16_rounding = False
    return model


def _close(ours, ref, tol):
    err = np.max(np.abs(ours - ref)) / np.max(np.abs(ref))
    assert err < tol, f"max error {err:.2e} (relative to max |logit|) exceeds {tol:.0e}"


@pytest.mark.parametrize("kind", KINDS)
def test_prefill_matches_float64_oracle(tiny_models, kind):
    model = _exact(load_tiny(tiny_models[kind], activations="f32"))
    for n in (1, 5, len(IDS)):   # 20 tokens pass gemma3's window of 8
        _close(model.logits(IDS[:n]), oracle_logits(tiny_models[kind], IDS[:n]), 1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_batch", [3, 7, 16])   # 16: one chunk longer than the window
def test_chunked_prefill_and_decode_match_oracle(tiny_models, kind, n_batch):
    """Prefill in chunks (chunks that wrap the sliding-window ring), then one token at a time."""
    model = _exact(load_tiny(tiny_models[kind], activations="f32"))
    model.n_batch = n_batch
    split = 13
    model.logits(IDS[:split])
    for pos in range(split, len(IDS)):
        logits = model.transformer.forward(np.array([IDS[pos]]), pos)
        _close(logits, oracle_logits(tiny_models[kind], IDS[:pos + 1]), 1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_default_mode_near_oracle(tiny_models, kind):
    """q8 activations and f16-rounded attention (llama.cpp's numerics) stay close to exact maths."""
    ours = load_tiny(tiny_models[kind]).logits(IDS)
    ref = oracle_logits(tiny_models[kind], IDS)
    cos = ours @ ref / np.linalg.norm(ours) / np.linalg.norm(ref)
    assert cos > 0.999
    assert np.argmax(ours) == np.argmax(ref)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", compiled_backends() or
                         [pytest.param("none", marks=pytest.mark.skip(reason="no compiled backend built"))])
def test_backends_give_the_same_logits(tiny_models, kind, backend):
    """f32 activations: equal to float rounding. q8: a float difference of 1e-7 may move one
    activation across a rounding boundary (one 8-bit step), so compare by cosine and argmax."""
    path = tiny_models[kind]
    ref = _exact(load_tiny(path, backend="numpy", activations="f32")).logits(IDS)
    _close(_exact(load_tiny(path, backend=backend, activations="f32")).logits(IDS), ref, 1e-5)
    ref = load_tiny(path, backend="numpy").logits(IDS)
    ours = load_tiny(path, backend=backend).logits(IDS)
    assert ours @ ref / np.linalg.norm(ours) / np.linalg.norm(ref) > 0.9999
    assert np.argmax(ours) == np.argmax(ref)


@pytest.mark.parametrize("kind", KINDS)
def test_greedy_generation_follows_argmax(tiny_models, kind):
    model = _exact(load_tiny(tiny_models[kind], activations="f32"))
    prompt = IDS[:6]
    got = list(model.generate_tokens(prompt, max_tokens=8, temperature=0))
    seq = list(prompt)
    for tok in got:
        ref = oracle_logits(tiny_models[kind], seq)
        assert tok == int(np.argmax(ref))
        seq.append(tok)
    assert len(got) == 8 or model.last_stats.generated_tokens == len(got)
