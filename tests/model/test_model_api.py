"""Model API behaviour on tiny synthetic models: sampling determinism, stop strings, streaming,
context limits and every kind of bad input."""
from __future__ import annotations

import gguf
import numpy as np
import pytest
from model_helpers import BOS, ByteTokenizer, load_tiny, tiny_models  # noqa: F401

import fusedq
from fusedq.model.config import ConfigError
from fusedq.model.streaming import TextAssembler
from fusedq.model.weights import WeightError


@pytest.fixture(scope="module")
def llama(tiny_models):
    return load_tiny(tiny_models["llama"])


def test_same_seed_same_text(llama):
    a = llama.generate("Hello", max_tokens=12, temperature=1.0, seed=7)
    b = llama.generate("Hello", max_tokens=12, temperature=1.0, seed=7)
    assert a == b
    ids = [list(llama.generate_tokens([BOS, 72], max_tokens=12, temperature=1.5, top_k=0, top_p=1,
                                      min_p=0, seed=s)) for s in range(4)]
    assert len({tuple(i) for i in ids}) > 1, "different seeds never differ: the seed is ignored"


def test_greedy_is_argmax(llama):
    toks = list(llama.generate_tokens([BOS, 72, 105], max_tokens=3, temperature=0))
    assert toks[0] == int(np.argmax(llama.logits([BOS, 72, 105])))
    assert toks[1] == int(np.argmax(llama.logits([BOS, 72, 105, toks[0]])))


def test_streaming_joins_to_the_full_text(llama):
    full = llama.generate("Hi", max_tokens=16, temperature=0.9, seed=3)
    pieces = list(llama.generate("Hi", max_tokens=16, temperature=0.9, seed=3, stream=True))
    assert "".join(pieces) == full
    assert llama.last_stats.generated_tokens == 16


def test_empty_prompt_starts_from_bos(tiny_models):
    model = load_tiny(tiny_models["llama"])
    model.tokenizer = ByteTokenizer(add_bos=False)
    assert model.tokenize("") == []
    text = model.generate("", max_tokens=6, temperature=0)
    want = list(model.generate_tokens([BOS], max_tokens=6, temperature=0))
    assert text == model.detokenize(want)


def test_stop_string_ends_generation(llama):
    full = llama.generate("Hello", max_tokens=24, temperature=0)
    assert len(full) > 6
    stop = full[3:5]
    cut = llama.generate("Hello", max_tokens=24, temperature=0, stop=[stop, "never-there"])
    assert cut == full[:full.index(stop)]
    assert "".join(llama.generate("Hello", max_tokens=24, temperature=0, stop=stop, stream=True)) == cut


def test_generation_stops_at_the_context_end(tiny_models):
    model = load_tiny(tiny_models["gemma3"], n_ctx=12)
    toks = list(model.generate_tokens([BOS] + [65] * 9, max_tokens=100, temperature=0))
    assert len(toks) <= 3     # positions 10, 11 fed back; the 12th logits give the last token
    with pytest.raises(ValueError, match="context"):
        model.generate("x" * 20)
    with pytest.raises(ValueError, match="context"):
        model.logits([65] * 13)


@pytest.mark.parametrize("kwargs", [
    dict(temperature=-0.1), dict(temperature=float("nan")), dict(top_p=0.0), dict(top_p=1.5),
    dict(min_p=-0.1), dict(min_p=2.0), dict(top_k=2.5), dict(max_tokens=-1), dict(seed="x"),
    dict(seed=-3), dict(stop=[""]), dict(stop=[3])])
def test_bad_sampling_arguments(llama, kwargs):
    with pytest.raises(ValueError):
        llama.generate("Hi", **kwargs)


@pytest.mark.parametrize("ids", [[], [258], [-1], [1.5], [[1, 2]]])
def test_bad_ids(llama, ids):
    with pytest.raises(ValueError):
        llama.logits(ids)


def test_bad_load_arguments(tiny_models):
    for kwargs in (dict(n_ctx=0), dict(n_ctx=True), dict(activations="q4")):
        with pytest.raises(ValueError):
            load_tiny(tiny_models["llama"], **kwargs)
    with pytest.raises(ValueError, match="backend"):
        load_tiny(tiny_models["llama"], backend="cuda")


# --- malformed models ---------------------------------------------------------------------------
def _rewrite(src, dst, edit_kv=None, drop=(), add=None, arch=None):
    """Copy a GGUF, changing metadata values, dropping or adding tensors."""
    r = gguf.GGUFReader(str(src))
    a = arch or r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(str(dst), a)
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value = field.contents()
        vtype = field.types[0]
        if edit_kv and key in edit_kv:
            value = edit_kv[key]
            if value is None:
                continue
            vtype = gguf.GGUFValueType.get_type(value)
            if vtype == gguf.GGUFValueType.INT32 and value >= 2**31:
                vtype = gguf.GGUFValueType.UINT64
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, value, vtype, sub_type=sub)
    for t in r.tensors:
        if t.name not in drop:
            w.add_tensor(t.name, np.array(t.data), raw_dtype=t.tensor_type)
    for name, arr in (add or {}).items():
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return dst


@pytest.mark.parametrize("edit,match", [
    ({"llama.block_count": 2**32}, "block_count"),
    ({"llama.block_count": 2**31 - 1}, "block_count"),
    ({"llama.embedding_length": None}, "embedding_length"),
    ({"llama.attention.head_count_kv": 3}, "head_count_kv"),
    ({"llama.attention.layer_norm_rms_epsilon": None}, "layer_norm_rms_epsilon"),
    ({"llama.rope.freq_base": "fast"}, "freq_base"),
])
def test_bad_metadata_is_a_clear_error(tiny_models, tmp_path, edit, match):
    path = _rewrite(tiny_models["llama"], tmp_path / "bad.gguf", edit_kv=edit)
    with pytest.raises(ConfigError, match=match):
        load_tiny(path)


def test_unsupported_architecture_names_the_supported(tiny_models, tmp_path):
    path = _rewrite(tiny_models["llama"], tmp_path / "gpt2.gguf", arch="gpt2")
    with pytest.raises(ValueError, match="gemma3.*llama|llama.*gemma3"):
        load_tiny(path)


def test_missing_and_unexpected_tensors(tiny_models, tmp_path):
    missing = _rewrite(tiny_models["llama"], tmp_path / "m.gguf", drop={"blk.1.ffn_up.weight"})
    with pytest.raises(WeightError, match="blk.1.ffn_up.weight"):
        load_tiny(missing)
    extra = _rewrite(tiny_models["llama"], tmp_path / "x.gguf",
                     add={"blk.0.attn_q.bias": np.zeros(64, np.float32)})
    with pytest.raises(WeightError, match="attn_q.bias"):
        load_tiny(extra)


def test_sliding_window_layers(tiny_models):
    model = load_tiny(tiny_models["gemma3"])
    windows = [lay.window for lay in model.config.layers]
    assert windows == [8, 8, 8, 8, 8, None, 8]        # layer il is global iff il % 6 == 5
    bases = {lay.rope_base for lay in model.config.layers}
    assert bases == {10000.0, 1000000.0}
    assert model.config.attn_scale == pytest.approx(32 ** -0.5)


# --- streaming text -----------------------------------------------------------------------------
def test_text_assembler_never_splits_a_character():
    text = "añ€😀 mixed: 日本語 and 👍🏽!"
    asm = TextAssembler()
    pieces = [asm.push(bytes([b])) for b in text.encode("utf-8")] + [asm.finish()]
    assert "".join(pieces) == text
    assert all("\ufffd" not in p for p in pieces)


def test_text_assembler_holds_back_possible_stop_prefixes():
    asm = TextAssembler(("STOP",))
    out = [asm.push(b) for b in (b"abS", b"T", b"x", b"ST", b"OP", b"tail")]
    assert out == ["ab", "", "STx", "", "", ""] and asm.stopped
    asm = TextAssembler(("\n\n",))
    assert asm.push(b"a\n") == "a" and asm.finish() == "\n"
