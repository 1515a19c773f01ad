"""Tokenizer recipes beyond the two shipped models, checked against llama.cpp on written GGUFs.

Each case writes a vocabulary-only GGUF (gguf.GGUFWriter) from a real model's vocabulary with one
tokenizer setting changed (the pre-tokenizer of a byte-level vocabulary, the space prefix of a
SentencePiece one), loads it in llama.cpp with vocab_only=True and compares tokenization and
detokenization on generated texts. Skipped without llama_cpp.
"""
from __future__ import annotations

import random

import gguf
import numpy as np
import pytest

import fusedq
from fusedq.model.tokenizer import load_tokenizer

pytest.importorskip("llama_cpp")
from test_tokenizer_llamacpp import LlamaCppVocab, generate_texts  # noqa: E402

GEMMA_TOKENS_KEPT = 40_000   # a prefix of Gemma's vocabulary is still a valid SPM vocabulary
ID_KEYS = ("bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id")
FLAG_KEYS = ("add_bos_token", "add_eos_token", "add_space_prefix")


def write_vocab_gguf(path, metadata: dict, pre: str | None = None, n_keep: int | None = None,
                     **flags) -> None:
    """A GGUF with a tiny llama architecture header and `metadata`'s vocabulary, no tensors."""
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(2048)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(4)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(16)
    tokens = list(metadata["tokenizer.ggml.tokens"][:n_keep])
    n = len(tokens)
    w.add_tokenizer_model(metadata["tokenizer.ggml.model"])
    if pre is not None:
        w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    if "tokenizer.ggml.scores" in metadata:
        w.add_token_scores(np.asarray(metadata["tokenizer.ggml.scores"][:n], np.float32).tolist())
    w.add_token_types(np.asarray(metadata["tokenizer.ggml.token_type"][:n], np.int32).tolist())
    if "tokenizer.ggml.merges" in metadata:
        w.add_token_merges(list(metadata["tokenizer.ggml.merges"]))
    for key in ID_KEYS:
        value = metadata.get("tokenizer.ggml." + key)
        if value is not None and value < n:
            w.add_uint32("tokenizer.ggml." + key, int(value))
    for key in FLAG_KEYS:
        value = flags.get(key, metadata.get("tokenizer.ggml." + key))
        if value is not None:
            w.add_bool("tokenizer.ggml." + key, bool(value))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.fixture(scope="module")
def smollm_metadata(smollm_path):
    return fusedq.load_gguf(smollm_path).metadata


@pytest.fixture(scope="module")
def gemma_metadata(gemma_path):
    return fusedq.load_gguf(gemma_path).metadata


def _compare(path, n_texts: int, seed: int) -> None:
    tok = load_tokenizer(fusedq.load_gguf(path).metadata)
    ref = LlamaCppVocab(path)
    vocab_texts = [tok.token_text(i) for i in range(0, tok.n_vocab, 5)]
    texts = generate_texts(vocab_texts, n_texts, seed)
    bad = [t for t in texts if tok.encode(t) != ref.tokenize(t)]
    for text in bad[:3]:
        print(f"{text!r}\n  fusedq    {tok.encode(text)}\n  llama.cpp {ref.tokenize(text)}")
    assert not bad, f"{len(bad)} of {len(texts)} texts tokenize differently"
    assert tok.eog_ids == {i for i in range(tok.n_vocab) if ref.is_eog(i)}
    rng = random.Random(seed)
    for text in texts[:200]:
        ids = ref.tokenize(text)
        assert tok.detokenize_bytes(ids) == ref.detokenize(ids), text
    for _ in range(200):
        ids = [rng.randrange(tok.n_vocab) for _ in range(rng.randint(1, 10))]
        assert tok.detokenize_bytes(ids) == ref.detokenize(ids), ids


# pre-tokenizer families (llama.cpp's names): gpt2 regex, digits then gpt2, llama3 (ignore_merges,
# BOS), dbrx (llama3 regex with merges), qwen2 (std::regex path), default (four regexes)
@pytest.mark.parametrize("pre", ["gpt-2", "starcoder", "llama-bpe", "dbrx", "qwen2", "default",
                                 "command-r", "stablelm2"])
def test_byte_level_pre_tokenizers_match_llama_cpp(pre, smollm_metadata, tmp_path):
    path = tmp_path / f"smollm-{pre}.gguf"
    write_vocab_gguf(path, smollm_metadata, pre=pre)
    _compare(path, n_texts=40, seed=hash(pre) % 1000)


def test_missing_pre_tokenizer_falls_back_to_default(smollm_metadata, tmp_path):
    path = tmp_path / "smollm-nopre.gguf"
    write_vocab_gguf(path, smollm_metadata, pre=None)
    assert load_tokenizer(fusedq.load_gguf(path).metadata).pre == "default"
    _compare(path, n_texts=20, seed=5)


@pytest.mark.parametrize("flags", [{"add_space_prefix": True},
                                   {"add_space_prefix": True, "add_eos_token": True},
                                   {"add_bos_token": False}])
def test_sentencepiece_flags_match_llama_cpp(flags, gemma_metadata, tmp_path):
    path = tmp_path / "gemma-variant.gguf"
    write_vocab_gguf(path, gemma_metadata, pre="default", n_keep=GEMMA_TOKENS_KEPT, **flags)
    _compare(path, n_texts=40, seed=11)
