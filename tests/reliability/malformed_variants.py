"""The catalogue of hand-made malformed (and tricky-but-valid) variants of the base GGUF file.

Each Variant carries the bytes and what the loader must do: reject with `rule` at byte `offset`
(None = any offset), reject with any rule in `rules`, or accept (`rule` VALID). Offsets come from
the builder's field map, so a message pointing at the wrong byte fails the test.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from gguf_builder import (ARRAY, BOOL, F32, I32, KV, STRING, U32, U64, Built, Spec, base_spec,
                          build, gguf_string, u32, u64)

VALID = "valid"     # must be accepted
ANY = "any"         # must be rejected, by any rule (or one of `rules`)
EITHER = "either"   # a GGUFError or a clean accept (the oracle finds nothing wrong)
TRUNCATION_RULES = frozenset({
    "truncated", "string length out of bounds", "array length out of bounds",
    "tensor count out of bounds", "key-value count out of bounds", "tensor out of bounds"})


@dataclass
class Variant:
    name: str
    rule: str                        # expected GGUFError rule, or VALID / ANY / EITHER
    data: bytes
    offset: int | None = None        # expected byte offset named by the error
    rules: frozenset = frozenset()   # for rule == ANY: the allowed rules (empty = any GGUFError)


def _patch(name: str, rule: str, label: str, raw: bytes, at: str | None = None, delta: int = 0) -> Variant:
    base = build(base_spec())
    offset = None if rule == ANY else base.fields[at or label] + delta
    return Variant(name, rule, base.patched(label, raw, delta), offset)


def _edit(name: str, rule: str, change: Callable[[Spec], None], at: str | None, delta: int = 0) -> Variant:
    spec = base_spec()
    change(spec)
    built = build(spec)
    return Variant(name, rule, built.data, built.fields[at] + delta if at else None)


def _kv(key: str) -> int:
    return base_spec().kv_index(key)


def _tensor(name: str) -> int:
    return base_spec().tensor_index(name)


def _set_kv(key: str, kv: KV) -> Callable[[Spec], None]:
    def change(spec: Spec) -> None:
        spec.kvs[spec.kv_index(key)] = kv
    return change


def _set_tensor(tensor_name: str, **attrs) -> Callable[[Spec], None]:
    def change(spec: Spec) -> None:
        t = spec.tensors[spec.tensor_index(tensor_name)]
        for k, v in attrs.items():
            setattr(t, k, v)
    return change


def _token_element_offset(index: int) -> int:
    """File byte of element `index` of the base file's test.tokens string array."""
    spec = base_spec()
    built = build(spec)
    tokens = ["<s>", "héllo", "", "▁tok", "\u4e2d"]
    return built.fields[f"kv{_kv('test.tokens')}.items"] + sum(len(gguf_string(t.encode())) for t in tokens[:index])


def header_variants() -> list[Variant]:
    base = build(base_spec()).data
    out = [_patch(f"magic {m!r}", "bad magic", "magic", m)
           for m in (b"GGUG", b"gguf", b"lmgg", b"\0\0\0\0", b"FUGG")]
    out += [_patch(f"version {v:#x}", "unsupported version", "version", u32(v))
            for v in (0, 1, 4, 0xFFFFFFFF, 0x03000000)]
    out += [Variant("3-byte file", "truncated", base[:3], 0),
            Variant("header cut before tensor count", "truncated", base[:8], 8),
            Variant("header cut inside key-value count", "truncated", base[:20], 16)]
    out += [_patch(f"tensor count {n:#x}", "tensor count out of bounds", "tensor count", u64(n))
            for n in (2**64 - 1, 10**9, len(base))]
    out += [_patch(f"kv count {n:#x}", "key-value count out of bounds", "kv count", u64(n))
            for n in (2**64 - 1, 2**40, len(base))]
    n_kv, n_t = len(base_spec().kvs), len(base_spec().tensors)
    out += [_patch("kv count one too many", ANY, "kv count", u64(n_kv + 1)),
            _patch("kv count one too few", ANY, "kv count", u64(n_kv - 1)),
            _patch("tensor count one too many", ANY, "tensor count", u64(n_t + 1))]
    return out


def string_and_array_variants() -> list[Variant]:
    base = build(base_spec())
    k_name, k_tok, k_scores = _kv("general.name"), _kv("test.tokens"), _kv("test.scores")
    rest_after_key0 = len(base.data) - base.fields["kv0.key"] - 8
    return [
        _patch("key length 2^64-1", "string length out of bounds", "kv0.key", u64(2**64 - 1)),
        _patch("key length one past the end", "string length out of bounds", "kv0.key", u64(rest_after_key0 + 1)),
        _patch("string value length 2^63", "string length out of bounds", f"kv{k_name}.value", u64(2**63)),
        _patch("tensor name length 2^64-1", "string length out of bounds", "t0.name", u64(2**64 - 1)),
        Variant("string array element length 2^62", "string length out of bounds",
                base.data[:_token_element_offset(2)] + u64(2**62) + base.data[_token_element_offset(2) + 8:],
                _token_element_offset(2)),
        _patch("string array count 2^61", "array length out of bounds", f"kv{k_tok}.count", u64(2**61)),
        _patch("string array count past the end", "array length out of bounds", f"kv{k_tok}.count",
               u64(len(base.data) // 8 + 1)),
        _patch("string array count one too many", ANY, f"kv{k_tok}.count", u64(6)),
        _patch("float array count 2^62 (2^64 bytes)", "array length out of bounds", f"kv{k_scores}.count", u64(2**62)),
        _patch("float array count 2^64-1", "array length out of bounds", f"kv{k_scores}.count", u64(2**64 - 1)),
        _patch("value type 13", "unknown value type", f"kv{k_name}.type", u32(13)),
        _patch("value type 2^32-1", "unknown value type", f"kv{k_name}.type", u32(2**32 - 1)),
        _patch("array element type 13", "unknown array element type", f"kv{k_scores}.value", u32(13)),
        _patch("array element type 2^31", "unknown array element type", f"kv{k_scores}.value", u32(2**31)),
        _edit("array of arrays", "nested array",
              _set_kv("test.scores", KV(b"test.scores", ARRAY, u32(ARRAY) + u64(1) + u32(F32) + u64(1) + u32(0))),
              f"kv{k_scores}.value"),
        _edit("empty array of arrays", "nested array",
              _set_kv("test.scores", KV(b"test.scores", ARRAY, u32(ARRAY) + u64(0))), f"kv{k_scores}.value"),
        _patch("bool value 2", "bad bool", f"kv{_kv('test.bool')}.value", b"\x02"),
        _patch("bool array element 7", "bad bool", f"kv{_kv('test.flags')}.items", b"\x07", delta=1),
    ]


def name_variants() -> list[Variant]:
    k_u8 = _kv("test.u8")
    out = [_edit(f"key bytes {raw!r}", "invalid UTF-8",
                 _set_kv("test.u8", KV(raw, 0, b"\x01")), f"kv{k_u8}.key")
           for raw in (b"test.\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"test.\xe4\xb8")]
    out += [
        _edit("tensor name not UTF-8", "invalid UTF-8", _set_tensor("norm", name=b"norm\xfe"),
              f"t{_tensor('norm')}.name"),
        _edit("string value not UTF-8", "invalid UTF-8", _set_kv("general.name", KV.string("general.name", b"ab\x80")),
              f"kv{_kv('general.name')}.value"),
        _edit("string array element not UTF-8", "invalid UTF-8",
              _set_kv("test.tokens", KV.array("test.tokens", STRING, ["<s>", b"\xf8\x88", "x"])),
              f"kv{_kv('test.tokens')}.items", delta=len(gguf_string(b"<s>"))),
        _edit("empty key", "empty name", _set_kv("test.u8", KV(b"", 0, b"\x01")), f"kv{k_u8}.key"),
        _edit("empty tensor name", "empty name", _set_tensor("w.f16", name=b""), f"t{_tensor('w.f16')}.name"),
        _edit("duplicate key", "duplicate key", _set_kv("test.i8", KV.scalar("test.u8", 0, 3)),
              f"kv{_kv('test.i8')}.key"),
        _edit("duplicate general.alignment", "duplicate key",
              _set_kv("test.u16", KV.scalar("general.alignment", U32, 32)), f"kv{_kv('test.u16')}.key"),
        _edit("duplicate tensor name", "duplicate tensor name", _set_tensor("w.q4_0", name=b"norm"),
              f"t{_tensor('w.q4_0')}.name"),
    ]
    return out


def alignment_variants() -> list[Variant]:
    k = _kv("general.alignment")
    at = f"kv{k}.key"
    out = [_edit(f"alignment {a}", "bad alignment", _set_kv("general.alignment", KV.scalar("general.alignment", U32, a)), at)
           for a in (0, 3, 48, 2**32 - 1)]
    bad_types = {"u64": KV.scalar("general.alignment", U64, 32), "i32": KV.scalar("general.alignment", I32, 32),
                 "f32": KV.scalar("general.alignment", F32, 32.0), "bool": KV.scalar("general.alignment", BOOL, 1),
                 "string": KV.string("general.alignment", "32"),
                 "array": KV.array("general.alignment", U32, [32])}
    out += [_edit(f"alignment as {kind}", "bad alignment", _set_kv("general.alignment", kv), at)
            for kind, kv in bad_types.items()]
    out.append(_edit("alignment 2^31: data section past the end", "truncated",
                     _set_kv("general.alignment", KV.scalar("general.alignment", U32, 2**31)), "infos end"))
    # the declared alignment is 64 but the data was laid out for 32: the second tensor sits at 288
    out.append(_edit("alignment 64, layout 32", "misaligned tensor",
                     _set_kv("general.alignment", KV.scalar("general.alignment", U32, 64)), "t1.offset"))
    out += [_edit(f"tensor offset {off}", "misaligned tensor", _set_tensor("norm", offset=off),
                  f"t{_tensor('norm')}.offset") for off in (16, 1, 2**64 - 1)]
    return out


def tensor_info_variants() -> list[Variant]:
    q4k, q8, norm, q6k = _tensor("blk.0.w_q4k"), _tensor("blk.0.w_q8"), _tensor("norm"), _tensor("w.q6k.3d")
    out = [_patch(f"n_dims {n}", "bad n_dims", f"t{q8}.n_dims", u32(n)) for n in (0, 5, 2**32 - 1)]
    out += [
        _patch("ne[1] = 0", "bad dimension", f"t{q8}.ne1", u64(0)),
        _patch("ne[0] = 0", "bad dimension", f"t{q8}.ne0", u64(0)),
        _edit("element count 2^72", "element count overflow", _set_tensor("w.q6k.3d", ne=[256, 2**32, 2**32]),
              f"t{q6k}.ne2"),
        _patch("ne[1] = 2^63", "element count overflow", f"t{q8}.ne1", u64(2**63)),
        _patch("F32 ne[0] = 2^64-1", "element count overflow", f"t{norm}.ne0", u64(2**64 - 1)),
        _patch("F32 ne[0] = 2^63-1 (huge, no overflow)", "tensor out of bounds", f"t{norm}.ne0", u64(2**63 - 1),
               at=f"t{norm}.offset"),
        _patch("type id 4 (removed Q4_2)", "unknown tensor type", f"t{q8}.type", u32(4)),
        _patch("type id 2^32-1", "unknown tensor type", f"t{q8}.type", u32(2**32 - 1)),
        _patch("type IQ2_XXS", "unsupported tensor type", f"t{q8}.type", u32(16)),
        _patch("Q4_K with ne[0] = 128", "bad row length", f"t{q4k}.ne0", u64(128)),
        _patch("Q8_0 with ne[0] = 48", "bad row length", f"t{q8}.ne0", u64(48)),
        _patch("Q4_K relabelled F32 (bytes too few)", "tensor out of bounds", f"t{q4k}.type", u32(0),
               at=f"t{q4k}.offset"),
    ]
    return out


def range_variants() -> list[Variant]:
    base = build(base_spec())
    last = len(base_spec().tensors) - 1
    data_start = base.fields["data"]
    out = [
        _edit("offset 2 MiB past the data", "tensor out of bounds", _set_tensor("w.q4_0", offset=2 << 20),
              f"t{last}.offset"),
        _patch("offset 2^64-32", "tensor out of bounds", f"t{last}.offset", u64(2**64 - 32)),
        _patch("offset wrapping to byte 0 modulo 2^64", "tensor out of bounds", "t0.offset",
               u64(2**64 - data_start)),
        _edit("same offset as the first tensor", "overlapping tensors", _set_tensor("blk.0.w_q8", offset=0),
              "t1.offset"),
        _edit("offset inside the first tensor", "overlapping tensors", _set_tensor("blk.0.w_q8", offset=256),
              "t1.offset"),
        _edit("last tensor on top of all the others", "overlapping tensors", _set_tensor("w.q4_0", offset=0),
              f"t{last}.offset"),
    ]
    data_end = base.fields[f"t{last}.data"] + len(base_spec().tensors[last].data)
    out.append(Variant("file one byte short of the last tensor", "tensor out of bounds",
                       base.data[:data_end - 1], base.fields[f"t{last}.offset"]))
    cut = base.fields["infos end"]
    out.append(Variant("file ends after the tensor infos", ANY, base.data[:cut],
                       rules=frozenset({"truncated", "tensor out of bounds"})))
    return out


def valid_variants() -> list[Variant]:
    """Unusual but legal files: the loader must accept every one."""
    def no_alignment_key(spec: Spec) -> None:
        spec.kvs.pop(spec.kv_index("general.alignment"))

    def aligned(a: int) -> Callable[[Spec], None]:
        def change(spec: Spec) -> None:
            spec.kvs[spec.kv_index("general.alignment")] = KV.scalar("general.alignment", U32, a)
            spec.alignment = a
        return change

    def version2(spec: Spec) -> None:
        spec.version = 2

    def no_tensors(spec: Spec) -> None:
        spec.tensors = []

    def nothing(spec: Spec) -> None:
        spec.tensors, spec.kvs = [], []

    def reordered_with_gaps(spec: Spec) -> None:
        sizes = [len(t.data) for t in spec.tensors]
        off = 4096
        for t, n in zip(reversed(spec.tensors), reversed(sizes)):
            t.offset = off
            off += -(-n // 32) * 32 + 64

    base = build(base_spec())
    last = len(base_spec().tensors) - 1
    data_end = base.fields[f"t{last}.data"] + len(base_spec().tensors[last].data)
    out = [_edit(name, VALID, change, None) for name, change in [
        ("base", lambda spec: None), ("no general.alignment", no_alignment_key),
        ("alignment 1", aligned(1)), ("alignment 64", aligned(64)), ("alignment 4096", aligned(4096)),
        ("version 2", version2), ("no tensors, no padding", no_tensors), ("header only", nothing),
        ("tensors reordered with gaps", reordered_with_gaps)]]
    out.append(Variant("trailing padding removed", VALID, base.data[:data_end]))
    out.append(Variant("trailing bytes after the data", VALID, base.data + b"\xff" * 100))
    return out


def malformed_variants() -> list[Variant]:
    return (header_variants() + string_and_array_variants() + name_variants() + alignment_variants()
            + tensor_info_variants() + range_variants())


def truncation_variants() -> list[Variant]:
    """The base file cut at every field start, one byte into every field, and through the data."""
    base = build(base_spec())
    last = len(base_spec().tensors) - 1
    data_end = base.fields[f"t{last}.data"] + len(base_spec().tensors[last].data)
    cuts = set()
    for at in base.fields.values():
        cuts.update({at, at + 1, at + 5})
    cuts.update(range(base.fields["data"], len(base.data), 97))
    out = []
    for cut in sorted(c for c in cuts if 0 < c < len(base.data)):
        if cut >= data_end:
            out.append(Variant(f"cut at {cut}", VALID, base.data[:cut]))
        else:
            out.append(Variant(f"cut at {cut}", ANY, base.data[:cut], rules=TRUNCATION_RULES))
    return out


def base_file() -> Built:
    return build(base_spec())
