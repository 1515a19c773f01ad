"""The compiled backends on real model tensors (Gemma 3 270M: Q4_K, Q5_0, Q6_K, Q8_0; SmolLM2:
Q4_1), against the numpy reference in both modes, and get_rows of the token embeddings."""
from __future__ import annotations

import numpy as np
import pytest

import fusedq

TENSORS = {
    "gemma": ["blk.0.attn_output.weight", "blk.0.attn_k.weight", "blk.0.ffn_down.weight",
              "blk.0.attn_v.weight"],
    "smollm": ["blk.0.attn_q.weight"],
}


@pytest.fixture(scope="module")
def models(gemma_path, smollm_path):
    return {"gemma": fusedq.load_gguf(gemma_path), "smollm": fusedq.load_gguf(smollm_path)}


def rel(a, b) -> float:
    b = np.asarray(b, np.float64)
    return float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b))


@pytest.mark.parametrize("backend", ["scalar", "simd"])
@pytest.mark.parametrize("model,name", [(m, n) for m, names in TENSORS.items() for n in names])
def test_real_tensor_matmul_matches_numpy(models, backend, model, name):
    t = models[model].tensors[name]
    x = np.random.default_rng(0).standard_normal((3, t.cols)).astype(np.float32)
    w = t.dequantize(backend="numpy").astype(np.float64)
    exact = x.astype(np.float64) @ w.T
    assert rel(t.matmul(x, "f32", backend=backend), exact) <= 1e-5
    got = t.matmul(x, "q8", backend=backend)
    assert rel(got, t.matmul(x, "q8", backend="numpy")) <= 1e-5
    assert float(np.sum((got - exact) ** 2) / np.sum(exact ** 2)) <= 5e-4


@pytest.mark.parametrize("backend", ["scalar", "simd"])
def test_token_embedding_rows(models, backend):
    emb = models["gemma"].tensors["token_embd.weight"]
    ids = [0, 2, 106, 262143, 2]
    got = emb.get_rows(ids, backend=backend)
    assert np.array_equal(got.view(np.uint32), emb.get_rows(ids, backend="numpy").view(np.uint32))
