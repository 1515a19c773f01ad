"""Hostile model metadata: hyperparameters and tokenizer arrays are type- and range-checked before use.

A tiny synthetic Llama (tests/model/model_helpers.py) is re-serialized with one key changed and
loaded as a fusedq.Model in a subprocess under an address-space limit: it must fail with a
ValueError naming the key (a block_count of 2^32 must not allocate 2^32 of anything), never crash,
hang or run out of memory. Vocabulary checks run on SmolLM2's real metadata, edited in memory.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import fusedq
from gguf_builder import F32, STRING, U32, U64, KV, build, spec_from_file
from subprocess_opener import MODEL_TEST_HELPERS, open_files

sys.path.insert(0, MODEL_TEST_HELPERS)
from model_helpers import write_tiny_model  # noqa: E402

A = "llama"
NAN = float("nan")
# (key, replacement KV or None to delete it, a fragment the error message must contain)
HOSTILE = [
    (f"{A}.block_count", KV.scalar(f"{A}.block_count", U64, 2**32), "block_count"),
    (f"{A}.block_count", KV.scalar(f"{A}.block_count", U32, 0), "block_count"),
    (f"{A}.block_count", KV.scalar(f"{A}.block_count", U32, 2**31), "block_count"),
    (f"{A}.block_count", KV.scalar(f"{A}.block_count", U32, 4), "blk.3"),     # layers without tensors
    (f"{A}.block_count", KV.string(f"{A}.block_count", "3"), "block_count"),
    (f"{A}.block_count", None, "block_count"),
    (f"{A}.embedding_length", KV.scalar(f"{A}.embedding_length", U32, 2**31), "embedding_length"),
    (f"{A}.embedding_length", KV.scalar(f"{A}.embedding_length", U32, 128), "token_embd"),  # tensors disagree
    (f"{A}.feed_forward_length", KV.scalar(f"{A}.feed_forward_length", U64, 2**40), "feed_forward_length"),
    (f"{A}.attention.head_count", KV.scalar(f"{A}.attention.head_count", U32, 0), "head_count"),
    (f"{A}.attention.head_count_kv", KV.scalar(f"{A}.attention.head_count_kv", U32, 3), "head_count_kv"),
    (f"{A}.attention.key_length", KV.scalar(f"{A}.attention.key_length", U32, 2**30), "key_length"),
    (f"{A}.context_length", KV.scalar(f"{A}.context_length", U64, 2**40), "context_length"),
    (f"{A}.attention.layer_norm_rms_epsilon", KV.scalar(f"{A}.attention.layer_norm_rms_epsilon", F32, NAN),
     "layer_norm_rms_epsilon"),
    (f"{A}.attention.layer_norm_rms_epsilon", KV.scalar(f"{A}.attention.layer_norm_rms_epsilon", F32, -1.0),
     "layer_norm_rms_epsilon"),
    (f"{A}.rope.freq_base", KV.string(f"{A}.rope.freq_base", "fast"), "freq_base"),
    (f"{A}.rope.dimension_count", KV.scalar(f"{A}.rope.dimension_count", U32, 15), "dimension_count"),
    ("general.architecture", KV.string("general.architecture", "mamba"), "mamba"),
    ("general.architecture", KV.scalar("general.architecture", U32, 1), "architecture"),
]


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    return write_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama.gguf", "llama")


def test_rewriter_reproduces_the_model_byte_for_byte(tiny_llama):
    assert build(spec_from_file(tiny_llama)).data == tiny_llama.read_bytes()


def test_hostile_hyperparameters_rejected_naming_the_key(tiny_llama, tmp_path):
    paths = []
    for i, (key, kv, _) in enumerate(HOSTILE):
        spec = spec_from_file(tiny_llama)
        at = spec.kv_index(key)
        if kv is None:
            spec.kvs.pop(at)
        else:
            spec.kvs[at] = kv
        path = tmp_path / f"hostile{i:02d}.gguf"
        path.write_bytes(build(spec).data)
        paths.append(str(path))
    paths.append(str(tiny_llama))   # control: the untouched model loads and runs
    results = open_files(paths, mode="model", per_file_timeout=60)
    assert results[-1]["status"] == "accepted", results[-1]
    failures = []
    for (key, kv, fragment), result in zip(HOSTILE, results):
        label = f"{key} = {'<deleted>' if kv is None else kv.payload.hex()}"
        if result["status"] != "rejected":
            failures.append(f"{label}: {result['status']}: {result.get('message', '')}")
        elif fragment not in result["message"]:
            failures.append(f"{label}: message does not name {fragment!r}: {result['message']}")
    assert not failures, "\n".join(failures)


# --- vocabulary ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def smollm_metadata():
    from fusedq.model_files import smollm2_path
    return fusedq.load_gguf(smollm2_path()).metadata


K = "tokenizer.ggml."


@pytest.mark.parametrize("key, value, fragment", [
    (K + "tokens", None, "tokens"),
    (K + "tokens", ["a", "b", "a"], "duplicate token"),
    (K + "token_type", np.ones(3, np.int32), "token_type"),
    (K + "model", "wordpiece-from-mars", "model"),
    (K + "tokens", np.arange(10, dtype=np.uint32), "tokens"),
    (K + "merges", np.arange(4, dtype=np.uint32), "merges"),
    (K + "eos_token_id", "2", "eos_token_id"),
    (K + "bos_token_id", 2.5, "bos_token_id"),
])
def test_hostile_vocabulary_rejected(smollm_metadata, key, value, fragment):
    from fusedq.model.tokenizer import load_tokenizer
    from fusedq.model.tokenizer_vocab import read_vocab
    meta = dict(smollm_metadata)
    if value is None:
        del meta[key]
    else:
        meta[key] = value
    with pytest.raises(ValueError, match=fragment):
        read_vocab(meta)
        load_tokenizer(meta, cache=False)


@pytest.mark.parametrize("key, value", [(K + "bos_token_id", 10**9), (K + "eos_token_id", -1),
                                        (K + "eos_token_id", 2**64 - 1)])
def test_out_of_range_special_ids_are_not_used(smollm_metadata, key, value):
    """Like llama.cpp, an out-of-range special id is ignored (the default stays); it is never used."""
    from fusedq.model.tokenizer_vocab import read_vocab
    meta = dict(smollm_metadata)
    meta[key] = value
    vocab = read_vocab(meta)
    assert all(v is None or 0 <= v < vocab.n_vocab for v in vocab.special.values())


def test_untouched_vocabulary_loads(smollm_metadata):
    from fusedq.model.tokenizer_vocab import read_vocab
    assert read_vocab(dict(smollm_metadata)).n_vocab == 49152
