"""The compiled forward engine against the numpy forward (the reference), on the same backend
kernels: tiny synthetic models of both architectures (chunked prefill, decode, sliding-window ring
wraparound, partial RoPE), SmolLM2 for a few tokens, argument checks, thread-count invariance."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from model_helpers import (IdsTokenizer, TINY_MODELS, compiled_backends, load_tiny,  # noqa: F401
                           tiny_models, write_tiny_model)

import fusedq
from fusedq.gguf_file import load_gguf
from fusedq.model.transformer import Transformer

engine = pytest.importorskip("fusedq.model.engine._engine", reason="the compiled engine is not built")
from fusedq.model.engine.compiled_transformer import CompiledTransformer  # noqa: E402

BACKENDS = compiled_backends() or [pytest.param("none", marks=pytest.mark.skip(reason="no compiled backend"))]
KINDS = sorted(TINY_MODELS)
IDS = [256, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 32, 84, 104, 105, 115, 32]


def _pair(path, backend, activations="q8", half=True, n_ctx=64):
    """(engine transformer, numpy transformer) over the same weights, kernels and settings."""
    model = load_tiny(path, backend=backend, activations=activations, n_ctx=n_ctx)
    assert isinstance(model.transformer, CompiledTransformer)
    ref = Transformer(model.config, model.weights, model.n_ctx)
    model.transformer.f16_rounding = ref.f16_rounding = half
    return model.transformer, ref


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _run(t, ids, pos0=0):
    return t.forward(np.asarray(ids, dtype=np.int64), pos0)


@pytest.fixture(scope="module")
def partial_rope_model(tmp_path_factory):
    """llama with RoPE over half of each head (the other half only scaled)."""
    path = tmp_path_factory.mktemp("engine") / "llama_partial_rope.gguf"
    return write_tiny_model(path, "llama", seed=3, extra={"llama.rope.dimension_count": 8})


@pytest.fixture(scope="module")
def kquant_model(tmp_path_factory):
    """llama 256 wide in K-quants: f32 GEMVs and GEMM tiles that read x in their own order (Q2_K,
    Q3_K, Q6_K in the AVX-512 build: gemv_x_order) beside one that reads it as it is (Q4_K), in one job set
    (Q, K, V share an input) and alone; ffn_down (Q8_0, no sums) has 1024 columns, so a batch's
    rows of x as given lie 4 KB apart and the engine hands it spread rows (f32_rows.h)."""
    path = tmp_path_factory.mktemp("engine") / "llama_kquants.gguf"
    qtypes = {"attn_q": "Q2_K", "attn_k": "Q3_K", "attn_v": "Q4_K", "attn_output": "Q3_K",
              "ffn_gate": "Q2_K", "ffn_up": "Q6_K", "ffn_down": "Q8_0", "output": "Q2_K"}
    return write_tiny_model(path, "llama", seed=5, qtypes=qtypes, n_embd=256, n_ff=1024, head_dim=64,
                            extra={"llama.rope.dimension_count": 64})


# ---- maths: the engine computes what the numpy forward computes -------------------------------

def test_round_f16_is_numpys_half_conversion():
    rng = np.random.default_rng(0)
    edge = np.array([0.0, -0.0, 1.0, 65504.0, 65519.99, 65520.0, -65520.0, 1e6, 6.1e-5, 5.96e-8,
                     2.98e-8, 2.99e-8, 1e-9, -3e-6, np.inf, -np.inf, 0.1, 1 / 3], dtype=np.float32)
    x = np.concatenate([edge, rng.standard_normal(20000).astype(np.float32) * 10.0 ** rng.integers(-9, 6, 20000)])
    x = x.astype(np.float32)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(engine.round_f16(x), x.astype(np.float16).astype(np.float32))
    assert np.isnan(engine.round_f16([np.nan]))[0]



@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_batch", [20, 3, 7])
def test_exact_mode_matches_numpy_forward_step_by_step(tiny_models, kind, backend, n_batch):
    """f32 activations, f32 attention: the same maths to float rounding at every chunk (chunks of
    3 and 7 wrap gemma3's sliding-window ring of 8 in the middle of a batch)."""
    eng, ref = _pair(tiny_models[kind], backend, activations="f32", half=False)
    for start in range(0, len(IDS), n_batch):
        chunk = IDS[start:start + n_batch]
        a, b = _run(eng, chunk, start), _run(ref, chunk, start)
        assert _rel(a, b) < 2e-6, f"chunk at {start}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_default_mode_matches_numpy_forward(tiny_models, kind, backend):
    """q8 activations and f16-rounded attention (the defaults): prefill, then decode. A float
    rounding difference can move one activation across a q8 rounding boundary, which propagates
    (as between backends in test_synthetic), so this compares to ~1e-3; the exact-mode tests
    above check the maths to 2e-6."""
    eng, ref = _pair(tiny_models[kind], backend)
    a, b = _run(eng, IDS[:12]), _run(ref, IDS[:12])
    assert _cos(a, b) > 0.9999 and _rel(a, b) < 1e-2
    for pos in range(12, len(IDS)):
        a, b = _run(eng, IDS[pos:pos + 1], pos), _run(ref, IDS[pos:pos + 1], pos)
        assert _cos(a, b) > 0.9999 and _rel(a, b) < 1e-2, f"decode at {pos}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_kquant_model_decode_matches_numpy_forward(kquant_model, backend):
    """Decode (n = 1: the f32 GEMVs) and prefill (n = 5: the f32 GEMM tiles) of the K-quant model
    in exact mode."""
    eng, ref = _pair(kquant_model, backend, activations="f32", half=False)
    assert _rel(_run(eng, IDS[:5]), _run(ref, IDS[:5])) < 2e-6
    for pos in range(5, 12):
        a, b = _run(eng, IDS[pos:pos + 1], pos), _run(ref, IDS[pos:pos + 1], pos)
        assert _rel(a, b) < 2e-6, f"decode at {pos}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["kquants", *KINDS])
def test_long_exact_prefill_matches_numpy_forward(tiny_models, kquant_model, kind, backend):
    """40 tokens in one call: f32 GEMMs of 24+ columns, on AMX tiles where the simd backend has
    them (x split into bf16 parts once per job set, in natural and in FQ_X_WORDS16 order for the
    K-quant model's mix of types), else the FMA tiles."""
    path = kquant_model if kind == "kquants" else tiny_models[kind]
    eng, ref = _pair(path, backend, activations="f32", half=False)
    ids = IDS + IDS[::-1]
    assert _rel(_run(eng, ids), _run(ref, ids)) < 2e-6


@pytest.mark.parametrize("backend", BACKENDS)
def test_partial_rope_matches_numpy_forward(partial_rope_model, backend):
    eng, ref = _pair(partial_rope_model, backend, activations="f32", half=False)
    assert _rel(_run(eng, IDS), _run(ref, IDS)) < 2e-6


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_decode_after_prefill_equals_one_shot_prefill(tiny_models, kind, backend):
    eng, _ = _pair(tiny_models[kind], backend, activations="f32", half=False)
    _run(eng, IDS[:5])
    for pos in range(5, len(IDS)):
        stepwise = _run(eng, IDS[pos:pos + 1], pos)
        one_shot, _ = _pair(tiny_models[kind], backend, activations="f32", half=False)
        assert _rel(stepwise, _run(one_shot, IDS[:pos + 1])) < 2e-6, f"position {pos}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_long_decode_wraps_the_window_ring_many_times(tiny_models, backend):
    """60 positions through a ring of 8 slots against the numpy forward: logits and caches."""
    eng, ref = _pair(tiny_models["gemma3"], backend, activations="f32", half=False, n_ctx=64)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 256, 60)
    a, b = _run(eng, ids[:10]), _run(ref, ids[:10])
    for pos in range(10, 60):
        a, b = _run(eng, ids[pos:pos + 1], pos), _run(ref, ids[pos:pos + 1], pos)
        assert _rel(a, b) < 2e-6, f"position {pos}"
    # caches to the same float-rounding bound as the logits, relative to each cache's scale
    # (an elementwise 1e-6 bound fails on near-cancelled entries whenever a kernel's summation
    # order changes, without any real disagreement)
    for il, lay in enumerate(eng.cache.layers):
        assert _rel(lay.k, ref.cache.layers[il].k) < 2e-6, f"K cache of layer {il}"
        assert _rel(lay.v, ref.cache.layers[il].v) < 2e-6, f"V cache of layer {il}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_results_do_not_depend_on_thread_count(tiny_models, backend):
    eng, _ = _pair(tiny_models["gemma3"], backend)
    out = []
    for threads in (1, 2, 3):
        fusedq.set_num_threads(threads)
        try:
            out.append(_run(eng, IDS))
        finally:
            fusedq.set_num_threads(2)
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])


@pytest.mark.parametrize("backend", BACKENDS)
def test_longer_than_one_engine_batch(tiny_models, backend):
    model = load_tiny(tiny_models["llama"], backend=backend, n_ctx=64)
    ref = Transformer(model.config, model.weights, model.n_ctx)
    small = CompiledTransformer(model.config, model.weights, model.n_ctx,
                                fusedq.registry.resolve_backend(backend).kernel_api(), n_batch=6)
    ids = np.arange(40, 60)
    assert _cos(_run(small, ids), _run(ref, ids)) > 0.99999


# ---- a real model --------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def smollm(request, smollm_path):
    return fusedq.Model.load(smollm_path, n_ctx=32, backend=request.param, activations="f32",
                             tokenizer=IdsTokenizer(load_gguf(smollm_path).metadata))


def test_smollm2_matches_numpy_forward(smollm):
    """Exact mode on the real model: prefill of 5 tokens then 2 decode steps. (In q8 mode both
    forwards are chaotic at this level: a 1e-7 relative change of the embeddings moves the numpy
    forward's logits by ~2% through flipped activation roundings, so only exact mode can be
    compared tightly.)"""
    eng = smollm.transformer
    assert isinstance(eng, CompiledTransformer)
    ref = Transformer(smollm.config, smollm.weights, smollm.n_ctx)
    eng.f16_rounding = ref.f16_rounding = False
    ids = [1, 504, 3458, 282, 4371, 314, 253]
    a, b = _run(eng, ids[:5]), _run(ref, ids[:5])
    assert _rel(a, b) < 1e-5 and np.argmax(a) == np.argmax(b)
    for pos in (5, 6):
        a, b = _run(eng, ids[pos:pos + 1], pos), _run(ref, ids[pos:pos + 1], pos)
        assert _rel(a, b) < 1e-5 and np.argmax(a) == np.argmax(b)


# ---- wiring and argument checks ---------------------------------------------------------------

def test_model_uses_engine_on_compiled_backends_only(tiny_models, monkeypatch):
    assert type(load_tiny(tiny_models["llama"], backend="numpy").transformer) is Transformer
    for backend in compiled_backends():
        assert isinstance(load_tiny(tiny_models["llama"], backend=backend).transformer, CompiledTransformer)
        monkeypatch.setenv("FUSEDQ_ENGINE", "0")
        assert type(load_tiny(tiny_models["llama"], backend=backend).transformer) is Transformer
        monkeypatch.delenv("FUSEDQ_ENGINE")


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_calls_raise_before_running(tiny_models, backend):
    eng, _ = _pair(tiny_models["llama"], backend, n_ctx=16)
    e = eng.engine
    with pytest.raises(ValueError, match="outside the vocabulary"):
        e.forward(np.array([5, 258]), 0, True, 2)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        e.forward(np.array([-1]), 0, True, 2)
    with pytest.raises(ValueError, match="context of 16"):
        e.forward(np.arange(10), 10, True, 2)
    with pytest.raises(ValueError, match="context of 16"):
        e.forward(np.array([1]), -1, True, 2)
    with pytest.raises(ValueError, match="tokens per call"):
        e.forward(np.array([], dtype=np.int64), 0, True, 2)
    with pytest.raises(ValueError, match="thread count"):
        e.forward(np.array([1]), 0, True, 0)
    with pytest.raises(ValueError, match="skips cached positions"):
        eng.forward(np.array([1]), 3)
    with pytest.raises(TypeError, match="kernel_api"):
        engine.Engine(object(), {})


@pytest.mark.parametrize("backend", BACKENDS)
def test_description_is_checked(tiny_models, backend):
    from fusedq.model.engine.compiled_transformer import engine_spec
    eng, _ = _pair(tiny_models["llama"], backend, n_ctx=16)
    api = fusedq.registry.resolve_backend(backend).kernel_api()
    spec = engine_spec(eng, 8)
    bad = dict(spec, layers=[dict(spec["layers"][0], wq=(spec["layers"][0]["wq"][0], spec["layers"][0]["wk"][1], True))]
               + spec["layers"][1:])
    with pytest.raises(ValueError, match="blk.0.attn_q"):
        engine.Engine(api, bad)
    short = spec["layers"][0]["k_cache"][:, :8]
    bad = dict(spec, layers=[dict(spec["layers"][0], k_cache=short)] + spec["layers"][1:])
    with pytest.raises(ValueError, match="k_cache"):
        engine.Engine(api, bad)
    bad = dict(spec, output_norm=spec["output_norm"][:-1])
    with pytest.raises(ValueError, match="output_norm"):
        engine.Engine(api, bad)
