"""fusedq synth: the synthetic model's file, its llama.cpp Q4_K_M type mix, and that both fusedq
and (when installed) llama.cpp load and run it alike."""
from __future__ import annotations

import numpy as np
import pytest

import fusedq
from fusedq import synth
from fusedq.cli import main as cli_main

TINY = synth.PRESETS["tiny"]


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory, smollm_path):
    path = tmp_path_factory.mktemp("synth") / "tiny.gguf"
    assert cli_main(["synth", "--like", "tiny", "--type", "Q4_K_M", "-o", str(path)]) == 0
    return path


def test_use_more_bits_layers_for_tinyllama_depth():
    # 22 layers: the first and last eighth (0-1, 19-21) and every third layer from 4
    assert [i for i in range(22) if synth.use_more_bits(i, 22)] == [0, 1, 4, 7, 10, 13, 16, 19, 20, 21]


def test_fallback_when_rows_are_not_multiples_of_256():
    assert synth.tensor_type("Q4_K_M", "attn_q", 0, 8, cols=640) == "Q5_0"
    assert synth.tensor_type("Q4_K_M", "output", -1, 8, cols=640) == "Q8_0"
    assert synth.tensor_type("Q4_K_M", "attn_q", 0, 8, cols=512) == "Q4_K"


def test_unknown_mix_and_shape_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown type mix"):
        synth.tensor_type("Q7_X", "attn_q", 0, 8, cols=256)
    with pytest.raises(ValueError, match="unknown model shape"):
        synth.write_synthetic(tmp_path / "x.gguf", like="gpt5")
    assert not list(tmp_path.iterdir())


def test_file_has_the_shapes_and_metadata(tiny_path):
    g = fusedq.load_gguf(tiny_path)
    md = g.metadata
    assert g.architecture == "llama"
    assert (md["llama.block_count"], md["llama.embedding_length"], md["llama.feed_forward_length"],
            md["llama.attention.head_count"], md["llama.attention.head_count_kv"]) == (8, 256, 512, 4, 2)
    assert md["llama.vocab_size"] == len(md["tokenizer.ggml.tokens"]) == TINY.n_vocab
    assert len(g.tensors) == 2 + 9 * TINY.n_layer + 1
    assert g.tensors["blk.3.attn_k.weight"].shape == (2 * 64, 256)
    assert g.tensors["blk.3.ffn_down.weight"].shape == (256, 512)
    assert g.tensors["output.weight"].shape == (TINY.n_vocab, 256)


def test_tensor_types_follow_the_q4_k_m_mix(tiny_path):
    g = fusedq.load_gguf(tiny_path)
    more_bits = {0, 3, 6, 7}  # 8 layers: 0 (< 1), 7 (>= 7), and (i - 1) % 3 == 2 -> 3, 6
    for i in range(TINY.n_layer):
        for role in ("attn_v", "ffn_down"):
            assert g.tensors[f"blk.{i}.{role}.weight"].qtype == ("Q6_K" if i in more_bits else "Q4_K")
        for role in ("attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"):
            assert g.tensors[f"blk.{i}.{role}.weight"].qtype == "Q4_K"
        for role in ("attn_norm", "ffn_norm"):
            assert g.tensors[f"blk.{i}.{role}.weight"].qtype == "F32"
    assert g.tensors["output.weight"].qtype == "Q6_K"
    assert g.tensors["token_embd.weight"].qtype == "Q4_K"
    assert g.tensors["output_norm.weight"].qtype == "F32"


def test_weights_have_the_chosen_scale(tiny_path):
    g = fusedq.load_gguf(tiny_path)
    w = g.tensors["blk.2.ffn_up.weight"].dequantize(backend="numpy")
    assert np.isfinite(w).all()
    assert 0.017 < float(w.std()) < 0.023
    assert np.array_equal(g.tensors["blk.2.attn_norm.weight"].dequantize(backend="numpy"), np.ones(256, np.float32))


def test_tokenizer_is_a_consistent_cut_of_the_donor(tiny_path):
    md = fusedq.load_gguf(tiny_path).metadata
    vocab = set(md["tokenizer.ggml.tokens"])
    assert md["tokenizer.ggml.model"] == "gpt2"
    assert md["tokenizer.ggml.merges"], "no merges survived the cut"
    for merge in md["tokenizer.ggml.merges"]:
        a, b = merge.split(" ", 1)
        assert a in vocab and b in vocab and a + b in vocab


def test_fusedq_runs_it_and_llama_cpp_agrees(tiny_path):
    model = fusedq.Model.load(tiny_path, n_ctx=128, threads=1)
    text = "Hello world, 123 tokens of text."
    ids = model.tokenize(text)
    logits = model.logits(ids)
    assert logits.shape == (TINY.n_vocab,) and np.isfinite(logits).all()
    llama_cpp = pytest.importorskip("llama_cpp")
    llm = llama_cpp.Llama(str(tiny_path), n_threads=1, n_ctx=128, verbose=False)
    assert llm.tokenize(text.encode(), add_bos=True) == ids
    llm.eval(ids)
    peer = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()
    cos = float(peer @ logits / np.linalg.norm(peer) / np.linalg.norm(logits))
    assert cos > 0.999
    assert int(np.argmax(peer)) == int(np.argmax(logits))
