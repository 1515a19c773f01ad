"""Strict GGUF reader: validates the whole structure, then exposes tensors as zero-copy views.

The file is memory-mapped; nothing is exposed until every rule holds. Each violation raises
GGUFError naming the rule, the field and its byte offset (also available as the error's `rule`,
`field` and `offset` attributes). Counts and lengths read from the file are checked against the
bytes that remain before anything is allocated from them or looped over.
"""
from __future__ import annotations

import mmap
import os
import stat
import struct
from dataclasses import dataclass, field as dataclass_field
from typing import Any

import numpy as np

from .tensor import QuantizedTensor
from .types import QTYPES_BY_ID

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4
INT64_MAX = (1 << 63) - 1
HEADER_BYTES = 4 + 4 + 8 + 8   # magic, version, tensor count, key-value count

# GGUF metadata value types: id -> (name, numpy dtype or None for string/array)
T_BOOL, T_UINT32, T_STRING, T_ARRAY = 7, 4, 8, 9
VALUE_TYPES: dict[int, tuple[str, Any]] = {
    0: ("uint8", np.dtype("<u1")), 1: ("int8", np.dtype("<i1")),
    2: ("uint16", np.dtype("<u2")), 3: ("int16", np.dtype("<i2")),
    4: ("uint32", np.dtype("<u4")), 5: ("int32", np.dtype("<i4")),
    6: ("float32", np.dtype("<f4")), 7: ("bool", np.dtype("<u1")),
    8: ("string", None), 9: ("array", None),
    10: ("uint64", np.dtype("<u8")), 11: ("int64", np.dtype("<i8")),
    12: ("float64", np.dtype("<f8")),
}
MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8   # name len, >=1 name byte, n_dims, one dim, type, offset
MIN_KV_BYTES = 8 + 1 + 4 + 1                      # key len, >=1 key byte, value type, smallest value
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class GGUFError(ValueError):
    """A GGUF file that breaks the format's rules; the message names the rule, field and offset.

    `rule`, `field` and `offset` hold the same facts for programs (None when not applicable).
    """

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None,
                 offset: int | None = None):
        super().__init__(message)
        self.rule, self.field, self.offset = rule, field, offset


def _error(rule: str, field: str, offset: int, detail: str) -> GGUFError:
    return GGUFError(f"{rule}: {field} at byte {offset}: {detail}", rule=rule, field=field,
                     offset=offset)


def _ggml_type_name(type_id: int) -> str | None:
    """GGML's name for a type id fusedq does not support (for the message), if the gguf package knows it."""
    try:
        from gguf import GGMLQuantizationType
        return GGMLQuantizationType(type_id).name
    except (ImportError, ValueError):
        return None


@dataclass(frozen=True)
class TensorInfo:
    name: str
    ggml_type: int
    ne: tuple[int, ...]      # GGUF order: ne[0] is the fastest-varying (column) dimension
    offset: int              # relative to the data section
    nbytes: int
    offset_at: int = dataclass_field(default=-1, compare=False, repr=False)  # file byte of the offset field

    @property
    def shape(self) -> tuple[int, ...]:
        """numpy-style shape: reversed ne, so (rows, cols) = (ne1, ne0)."""
        return tuple(reversed(self.ne))


class _Cursor:
    """Bounds-checked little-endian reads over the mapped file."""

    def __init__(self, buf: memoryview, size: int):
        self.buf = buf
        self.size = size
        self.pos = 0

    def remaining(self) -> int:
        return self.size - self.pos

    def need(self, n: int, what: str) -> None:
        if n > self.remaining():
            raise _error("truncated", what, self.pos,
                         f"needs {n} bytes but only {self.remaining()} remain in the file")

    def u32(self, what: str) -> int:
        self.need(4, what)
        (v,) = _U32.unpack_from(self.buf, self.pos)
        self.pos += 4
        return v

    def u64(self, what: str) -> int:
        self.need(8, what)
        (v,) = _U64.unpack_from(self.buf, self.pos)
        self.pos += 8
        return v

    def string(self, what: str) -> str:
        """A GGUF string (u64 length + bytes), decoded as strict UTF-8."""
        at = self.pos
        n = self.u64(f"length of {what}")
        if n > self.remaining():
            raise _error("string length out of bounds", what, at,
                         f"claims {n} bytes but only {self.remaining()} remain")
        start = self.pos
        self.pos += n
        try:
            return str(self.buf[start:start + n], "utf-8")
        except UnicodeDecodeError as exc:
            raise _error("invalid UTF-8", what, at,
                         f"byte {start + exc.start} is not valid UTF-8") from None

    def name(self, what: str) -> str:
        """A key or tensor name: non-empty, valid UTF-8."""
        at = self.pos
        text = self.string(what)
        if not text:
            raise _error("empty name", what, at, "names must not be empty")
        return text


def _read_value(cur: _Cursor, vtype: int, key: str, type_at: int) -> Any:
    if vtype == T_STRING:
        return cur.string(f"value of {key!r}")
    if vtype == T_ARRAY:
        return _read_array(cur, key)
    entry = VALUE_TYPES.get(vtype)
    if entry is None:
        raise _error("unknown value type", f"value type of {key!r}", type_at,
                     f"{vtype} is not a GGUF value type (0..12)")
    dtype = entry[1]
    at = cur.pos
    cur.need(dtype.itemsize, f"value of {key!r}")
    value = np.frombuffer(cur.buf, dtype, 1, at)[0]
    cur.pos += dtype.itemsize
    if vtype == T_BOOL:
        if value > 1:
            raise _error("bad bool", f"value of {key!r}", at, f"a bool must be 0 or 1, not {value}")
        return bool(value)
    return value.item()


def _read_array(cur: _Cursor, key: str) -> Any:
    etype_at = cur.pos
    etype = cur.u32(f"element type of array {key!r}")
    count_at = cur.pos
    count = cur.u64(f"length of array {key!r}")
    if etype == T_ARRAY:
        raise _error("nested array", f"element type of array {key!r}", etype_at,
                     "arrays of arrays are not allowed")
    entry = VALUE_TYPES.get(etype)
    if entry is None:
        raise _error("unknown array element type", f"element type of array {key!r}", etype_at,
                     f"{etype} is not a GGUF value type (0..12)")
    if etype == T_STRING:
        if count * 8 > cur.remaining():
            raise _error("array length out of bounds", f"length of array {key!r}", count_at,
                         f"claims {count} strings, more than the {cur.remaining()} remaining "
                         f"bytes can hold")
        return _read_string_array(cur, count, key)
    dtype = entry[1]
    nbytes = count * dtype.itemsize
    if nbytes > cur.remaining():
        raise _error("array length out of bounds", f"length of array {key!r}", count_at,
                     f"claims {count} elements ({nbytes} bytes) but only {cur.remaining()} "
                     f"bytes remain")
    values = np.frombuffer(cur.buf, dtype, count, cur.pos).copy()
    if etype == T_BOOL and count and values.max() > 1:
        i = int(np.argmax(values > 1))
        raise _error("bad bool", f"element {i} of array {key!r}", cur.pos + i,
                     f"a bool must be 0 or 1, not {values[i]}")
    cur.pos += nbytes
    return values.astype(bool) if etype == T_BOOL else values


def _read_string_array(cur: _Cursor, count: int, key: str) -> list[str]:
    """count strings; the fast path walks the length prefixes unchecked, any fault re-walks them checked.

    Tokenizer vocabularies hold ~262k strings, so the per-string work is kept minimal: one walk
    collecting [start, end) spans, then one copy of the whole span and one decode per string.
    """
    buf, pos, unpack = cur.buf, cur.pos, _U64.unpack_from
    spans: list[int] = []
    add = spans.append
    try:
        for _ in range(count):
            (n,) = unpack(buf, pos)
            pos += 8
            add(pos)
            pos += n
            add(pos)
        intact = pos <= cur.size
    except (struct.error, OverflowError):   # a length prefix past the end of the file
        intact = False
    if not intact:
        _raise_string_array_fault(cur, count, key)
    cur.pos = pos
    if not spans:
        return []
    base = spans[0]
    blob = bytes(buf[base:pos])
    pairs = iter(spans)
    try:
        return [blob[a - base:b - base].decode("utf-8") for a, b in zip(pairs, pairs)]
    except UnicodeDecodeError:
        for i in range(count):
            a, b = spans[2 * i] - base, spans[2 * i + 1] - base
            try:
                blob[a:b].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _error("invalid UTF-8", f"element {i} of array {key!r}", spans[2 * i] - 8,
                             f"byte {spans[2 * i] + exc.start} is not valid UTF-8") from None
        raise  # pragma: no cover - the loop above finds the element that failed


def _raise_string_array_fault(cur: _Cursor, count: int, key: str) -> None:
    """Walk the string array again with every check, raising the precise error."""
    pos, size = cur.pos, cur.size
    for i in range(count):
        what = f"element {i} of array {key!r}"
        if pos + 8 > size:
            raise _error("truncated", f"length of {what}", pos,
                         f"needs 8 bytes but only {size - pos} remain in the file")
        (n,) = _U64.unpack_from(cur.buf, pos)
        if n > size - pos - 8:
            raise _error("string length out of bounds", what, pos,
                         f"claims {n} bytes but only {size - pos - 8} remain")
        pos += 8 + n
    raise AssertionError("string array fault not found")  # pragma: no cover


def _check_alignment(metadata: dict[str, Any], kv_types: dict[str, int],
                     kv_offsets: dict[str, int]) -> int:
    key = "general.alignment"
    if key not in metadata:
        return DEFAULT_ALIGNMENT
    align, at = metadata[key], kv_offsets[key]
    if kv_types[key] != T_UINT32:
        raise _error("bad alignment", key, at,
                     f"must be a uint32, not a {VALUE_TYPES[kv_types[key]][0]}")
    if align < 1 or align & (align - 1):
        raise _error("bad alignment", key, at, f"{align} is not a power of two")
    return align


def _read_tensor_info(cur: _Cursor, index: int) -> TensorInfo:
    name = cur.name(f"name of tensor {index}")
    dims_at = cur.pos
    n_dims = cur.u32(f"n_dims of tensor {name!r}")
    if not 1 <= n_dims <= MAX_DIMS:
        raise _error("bad n_dims", f"n_dims of tensor {name!r}", dims_at,
                     f"{n_dims} dimensions (1..{MAX_DIMS} allowed)")
    ne = []
    count = 1
    for d in range(n_dims):
        at = cur.pos
        size = cur.u64(f"ne[{d}] of tensor {name!r}")
        if size < 1:
            raise _error("bad dimension", f"ne[{d}] of tensor {name!r}", at, "dimensions must be >= 1")
        count *= size
        if count > INT64_MAX:
            raise _error("element count overflow", f"ne[{d}] of tensor {name!r}", at,
                         f"the element count of {(*ne, size)} exceeds 2^63-1")
        ne.append(size)
    type_at = cur.pos
    ggml_type = cur.u32(f"type of tensor {name!r}")
    qt = QTYPES_BY_ID.get(ggml_type)
    if qt is None:
        ggml_name = _ggml_type_name(ggml_type)
        if ggml_name is None:
            raise _error("unknown tensor type", f"type of tensor {name!r}", type_at,
                         f"{ggml_type} is not a GGML type id")
        raise _error("unsupported tensor type", f"type of tensor {name!r}", type_at,
                     f"{ggml_name} (id {ggml_type}) is not supported by fusedq (supported: "
                     f"{', '.join(t.name for t in QTYPES_BY_ID.values())})")
    if ne[0] % qt.block_size:
        raise _error("bad row length", f"ne[0] of tensor {name!r}", dims_at + 4,
                     f"{ne[0]} is not a multiple of {qt.name}'s block size {qt.block_size}")
    offset_at = cur.pos
    offset = cur.u64(f"offset of tensor {name!r}")
    nbytes = count // qt.block_size * qt.type_size
    return TensorInfo(name, ggml_type, tuple(ne), offset, nbytes, offset_at)


class GGUFFile:
    """A validated, memory-mapped GGUF file: metadata, tensor infos and zero-copy tensors."""

    def __init__(self, path: "str | os.PathLike[str]"):
        self.path = os.fspath(path)
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            raise FileNotFoundError(f"no such GGUF file: {self.path}") from None
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"{self.path} is a directory, not a GGUF file")
        if not stat.S_ISREG(mode):
            raise GGUFError(f"not a regular file: {self.path} (a GGUF file must be a regular file)",
                            rule="not a regular file")
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise GGUFError(f"empty file: {self.path} has 0 bytes (not a GGUF file)",
                                rule="empty file", field="file", offset=0)
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._parse(memoryview(self._map), size)
            self._release_header_pages()
        except BaseException as exc:
            try:
                self._map.close()
            except BufferError:  # views made before the error still exist; GC closes the map
                pass
            if isinstance(exc, GGUFError):
                exc.args = (f"{self.path}: {exc.args[0]}",)
            raise

    def _release_header_pages(self) -> None:
        """The header (metadata and tensor infos, ~7 MB for a 262k-token vocabulary) is parsed
        into Python objects once; drop its pages from this process's resident set (they stay in
        the page cache and would simply be read again if touched)."""
        end = self.data_offset // mmap.PAGESIZE * mmap.PAGESIZE
        if end and hasattr(self._map, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            try:
                self._map.madvise(mmap.MADV_DONTNEED, 0, end)
            except OSError:
                pass

    def _parse(self, buf: memoryview, size: int) -> None:
        cur = _Cursor(buf, size)
        cur.need(4, "magic")
        magic = bytes(buf[0:4])
        if magic != GGUF_MAGIC:
            raise _error("bad magic", "magic", 0, f"the file starts with {magic!r}, not b'GGUF' "
                         "(not a GGUF file)")
        cur.pos = 4
        self.version = cur.u32("version")
        if self.version not in SUPPORTED_VERSIONS:
            hint = " (a big-endian file? only little-endian GGUF is read)" if self.version & 0xFFFF == 0 else ""
            raise _error("unsupported version", "version", 4,
                         f"GGUF version {self.version}: 2 or 3 supported{hint}")
        n_tensors = cur.u64("tensor count")
        n_kv = cur.u64("key-value count")
        if n_tensors * MIN_TENSOR_INFO_BYTES > cur.remaining():
            raise _error("tensor count out of bounds", "tensor count", 8,
                         f"{n_tensors} tensors cannot fit in the {cur.remaining()} bytes after the header")
        if n_kv * MIN_KV_BYTES + n_tensors * MIN_TENSOR_INFO_BYTES > cur.remaining():
            raise _error("key-value count out of bounds", "key-value count", 16,
                         f"{n_kv} key-value pairs (and {n_tensors} tensors) cannot fit in the "
                         f"{cur.remaining()} bytes after the header")

        metadata: dict[str, Any] = {}
        kv_types: dict[str, int] = {}
        kv_offsets: dict[str, int] = {}
        for i in range(n_kv):
            at = cur.pos
            key = cur.name(f"key {i}")
            if key in metadata:
                raise _error("duplicate key", f"key {i}", at,
                             f"{key!r} already appeared at byte {kv_offsets[key]}")
            type_at = cur.pos
            vtype = cur.u32(f"value type of {key!r}")
            kv_offsets[key] = at
            metadata[key] = _read_value(cur, vtype, key, type_at)
            kv_types[key] = vtype
        self.metadata = metadata
        self.metadata_types = kv_types
        self.alignment = _check_alignment(metadata, kv_types, kv_offsets)

        infos: dict[str, TensorInfo] = {}
        info_offsets: dict[str, int] = {}
        for i in range(n_tensors):
            at = cur.pos
            info = _read_tensor_info(cur, i)
            if info.name in infos:
                raise _error("duplicate tensor name", f"name of tensor {i}", at,
                             f"{info.name!r} already appeared at byte {info_offsets[info.name]}")
            infos[info.name] = info
            info_offsets[info.name] = at
        self.tensor_infos = infos

        # With no tensors the data section is empty, so its (padded) start may lie past the end.
        data_start = -(-cur.pos // self.alignment) * self.alignment
        if n_tensors and data_start > size:
            raise _error("truncated", "data section", cur.pos,
                         f"the data section would start at byte {data_start}, past the end ({size})")
        self.data_offset = data_start
        self._check_tensor_ranges(size)
        self.tensors = self._make_tensors(buf)

    def _check_tensor_ranges(self, size: int) -> None:
        spans = []
        for info in self.tensor_infos.values():
            what = f"offset of tensor {info.name!r}"
            if info.offset % self.alignment:
                raise _error("misaligned tensor", what, info.offset_at,
                             f"{info.offset} is not a multiple of the alignment {self.alignment}")
            start = self.data_offset + info.offset
            end = start + info.nbytes
            if end > size:
                raise _error("tensor out of bounds", what, info.offset_at,
                             f"the tensor's {info.nbytes} bytes would span file bytes "
                             f"{start}..{end}, but the file has {size} bytes")
            spans.append((start, end, info))
        spans.sort(key=lambda s: (s[0], s[1]))
        for (s0, e0, a), (s1, e1, b) in zip(spans, spans[1:]):
            if s1 < e0:
                later = max(a, b, key=lambda t: t.offset_at)
                raise _error("overlapping tensors", f"offset of tensor {later.name!r}", later.offset_at,
                             f"{a.name!r} (file bytes {s0}..{e0}) overlaps {b.name!r} "
                             f"(file bytes {s1}..{e1})")

    def _make_tensors(self, buf: memoryview) -> dict[str, QuantizedTensor]:
        tensors = {}
        for info in self.tensor_infos.values():
            raw = np.frombuffer(buf, np.uint8, info.nbytes, self.data_offset + info.offset)
            tensors[info.name] = QuantizedTensor.from_bytes(
                raw, QTYPES_BY_ID[info.ggml_type], info.shape, name=info.name)
        return tensors

    @property
    def architecture(self) -> str:
        arch = self.metadata.get("general.architecture")
        if not isinstance(arch, str):
            raise GGUFError("missing metadata: general.architecture is absent or not a string",
                            rule="missing metadata", field="general.architecture")
        return arch

    def __repr__(self) -> str:
        return (f"GGUFFile({self.path!r}, version={self.version}, {len(self.metadata)} keys, "
                f"{len(self.tensors)} tensors)")


def load_gguf(path: "str | os.PathLike[str]") -> GGUFFile:
    """Open and validate a GGUF file; its tensors are zero-copy views of the mapped file."""
    return GGUFFile(path)
