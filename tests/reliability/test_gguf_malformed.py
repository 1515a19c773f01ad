"""Hand-made malformed GGUF files: each must be rejected with the right rule at the right byte.

All files are opened in subprocesses under an address-space limit (see subprocess_opener.py);
anything else (a signal, a hang, a MemoryError, another exception type, an accepted malformed
file, a rejected valid file) fails. The base file itself is checked against gguf-py first, so the
byte-level builder cannot drift from the format.
"""
from __future__ import annotations

import collections

import gguf
import numpy as np
import pytest

import fusedq
from gguf_builder import base_spec, build
from malformed_variants import malformed_variants, truncation_variants, valid_variants
from verdict import check_variants


def test_builder_writes_what_gguf_writer_writes(tmp_path):
    """The byte-level builder and gguf-py's GGUFWriter produce identical files for the same content."""
    spec = base_spec()
    spec.kvs.pop(spec.kv_index("test.empty"))   # GGUFWriter refuses empty arrays (legal in GGUF)
    path = tmp_path / "ref.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_custom_alignment(32)
    w.add_string("general.name", "héllo wörld")
    w.add_uint8("test.u8", 200), w.add_int8("test.i8", -5), w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -300), w.add_int32("test.i32", -70000), w.add_float32("test.f32", 1.5)
    w.add_bool("test.bool", True), w.add_uint64("test.u64", 1 << 40), w.add_int64("test.i64", -(1 << 40))
    w.add_float64("test.f64", 0.25)
    w.add_array("test.tokens", ["<s>", "héllo", "", "▁tok", "\u4e2d"])
    w.add_key_value("test.scores", [0.0, -1.5, 2.25], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.FLOAT32)
    w.add_key_value("test.flags", [True, False, True], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.BOOL)
    for t in spec.tensors:
        qt = fusedq.QTYPES[t.qtype]
        outer = list(reversed(t.ne[1:]))
        if qt.is_quantized:
            raw = np.frombuffer(t.data, np.uint8).reshape(*outer, qt.row_bytes(t.ne[0]))
            w.add_tensor(t.name.decode(), raw, raw_dtype=gguf.GGMLQuantizationType[t.qtype])
        else:
            dtype = {"F32": np.float32, "F16": np.float16}[t.qtype]
            w.add_tensor(t.name.decode(), np.frombuffer(t.data, dtype).reshape(*outer, t.ne[0]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    assert path.read_bytes() == build(spec).data


def test_base_file_loads_in_process(tmp_path):
    path = tmp_path / "base.gguf"
    path.write_bytes(build(base_spec()).data)
    g = fusedq.load_gguf(path)
    assert g.architecture == "llama" and g.alignment == 32
    assert g.metadata["general.name"] == "héllo wörld"
    assert g.metadata["test.tokens"] == ["<s>", "héllo", "", "▁tok", "\u4e2d"]
    assert g.metadata["test.flags"].tolist() == [True, False, True]
    assert g.metadata["test.empty"].size == 0 and g.metadata["test.i64"] == -(1 << 40)
    assert {n: (t.qtype, t.shape) for n, t in g.tensors.items()} == {
        "blk.0.w_q4k": ("Q4_K", (2, 256)), "blk.0.w_q8": ("Q8_0", (3, 64)), "norm": ("F32", (64,)),
        "w.f16": ("F16", (2, 32)), "w.q6k.3d": ("Q6_K", (2, 1, 256)), "w.q4_0": ("Q4_0", (4, 32))}
    for t in base_spec().tensors:
        assert g.tensors[t.name.decode()].data.tobytes() == t.data


def test_error_attributes_and_message(tmp_path):
    v = next(v for v in malformed_variants() if v.name == "value type 13")
    path = tmp_path / "bad.gguf"
    path.write_bytes(v.data)
    with pytest.raises(fusedq.GGUFError) as info:
        fusedq.load_gguf(path)
    err = info.value
    assert (err.rule, err.field, err.offset) == ("unknown value type", "value type of 'general.name'", v.offset)
    assert str(err).startswith(f"{path}: unknown value type: value type of 'general.name' at byte {v.offset}: ")


def test_malformed_variants_rejected_with_rule_and_offset(tmp_path):
    variants = malformed_variants()
    assert len(variants) >= 40
    results = check_variants(tmp_path, variants)
    rules = collections.Counter(r["rule"] for r in results)
    # every rule of issue 5 is exercised by at least one variant
    for rule in ("bad magic", "unsupported version", "truncated", "tensor count out of bounds",
                 "key-value count out of bounds", "string length out of bounds",
                 "array length out of bounds", "unknown value type", "unknown array element type",
                 "nested array", "invalid UTF-8", "empty name", "duplicate key", "duplicate tensor name",
                 "bad alignment", "misaligned tensor", "bad n_dims", "bad dimension",
                 "element count overflow", "unknown tensor type", "bad row length",
                 "tensor out of bounds", "overlapping tensors"):
        assert rules[rule] >= 1, f"no variant exercises {rule!r}"


def test_valid_variants_accepted(tmp_path):
    check_variants(tmp_path, valid_variants())


def test_truncations_rejected(tmp_path):
    variants = truncation_variants()
    assert len(variants) >= 200
    check_variants(tmp_path, variants)
