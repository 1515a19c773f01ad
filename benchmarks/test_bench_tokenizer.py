"""Tokenizer load and encode times on both real models, next to llama.cpp's when installed.

Run: python -m pytest benchmarks/test_bench_tokenizer.py --benchmark-only
- build: the tokenizer from GGUF metadata with no cache (what a first load pays);
- cached: the load every later run pays (serialized `tokenizers` JSON from the fusedq cache);
- encode: a 4 KB mixed text; llama.cpp's tokenize of the same text when llama_cpp is importable
  (its vocab_only load time is recorded as llama_cpp_vocab_load_s in extra_info).
The metadata read (fusedq.load_gguf) is outside the timed region.
"""
from __future__ import annotations

import time

import pytest

import fusedq
from fusedq.model.tokenizer import load_tokenizer
from fusedq.model_files import default_model_path, smollm2_path

MODELS = ["gemma3", "smollm2"]
TEXT = ("The quick brown fox jumps over the lazy dog. 1234567 naïve café 東京 🙂\n"
        "def f(x):\n    return x ** 2  # square\n\n" * 40)


@pytest.fixture(scope="module")
def metadata():
    paths = {"gemma3": default_model_path(), "smollm2": smollm2_path()}
    return {name: (paths[name], fusedq.load_gguf(paths[name]).metadata) for name in MODELS}


@pytest.mark.parametrize("name", MODELS)
def test_tokenizer_build_uncached(benchmark, metadata, name):
    _, md = metadata[name]
    benchmark.pedantic(load_tokenizer, args=(md,), kwargs={"cache": False}, rounds=3, iterations=1)


@pytest.mark.parametrize("name", MODELS)
def test_tokenizer_load_cached(benchmark, metadata, name):
    path, md = metadata[name]
    load_tokenizer(md)   # make sure the cache file exists
    benchmark.pedantic(load_tokenizer, args=(md,), rounds=5, iterations=1)
    try:
        import llama_cpp
    except ImportError:
        return
    start = time.perf_counter()
    llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    benchmark.extra_info["llama_cpp_vocab_load_s"] = time.perf_counter() - start


@pytest.mark.parametrize("name", MODELS)
def test_encode_4kb(benchmark, metadata, name):
    tok = load_tokenizer(metadata[name][1])
    ids = benchmark(tok.encode, TEXT)
    benchmark.extra_info["tokens"] = len(ids)


@pytest.mark.parametrize("name", MODELS)
def test_llama_cpp_encode_4kb(benchmark, metadata, name):
    llama_cpp = pytest.importorskip("llama_cpp")
    llm = llama_cpp.Llama(model_path=str(metadata[name][0]), vocab_only=True, verbose=False)
    data = TEXT.encode()
    ids = benchmark(llm.tokenize, data, True, False)
    assert ids == load_tokenizer(metadata[name][1]).encode(TEXT)
