"""Both real models against llama.cpp's golden outputs (/work/shared/golden/): last-position
logits and greedy continuations, from the golden prompt ids (independent of the tokenizer).

Runs on the best compiled backend; skipped when only the (very slow) numpy reference exists.
"""
from __future__ import annotations

import numpy as np
import pytest
from model_helpers import GOLDEN, IdsTokenizer, compiled_backends, golden

import fusedq
from fusedq.model_files import default_model_path, smollm2_path

pytestmark = [
    pytest.mark.skipif(not GOLDEN.exists(), reason="golden data not present"),
    pytest.mark.skipif(not compiled_backends(), reason="needs a compiled backend (numpy reference is too slow)"),
]
PATHS = {"smollm2": smollm2_path, "gemma3": default_model_path}
MIN_GREEDY = 16
NEAR_TIE = 0.5   # logits: a flip between our top two closer than this counts as a near-tie

_models: dict = {}


def _model(name, activations):
    key = (name, activations)
    if key not in _models:
        path = PATHS[name]()
        meta = fusedq.load_gguf(path).metadata
        _models[key] = fusedq.Model.load(path, n_ctx=128, backend=compiled_backends()[0],
                                         activations=activations, tokenizer=IdsTokenizer(meta))
    return _models[key]


_logits: dict = {}


def _last_logits(name, activations):
    """Our last-position logits for every golden prompt (computed once per model and mode)."""
    key = (name, activations)
    if key not in _logits:
        data, _ = golden(name)
        model = _model(name, activations)
        _logits[key] = [model.logits(g["prompt_ids"]) for g in data["greedy"]]
    return _logits[key]


def _cosine(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


# The q8 path is sensitive at the 1e-3 level (an activation moving across one 8-bit rounding step
# changes later layers): a 1e-6 perturbation of Gemma's embeddings moves prompt 0 between cosine
# 0.9987 and 0.9997, and llama.cpp itself, with only flash attention switched on, moves SmolLM2's
# prompt 0 to 0.994 against its own golden logits. With llama.cpp's f16 rounding of K, V, q and the
# attention weights (Transformer.f16_rounding, on by default) both models meet 0.999.
@pytest.mark.parametrize("name,activations", [
    ("gemma3", "q8"), ("gemma3", "f32"), ("smollm2", "q8"), ("smollm2", "f32")])
def test_logits_cosine(name, activations):
    _, ref_logits = golden(name)
    cos = [_cosine(ours, ref) for ours, ref in zip(_last_logits(name, activations), ref_logits)]
    assert min(cos) >= 0.999, f"cosines {np.round(cos, 5)}"


@pytest.mark.parametrize("name", sorted(PATHS))
@pytest.mark.parametrize("activations", ["q8", "f32"])
def test_top1_matches(name, activations):
    data, ref_logits = golden(name)
    for g, ref, ours in zip(data["greedy"], ref_logits, _last_logits(name, activations)):
        want = int(np.argmax(ref))
        top2 = np.argsort(-ours)[:2]
        if top2[0] != want:   # allowed only where llama.cpp's top two nearly tie
            r1, r2 = np.sort(ref)[-2:][::-1]
            assert want == top2[1] and r1 - r2 < NEAR_TIE, f"{g['prompt']!r}: top-1 {top2[0]} != {want}"


@pytest.mark.parametrize("name", sorted(PATHS))
def test_greedy_continuation(name):
    """Teacher-forced along llama.cpp's greedy path: at each of the first 16 steps our argmax is
    llama.cpp's token, except at a near-tie (its token is our close second). Teacher forcing
    keeps checking after a near-tie flip instead of comparing two diverged texts."""
    data, _ = golden(name)
    model = _model(name, "q8")
    for g in data["greedy"]:
        ref_ids = g["greedy_ids"][:MIN_GREEDY]
        assert len(ref_ids) == MIN_GREEDY
        logits = model.logits(g["prompt_ids"])
        pos = len(g["prompt_ids"])
        for j, want in enumerate(ref_ids):
            top1 = int(np.argmax(logits))
            if top1 != want:
                gap = float(logits[top1] - logits[want])
                second = int(np.argsort(-logits)[1])
                assert second == want and gap < NEAR_TIE, (
                    f"{g['prompt']!r} step {j}: ours {top1}, llama.cpp {want} (gap {gap:.3f})")
            if j + 1 < len(ref_ids):
                logits = model.transformer.forward(np.array([want], dtype=np.int64), pos)
                pos += 1
