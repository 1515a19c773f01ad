"""Tokenizer from GGUF metadata: llama.cpp's golden ids, decoding, special ids, errors, cache.

Runs in CI without llama_cpp: the golden files in /work/shared/golden (or $FUSEDQ_GOLDEN_DIR)
hold llama.cpp's ids (add_bos=True, special=False) for both real models.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import fusedq
from fusedq.model.tokenizer import Tokenizer, _clean_spaces, load_tokenizer
from fusedq.model.tokenizer_pretok import PRE_TOKENIZERS

GOLDEN_DIR = Path(os.environ.get("FUSEDQ_GOLDEN_DIR", "/work/shared/golden"))
MODELS = {"gemma3": "gemma_path", "smollm2": "smollm_path"}


def _golden(name: str) -> dict:
    path = GOLDEN_DIR / f"{name}.json"
    if not path.exists():
        pytest.skip(f"golden file {path} not available")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def metadata_of(gemma_path, smollm_path):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = fusedq.load_gguf({"gemma3": gemma_path, "smollm2": smollm_path}[name]).metadata
        return cache[name]
    return get


@pytest.fixture(scope="session")
def tokenizer_of(metadata_of):
    cache = {}

    def get(name) -> Tokenizer:
        if name not in cache:
            cache[name] = load_tokenizer(metadata_of(name))
        return cache[name]
    return get


@pytest.mark.parametrize("name", MODELS)
def test_golden_tokenize_lists_match_llama_cpp(name, tokenizer_of):
    tok = tokenizer_of(name)
    golden = _golden(name)
    assert golden["tokenize"], "empty golden list"
    for entry in golden["tokenize"]:
        assert tok.encode(entry["text"]) == entry["ids"], entry["text"]


@pytest.mark.parametrize("name", MODELS)
def test_golden_prompts_and_greedy_text(name, tokenizer_of):
    tok = tokenizer_of(name)
    for entry in _golden(name)["greedy"]:
        assert tok.encode(entry["prompt"]) == entry["prompt_ids"], entry["prompt"]
        assert tok.decode(entry["greedy_ids"]) == entry["greedy_text"]


def test_gemma_special_ids_and_end_of_generation(tokenizer_of, metadata_of):
    tok, md = tokenizer_of("gemma3"), metadata_of("gemma3")
    assert tok.n_vocab == len(md["tokenizer.ggml.tokens"])
    assert tok.bos_id == md["tokenizer.ggml.bos_token_id"]
    assert tok.eos_id == md["tokenizer.ggml.eos_token_id"]
    eog_texts = {tok.token_text(i) for i in tok.eog_ids}
    # eos, Gemma's end of turn, and '</s>' (llama.cpp's fixed end-of-generation texts)
    assert eog_texts == {"<eos>", "<end_of_turn>", "</s>"}
    assert tok.encode("x")[0] == tok.bos_id                 # add_bos_token is true
    assert tok.encode("x", add_bos=False) == tok.encode("x")[1:]


def test_smollm_special_ids_and_end_of_generation(tokenizer_of, metadata_of):
    tok, md = tokenizer_of("smollm2"), metadata_of("smollm2")
    assert (tok.bos_id, tok.eos_id) == (md["tokenizer.ggml.bos_token_id"],
                                        md["tokenizer.ggml.eos_token_id"])
    assert {tok.token_text(i) for i in tok.eog_ids} == {"<|endoftext|>", "<|im_end|>", "<reponame>"}
    assert tok.bos_id not in tok.encode("Hello")            # add_bos_token is false
    assert tok.encode("Hello", add_bos=True) == [tok.bos_id] + tok.encode("Hello")


def test_special_texts_are_not_parsed_but_user_defined_tokens_are_cut_out(tokenizer_of):
    gemma = tokenizer_of("gemma3")
    ids = gemma.encode("<start_of_turn>user\n\n\nhi<end_of_turn>", add_bos=False)
    assert 105 not in ids and 106 not in ids                # control tokens stay plain text
    assert gemma.token_text(ids[ids.index(109)]) == "\n\n\n"  # user-defined run of newlines
    assert "</s>" not in [gemma.token_text(i) for i in gemma.encode("a</s>b")]
    smol = tokenizer_of("smollm2")
    assert 2 not in smol.encode("<|im_end|>")


@pytest.mark.parametrize("name", MODELS)
def test_token_bytes_join_to_the_utf8_text(name, tokenizer_of):
    tok = tokenizer_of(name)
    for text in ["naïve café 🙂👨‍👩‍👧 東京 \U0001F9EA", "a\tb\n\nc  d", "x\u0301\u00a0\u3000y",
                 "\U000E0100\U0010FFFD", "12345 + ½ = x²"]:
        ids = tok.encode(text, add_bos=False)
        assert b"".join(tok.token_bytes(i) for i in ids) == text.encode()
        assert tok.decode(ids) == text


def test_token_bytes_of_single_tokens(tokenizer_of):
    gemma, smol = tokenizer_of("gemma3"), tokenizer_of("smollm2")
    byte_id = gemma.encode("\U0010FFFD", add_bos=False)[0]      # no token: byte fallback
    assert gemma.token_text(byte_id) == "<0xF4>" and gemma.token_bytes(byte_id) == b"\xf4"
    space_hello = gemma.encode(" Hello", add_bos=False)
    assert gemma.token_text(space_hello[0]).startswith("\u2581")
    assert gemma.token_bytes(space_hello[0]).startswith(b" ")
    assert gemma.token_bytes(gemma.eos_id) == b""                 # control: hidden...
    assert gemma.token_bytes(gemma.eos_id, special=True) == b"<eos>"  # ...unless asked
    (g_world,) = smol.encode(" world")
    assert smol.token_text(g_world) == "\u0120world" and smol.token_bytes(g_world) == b" world"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        smol.token_bytes(smol.n_vocab)


def test_decode_replaces_invalid_utf8(tokenizer_of):
    gemma = tokenizer_of("gemma3")
    ids = gemma.encode("\U0010FFFD", add_bos=False)
    assert len(ids) == 4
    assert gemma.decode(ids[:2]) == "\ufffd"


def test_clean_spaces_follows_llama_cpp_rules():
    # " ?" " !" " ." " ,": space dropped; " ' " -> "'"; " 's" " 'm" " 're" " 've" lose the
    # space; " 't" " 'd" " 'll" keep it
    assert bytes(_clean_spaces(bytearray(b"Hi , you . Ok ! What ?"))) == b"Hi, you. Ok! What?"
    assert bytes(_clean_spaces(bytearray(b"a ' b"))) == b"a'b"
    assert bytes(_clean_spaces(bytearray(b"it 's we 're I 'm they 've"))) == b"it's we're I'm they've"
    assert bytes(_clean_spaces(bytearray(b"don 't I 'd we 'll"))) == b"don 't I 'd we 'll"


def _with(metadata: dict, **changes) -> dict:
    md = dict(metadata)
    for key, value in changes.items():
        full = "tokenizer.ggml." + key
        if value is None:
            md.pop(full, None)
        else:
            md[full] = value
    return md


def test_unsupported_tokenizer_model_is_a_clear_error(metadata_of):
    for model in ("bert", "t5", None):
        with pytest.raises(ValueError, match="unsupported tokenizer model.*'llama', 'gpt2'"):
            load_tokenizer(_with(metadata_of("smollm2"), model=model), cache=False)


def test_unsupported_pre_tokenizer_is_a_clear_error(metadata_of):
    with pytest.raises(ValueError, match="unsupported pre-tokenizer 'kimi-k2'.*smollm"):
        load_tokenizer(_with(metadata_of("smollm2"), pre="kimi-k2"), cache=False)


def test_broken_vocabularies_are_clear_errors(metadata_of):
    md = metadata_of("smollm2")
    with pytest.raises(ValueError, match="no tokenizer.ggml.tokens"):
        load_tokenizer(_with(md, tokens=None), cache=False)
    tokens = list(md["tokenizer.ggml.tokens"])
    tokens[10] = tokens[20]
    with pytest.raises(ValueError, match="duplicate token"):
        load_tokenizer(_with(md, tokens=tokens), cache=False)
    with pytest.raises(ValueError, match="needs tokenizer.ggml.merges"):
        load_tokenizer(_with(md, merges=None), cache=False)
    with pytest.raises(ValueError, match="uses '\u2603'.*not in the vocabulary"):
        load_tokenizer(_with(md, merges=["\u0120 \u2603"] + list(md["tokenizer.ggml.merges"][1:])),
                       cache=False)


def test_encode_rejects_non_text(tokenizer_of):
    tok = tokenizer_of("smollm2")
    with pytest.raises(TypeError):
        tok.encode(b"bytes")
    with pytest.raises(ValueError, match="surrogate"):
        tok.encode("a\ud800b")
    assert tok.encode("") == []


def test_cache_round_trip_and_damaged_cache(metadata_of, tmp_path, monkeypatch):
    """SentencePiece merges are derived once, cached, reused; a damaged file is replaced."""
    monkeypatch.setenv("FUSEDQ_CACHE_DIR", str(tmp_path))
    gemma = metadata_of("gemma3")
    n = 30_000   # a prefix of Gemma's vocabulary: a valid, quick-to-build SPM vocabulary
    md = {**gemma, "tokenizer.ggml.tokens": gemma["tokenizer.ggml.tokens"][:n],
          "tokenizer.ggml.scores": gemma["tokenizer.ggml.scores"][:n],
          "tokenizer.ggml.token_type": gemma["tokenizer.ggml.token_type"][:n]}
    text = "Cache me 123 if you can, naïve café!\n\n  <b>x</b>"
    built = load_tokenizer(md)
    files = list((tmp_path / "tokenizers").glob("*.npz"))
    assert len(files) == 1
    expected = load_tokenizer(md, cache=False).encode(text)
    assert load_tokenizer(md).encode(text) == built.encode(text) == expected
    files[0].write_bytes(b"not an npz")
    assert load_tokenizer(md).encode(text) == expected             # derived again...
    assert files[0].read_bytes()[:2] == b"PK"                      # ...and rewritten
    other = {**md, "tokenizer.ggml.scores": md["tokenizer.ggml.scores"] * 2}
    load_tokenizer(other)                                           # other scores, other file
    assert len(list((tmp_path / "tokenizers").glob("*.npz"))) == 2


def test_every_pre_tokenizer_family_round_trips(metadata_of):
    md = metadata_of("smollm2")
    one_name_per_family = {id(p): name for name, p in PRE_TOKENIZERS.items()}.values()
    text = "It's 2024:naïve   code\n\tdone\u00a0x²ⅫⅫ 東京"
    for pre in one_name_per_family:
        tok = load_tokenizer(_with(md, pre=pre), cache=False)
        ids = tok.encode(text, add_bos=False)
        assert tok.decode(ids) == text, pre


def test_token_texts_come_back_from_the_built_tokenizer(smollm_path):
    """After the build the Python list of token texts is dropped; texts are read back from the
    `tokenizers` model and must equal the GGUF vocabulary entry for entry."""
    from fusedq.model.tokenizer import load_tokenizer
    from fusedq.model.tokenizer_vocab import BackendTokenTexts
    md = fusedq.load_gguf(smollm_path).metadata
    tok = load_tokenizer(md)
    tokens = md["tokenizer.ggml.tokens"]
    assert isinstance(tok._vocab.tokens, BackendTokenTexts)
    assert [tok.token_text(i) for i in range(len(tokens))] == tokens
    assert tok._vocab.tokens[-1] == tokens[-1]
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.token_text(len(tokens))
    with pytest.raises(IndexError, match="out of range"):
        tok._vocab.tokens[len(tokens)]
