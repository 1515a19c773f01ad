"""A tiny byte-level GGUF writer for the hostile-input tests: every field is under the test's control.

`build(spec)` lays a `Spec` out byte by byte and returns the bytes plus a map from field label to
byte offset, so a malformed variant can patch one field in place and the test knows exactly where
the loader must point. `base_spec()` is the small valid file every variant starts from.
"""
from __future__ import annotations

import copy
import struct
from dataclasses import dataclass, field

import numpy as np

from fusedq.types import QTYPES

# GGUF value type ids
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR_FORMATS = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
                  BOOL: "<B", U64: "<Q", I64: "<q", F64: "<d"}

NUMPY_TO_TYPE = {"|u1": U8, "|i1": I8, "<u2": U16, "<i2": I16, "<u4": U32, "<i4": I32, "<f4": F32,
                 "|b1": BOOL, "<u8": U64, "<i8": I64, "<f8": F64}


def u32(v: int) -> bytes:
    return struct.pack("<I", v)


def u64(v: int) -> bytes:
    return struct.pack("<Q", v)


def gguf_string(raw: bytes, length: int | None = None) -> bytes:
    """A GGUF string; `length` overrides the stored length prefix."""
    return u64(len(raw) if length is None else length) + raw


@dataclass
class KV:
    key: bytes
    vtype: int
    payload: bytes                  # the encoded value (for arrays: element type, count, items)
    key_length: int | None = None   # override of the key's length prefix

    @classmethod
    def scalar(cls, key: str, vtype: int, value) -> "KV":
        return cls(key.encode(), vtype, struct.pack(SCALAR_FORMATS[vtype], value))

    @classmethod
    def of(cls, key: str, vtype: int, value) -> "KV":
        """A KV from a value as fusedq.load_gguf returns it (numpy arrays / lists for arrays)."""
        if vtype == STRING:
            return cls.string(key, value)
        if vtype == ARRAY:
            if isinstance(value, list):
                return cls.array(key, STRING, value)
            etype = NUMPY_TO_TYPE[np.dtype(value.dtype).str]
            return cls.array(key, etype, [v.item() for v in value])
        return cls.scalar(key, vtype, value)

    @classmethod
    def string(cls, key: str, value: bytes | str) -> "KV":
        raw = value.encode() if isinstance(value, str) else value
        return cls(key.encode(), STRING, gguf_string(raw))

    @classmethod
    def array(cls, key: str, etype: int, items: list, count: int | None = None) -> "KV":
        if etype == STRING:
            body = b"".join(gguf_string(s.encode() if isinstance(s, str) else s) for s in items)
        else:
            body = b"".join(struct.pack(SCALAR_FORMATS[etype], v) for v in items)
        return cls(key.encode(), ARRAY, u32(etype) + u64(len(items) if count is None else count) + body)


@dataclass
class TensorSpec:
    name: bytes
    qtype: str
    ne: list[int]                   # GGUF order: ne[0] = columns
    data: bytes
    offset: int | None = None       # relative to the data section; None = next aligned free spot
    type_id: int | None = None      # override of the GGML type id
    n_dims: int | None = None       # override of the stored n_dims
    name_length: int | None = None  # override of the name's length prefix


@dataclass
class Spec:
    kvs: list[KV]
    tensors: list[TensorSpec]
    magic: bytes = b"GGUF"
    version: int = 3
    n_tensors: int | None = None
    n_kv: int | None = None
    alignment: int = 32             # used for laying the data out (not written; see the KVs)

    def clone(self) -> "Spec":
        return copy.deepcopy(self)

    def kv_index(self, key: str) -> int:
        return next(i for i, kv in enumerate(self.kvs) if kv.key == key.encode())

    def tensor_index(self, name: str) -> int:
        return next(i for i, t in enumerate(self.tensors) if t.name == name.encode())


@dataclass
class Built:
    data: bytes
    fields: dict[str, int] = field(default_factory=dict)   # label -> byte offset

    def patched(self, label: str, raw: bytes, delta: int = 0) -> bytes:
        at = self.fields[label] + delta
        return self.data[:at] + raw + self.data[at + len(raw):]


def _pad(n: int, align: int) -> int:
    return -(-n // align) * align


def build(spec: Spec) -> Built:
    out = bytearray()
    fields: dict[str, int] = {}

    def put(label: str | None, raw: bytes) -> None:
        if label is not None:
            fields[label] = len(out)
        out.extend(raw)

    put("magic", spec.magic)
    put("version", u32(spec.version))
    put("tensor count", u64(len(spec.tensors) if spec.n_tensors is None else spec.n_tensors))
    put("kv count", u64(len(spec.kvs) if spec.n_kv is None else spec.n_kv))
    for i, kv in enumerate(spec.kvs):
        put(f"kv{i}.key", gguf_string(kv.key, kv.key_length))
        put(f"kv{i}.type", u32(kv.vtype))
        put(f"kv{i}.value", kv.payload)
        if kv.vtype == ARRAY and len(kv.payload) >= 12:
            fields[f"kv{i}.count"] = fields[f"kv{i}.value"] + 4
            fields[f"kv{i}.items"] = fields[f"kv{i}.value"] + 12
    offsets, cursor = [], 0
    for t in spec.tensors:
        if t.offset is None:
            offsets.append(_pad(cursor, spec.alignment))
            cursor = offsets[-1] + len(t.data)
        else:
            offsets.append(t.offset)
    for i, (t, off) in enumerate(zip(spec.tensors, offsets)):
        put(f"t{i}.name", gguf_string(t.name, t.name_length))
        put(f"t{i}.n_dims", u32(len(t.ne) if t.n_dims is None else t.n_dims))
        for d, size in enumerate(t.ne):
            put(f"t{i}.ne{d}", u64(size))
        put(f"t{i}.type", u32(QTYPES[t.qtype].gguf_id if t.type_id is None else t.type_id))
        put(f"t{i}.offset", u64(off))
    fields["infos end"] = len(out)
    if spec.tensors:
        out.extend(bytes(_pad(len(out), spec.alignment) - len(out)))
        fields["data"] = data_start = len(out)
        for i, (t, off) in enumerate(zip(spec.tensors, offsets)):
            if off is None or off > 1 << 20:
                continue
            end = data_start + off + len(t.data)
            if end > len(out):
                out.extend(bytes(end - len(out)))
            out[data_start + off:end] = t.data
            fields[f"t{i}.data"] = data_start + off
        out.extend(bytes(_pad(len(out), spec.alignment) - len(out)))
    return Built(bytes(out), fields)


def valid_blocks(qtype: str, rows: int, cols: int, seed: int) -> bytes:
    """Random blocks whose half-precision scale fields are finite and modest."""
    qt = QTYPES[qtype]
    rng = np.random.default_rng(seed)
    if not qt.is_quantized:
        floats = rng.standard_normal((rows, cols)).astype(np.float32)
        return floats.astype({"F32": np.float32, "F16": np.float16}[qtype]).tobytes()
    nblocks = rows * cols // qt.block_size
    raw = rng.integers(0, 256, size=(nblocks, qt.type_size), dtype=np.uint8)
    for off in qt.half_fields:
        raw[:, off:off + 2] = (rng.uniform(0.001, 0.02, nblocks).astype(np.float16)
                               .view(np.uint8).reshape(nblocks, 2))
    return raw.tobytes()


def _tensor(name: str, qtype: str, ne: list[int], seed: int) -> TensorSpec:
    rows = int(np.prod(ne[1:])) if len(ne) > 1 else 1
    return TensorSpec(name.encode(), qtype, ne, valid_blocks(qtype, rows, ne[0], seed))


def spec_from_file(path) -> Spec:
    """The Spec of an existing (valid) GGUF file, read through fusedq, ready to be edited."""
    import fusedq
    g = fusedq.load_gguf(path)
    kvs = [KV.of(k, g.metadata_types[k], v) for k, v in g.metadata.items()]
    tensors = [TensorSpec(name.encode(), g.tensors[name].qtype, list(info.ne), g.tensors[name].data.tobytes())
               for name, info in g.tensor_infos.items()]
    return Spec(kvs, tensors, version=g.version, alignment=g.alignment)


def base_spec() -> Spec:
    """A small valid GGUF v3: every scalar value type, string and numeric arrays, 6 tensors of 5 types."""
    kvs = [
        KV.string("general.architecture", "llama"),
        KV.scalar("general.alignment", U32, 32),
        KV.string("general.name", "héllo wörld"),
        KV.scalar("test.u8", U8, 200), KV.scalar("test.i8", I8, -5),
        KV.scalar("test.u16", U16, 60000), KV.scalar("test.i16", I16, -300),
        KV.scalar("test.i32", I32, -70000), KV.scalar("test.f32", F32, 1.5),
        KV.scalar("test.bool", BOOL, 1), KV.scalar("test.u64", U64, 1 << 40),
        KV.scalar("test.i64", I64, -(1 << 40)), KV.scalar("test.f64", F64, 0.25),
        KV.array("test.tokens", STRING, ["<s>", "héllo", "", "▁tok", "\u4e2d"]),
        KV.array("test.scores", F32, [0.0, -1.5, 2.25]),
        KV.array("test.flags", BOOL, [1, 0, 1]),
        KV.array("test.empty", I32, []),
    ]
    tensors = [
        _tensor("blk.0.w_q4k", "Q4_K", [256, 2], 1),
        _tensor("blk.0.w_q8", "Q8_0", [64, 3], 2),
        _tensor("norm", "F32", [64], 3),
        _tensor("w.f16", "F16", [32, 2], 4),
        _tensor("w.q6k.3d", "Q6_K", [256, 1, 2], 5),
        _tensor("w.q4_0", "Q4_0", [32, 4], 6),
    ]
    return Spec(kvs, tensors)
