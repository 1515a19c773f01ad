"""Strict GGUF reader: validates the whole structure, then exposes tensors as zero-copy views.

The file is memory-mapped; nothing is exposed until every rule holds. Each violation raises
GGUFError naming the rule, the field and its byte offset. Counts and lengths read from the file
are checked against the bytes that remain before anything is allocated from them.
"""
from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

from .tensor import QuantizedTensor
from .types import QTYPES_BY_ID

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4
INT64_MAX = (1 << 63) - 1

# GGUF metadata value types: id -> (name, numpy dtype or None for string/array)
T_STRING, T_ARRAY = 8, 9
VALUE_TYPES: dict[int, tuple[str, Any]] = {
    0: ("uint8", np.dtype("<u1")), 1: ("int8", np.dtype("<i1")),
    2: ("uint16", np.dtype("<u2")), 3: ("int16", np.dtype("<i2")),
    4: ("uint32", np.dtype("<u4")), 5: ("int32", np.dtype("<i4")),
    6: ("float32", np.dtype("<f4")), 7: ("bool", np.dtype("<u1")),
    8: ("string", None), 9: ("array", None),
    10: ("uint64", np.dtype("<u8")), 11: ("int64", np.dtype("<i8")),
    12: ("float64", np.dtype("<f8")),
}
T_BOOL, T_UINT32 = 7, 4
MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8   # name len, >=1 name byte, n_dims, one dim, type, offset
MIN_KV_BYTES = 8 + 1 + 4 + 1                      # key len, >=1 key byte, value type, smallest value
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class GGUFError(ValueError):
    """A GGUF file that breaks the format's rules; the message names the rule, field and offset."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    ggml_type: int
    ne: tuple[int, ...]      # GGUF order: ne[0] is the fastest-varying (column) dimension
    offset: int              # relative to the data section
    nbytes: int

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
            raise GGUFError(
                f"truncated: {what} at byte {self.pos} needs {n} bytes but only "
                f"{self.remaining()} remain in the file")

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

    def raw_string(self, what: str) -> tuple[int, int]:
        """(start, length) of a GGUF string; its bytes lie inside the file."""
        at = self.pos
        n = self.u64(f"{what} length")
        if n > self.remaining():
            raise GGUFError(
                f"string length out of bounds: {what} at byte {at} claims {n} bytes but only "
                f"{self.remaining()} remain")
        start = self.pos
        self.pos += n
        return start, n

    def name(self, what: str) -> str:
        """A key or tensor name: non-empty, valid UTF-8."""
        at = self.pos
        start, n = self.raw_string(what)
        if n == 0:
            raise GGUFError(f"empty name: {what} at byte {at} is empty")
        try:
            return bytes(self.buf[start:start + n]).decode("utf-8")
        except UnicodeDecodeError:
            raise GGUFError(f"invalid UTF-8: {what} at byte {at} is not valid UTF-8") from None


def _read_value(cur: _Cursor, vtype: int, key: str, at: int) -> Any:
    if vtype == T_STRING:
        start, n = cur.raw_string(f"value of {key!r}")
        return bytes(cur.buf[start:start + n]).decode("utf-8", errors="replace")
    if vtype == T_ARRAY:
        return _read_array(cur, key, at)
    entry = VALUE_TYPES.get(vtype)
    if entry is None:
        raise GGUFError(f"unknown value type: {key!r} at byte {at} has value type {vtype}")
    dtype = entry[1]
    cur.need(dtype.itemsize, f"value of {key!r}")
    value = np.frombuffer(cur.buf, dtype, 1, cur.pos)[0]
    cur.pos += dtype.itemsize
    return bool(value) if vtype == T_BOOL else value.item()


def _read_array(cur: _Cursor, key: str, at: int) -> Any:
    etype = cur.u32(f"element type of array {key!r}")
    count_at = cur.pos
    count = cur.u64(f"length of array {key!r}")
    if etype == T_ARRAY:
        raise GGUFError(f"nested array: {key!r} at byte {at} is an array of arrays (not allowed)")
    entry = VALUE_TYPES.get(etype)
    if entry is None:
        raise GGUFError(f"unknown array element type: {key!r} at byte {at} has element type {etype}")
    if etype == T_STRING:
        if count * 8 > cur.remaining():
            raise GGUFError(
                f"array length out of bounds: {key!r} at byte {count_at} claims {count} strings, "
                f"more than the {cur.remaining()} remaining bytes can hold")
        return _read_string_array(cur, count, key)
    dtype = entry[1]
    nbytes = count * dtype.itemsize
    if nbytes > cur.remaining():
        raise GGUFError(
            f"array length out of bounds: {key!r} at byte {count_at} claims {count} elements "
            f"({nbytes} bytes) but only {cur.remaining()} bytes remain")
    values = np.frombuffer(cur.buf, dtype, count, cur.pos).copy()
    cur.pos += nbytes
    return values.astype(bool) if etype == T_BOOL else values


def _read_string_array(cur: _Cursor, count: int, key: str) -> list[str]:
    buf, size, pos = cur.buf, cur.size, cur.pos
    unpack = _U64.unpack_from
    spans = []
    for i in range(count):
        if pos + 8 > size:
            raise GGUFError(f"truncated: element {i} of array {key!r} at byte {pos} runs past the end")
        (n,) = unpack(buf, pos)
        pos += 8
        if n > size - pos:
            raise GGUFError(
                f"string length out of bounds: element {i} of array {key!r} at byte {pos - 8} "
                f"claims {n} bytes but only {size - pos} remain")
        spans.append((pos, pos + n))
        pos += n
    cur.pos = pos
    if not spans:
        return []
    # Decode all strings with one slice of the file instead of one copy each.
    base = spans[0][0] - 8
    blob = bytes(buf[base:pos])
    return [blob[a - base:b - base].decode("utf-8", errors="replace") for a, b in spans]


def _check_alignment(metadata: dict[str, Any], kv_types: dict[str, int]) -> int:
    if "general.alignment" not in metadata:
        return DEFAULT_ALIGNMENT
    align = metadata["general.alignment"]
    if kv_types["general.alignment"] != T_UINT32:
        raise GGUFError("bad alignment: general.alignment must be a uint32")
    if align < 1 or align & (align - 1):
        raise GGUFError(f"bad alignment: general.alignment = {align} is not a power of two")
    return align


def _read_tensor_info(cur: _Cursor, index: int) -> TensorInfo:
    at = cur.pos
    name = cur.name(f"name of tensor {index}")
    n_dims = cur.u32(f"n_dims of tensor {name!r}")
    if not 1 <= n_dims <= MAX_DIMS:
        raise GGUFError(f"bad n_dims: tensor {name!r} at byte {at} has {n_dims} dimensions (1..4 allowed)")
    ne = tuple(cur.u64(f"dimension {d} of tensor {name!r}") for d in range(n_dims))
    count = 1
    for d, size in enumerate(ne):
        if size < 1:
            raise GGUFError(f"bad dimension: tensor {name!r} at byte {at} has ne[{d}] = {size}")
        count *= size
        if count > INT64_MAX:
            raise GGUFError(f"element count overflow: tensor {name!r} at byte {at} has {ne} elements")
    type_at = cur.pos
    ggml_type = cur.u32(f"type of tensor {name!r}")
    try:
        block_size, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ggml_type)]
    except ValueError:
        raise GGUFError(f"unknown tensor type: tensor {name!r} at byte {type_at} has type id {ggml_type}") from None
    if ne[0] % block_size:
        raise GGUFError(
            f"bad row length: tensor {name!r} at byte {at} has ne[0] = {ne[0]}, not a multiple of "
            f"its type's block size {block_size}")
    offset = cur.u64(f"offset of tensor {name!r}")
    nbytes = count // block_size * type_size
    return TensorInfo(name, ggml_type, ne, offset, nbytes)


class GGUFFile:
    """A validated, memory-mapped GGUF file: metadata, tensor infos and zero-copy tensors."""

    def __init__(self, path: "str | os.PathLike[str]"):
        self.path = os.fspath(path)
        if os.path.isdir(self.path):
            raise IsADirectoryError(f"{self.path} is a directory, not a GGUF file")
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"no such GGUF file: {self.path}")
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise GGUFError(f"empty file: {self.path} has 0 bytes (not a GGUF file)")
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._parse(memoryview(self._map), size)
        except BaseException:
            try:
                self._map.close()
            except BufferError:  # views made before the error still exist; GC closes the map
                pass
            raise

    def _parse(self, buf: memoryview, size: int) -> None:
        cur = _Cursor(buf, size)
        cur.need(4, "magic")
        magic = bytes(buf[0:4])
        if magic != GGUF_MAGIC:
            raise GGUFError(f"bad magic: {self.path} starts with {magic!r}, not b'GGUF' (not a GGUF file)")
        cur.pos = 4
        self.version = cur.u32("version")
        if self.version not in SUPPORTED_VERSIONS:
            raise GGUFError(f"unsupported version: GGUF version {self.version} at byte 4 (2 or 3 supported)")
        n_tensors = cur.u64("tensor count")
        n_kv = cur.u64("key-value count")
        if n_tensors * MIN_TENSOR_INFO_BYTES > cur.remaining():
            raise GGUFError(f"tensor count out of bounds: {n_tensors} tensors at byte 8 cannot fit in {size} bytes")
        if n_kv * MIN_KV_BYTES > cur.remaining():
            raise GGUFError(f"key-value count out of bounds: {n_kv} pairs at byte 16 cannot fit in {size} bytes")

        metadata: dict[str, Any] = {}
        kv_types: dict[str, int] = {}
        for i in range(n_kv):
            at = cur.pos
            key = cur.name(f"key {i}")
            if key in metadata:
                raise GGUFError(f"duplicate key: {key!r} at byte {at} appears twice")
            vtype = cur.u32(f"value type of {key!r}")
            metadata[key] = _read_value(cur, vtype, key, at)
            kv_types[key] = vtype
        self.metadata = metadata
        self.metadata_types = kv_types
        self.alignment = _check_alignment(metadata, kv_types)

        infos: dict[str, TensorInfo] = {}
        for i in range(n_tensors):
            at = cur.pos
            info = _read_tensor_info(cur, i)
            if info.name in infos:
                raise GGUFError(f"duplicate tensor name: {info.name!r} at byte {at} appears twice")
            infos[info.name] = info
        self.tensor_infos = infos

        data_start = -(-cur.pos // self.alignment) * self.alignment
        if n_tensors and data_start > size:
            raise GGUFError(f"truncated: data section would start at byte {data_start}, past the end ({size})")
        self.data_offset = data_start
        self._check_tensor_ranges(size)
        self.tensors = self._make_tensors(buf)

    def _check_tensor_ranges(self, size: int) -> None:
        spans = []
        for info in self.tensor_infos.values():
            if info.offset % self.alignment:
                raise GGUFError(
                    f"misaligned tensor: {info.name!r} has offset {info.offset}, not a multiple of "
                    f"the alignment {self.alignment}")
            start = self.data_offset + info.offset
            end = start + info.nbytes
            if end > size:
                raise GGUFError(
                    f"tensor out of bounds: {info.name!r} spans bytes {start}..{end} but the file "
                    f"has {size} bytes")
            spans.append((start, end, info.name))
        spans.sort()
        for (s0, e0, n0), (s1, e1, n1) in zip(spans, spans[1:]):
            if s1 < e0:
                raise GGUFError(f"overlapping tensors: {n0!r} (bytes {s0}..{e0}) overlaps {n1!r} (bytes {s1}..{e1})")

    def _make_tensors(self, buf: memoryview) -> dict[str, QuantizedTensor]:
        tensors = {}
        for info in self.tensor_infos.values():
            qt = QTYPES_BY_ID.get(info.ggml_type)
            if qt is None:
                name = GGMLQuantizationType(info.ggml_type).name
                raise GGUFError(
                    f"unsupported tensor type: {info.name!r} is {name}, which fusedq does not "
                    f"support (supported: {', '.join(t.name for t in QTYPES_BY_ID.values())})")
            start = self.data_offset + info.offset
            raw = np.frombuffer(buf, np.uint8, info.nbytes, start)
            tensors[info.name] = QuantizedTensor.from_bytes(raw, qt, info.shape, name=info.name)
        return tensors

    @property
    def architecture(self) -> str:
        arch = self.metadata.get("general.architecture")
        if not isinstance(arch, str):
            raise GGUFError("missing metadata: general.architecture is absent or not a string")
        return arch

    def __repr__(self) -> str:
        return (f"GGUFFile({self.path!r}, version={self.version}, {len(self.metadata)} keys, "
                f"{len(self.tensors)} tensors)")


def load_gguf(path: "str | os.PathLike[str]") -> GGUFFile:
    """Open and validate a GGUF file; its tensors are zero-copy views of the mapped file."""
    return GGUFFile(path)
