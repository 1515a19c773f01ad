"""`fusedq generate` / `fusedq info` as subprocesses, and text-level behaviour on SmolLM2 with its
real tokenizer (streamed emoji split across byte tokens)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from model_helpers import compiled_backends, golden

import fusedq
from fusedq.model_files import smollm2_path

ROOT = Path(__file__).resolve().parents[2]
needs_compiled = pytest.mark.skipif(not compiled_backends(), reason="needs a compiled backend")


def _cli(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "fusedq", *map(str, args)], capture_output=True,
                          timeout=timeout, env=env, cwd=ROOT)


@needs_compiled
def test_cli_generate_greedy_matches_llama_cpp():
    data, _ = golden("smollm2")
    g = data["greedy"][0]
    model = fusedq.Model.load(smollm2_path(), n_ctx=64)
    want = model.detokenize(g["greedy_ids"][:4])      # before the first near-tie (step 5)
    r = _cli("generate", "--model", smollm2_path(), "-n", 4, "--temperature", 0, "--ctx", 64, g["prompt"])
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode("utf-8") == want + "\n"
    err = r.stderr.decode()
    assert "loaded" in err and "prefill" in err and "decode" in err and "tok/s" in err


def test_cli_info():
    r = _cli("info", smollm2_path())
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode()
    for needle in ("architecture: llama", "layers: 30", "heads: 9", "kv_heads: 3",
                   "tokenizer: model gpt2, pre smollm, vocab 49152", "tensors: 272", "Q4_1", "Q8_0",
                   f"{os.path.getsize(smollm2_path()):,} bytes"):
        assert needle in out


def test_cli_errors_are_clear(tmp_path):
    r = _cli("generate", "--model", tmp_path / "nope.gguf", "hi")
    assert r.returncode == 2 and b"no such GGUF file" in r.stderr
    r = _cli("generate", "--model", smollm2_path(), "--temperature", "-1", "hi")
    assert r.returncode == 2 and b"temperature" in r.stderr


@needs_compiled
def test_streaming_keeps_emoji_whole():
    model = fusedq.Model.load(smollm2_path(), n_ctx=64)
    prompt = "Emoji party: 🚀🎉👍🏽🚀🎉👍🏽🚀🎉"
    ids = list(model.generate_tokens(model.tokenize(prompt), max_tokens=9, temperature=0))
    parts = [model.tokenizer.token_bytes(i) for i in ids]
    split = [p for p in parts if _incomplete_utf8(p)]
    assert split, "the continuation has no token that ends inside a character: test is vacuous"
    pieces = list(model.generate(prompt, max_tokens=9, temperature=0, stream=True))
    assert "".join(pieces) == b"".join(parts).decode("utf-8") == model.detokenize(ids)
    assert all("\ufffd" not in p for p in pieces)


def _incomplete_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True
