"""An independent second opinion on a GGUF file fusedq accepted, built on gguf-py's lenient reader.

gguf-py parses the file its own way; this module compares what it finds with what fusedq exposes
and re-checks the structural rules of issue 5 on gguf-py's view. Any disagreement means fusedq
accepted something malformed (or mis-parsed a valid file).
"""
from __future__ import annotations

import os

import gguf
import numpy as np

ALLOWED_ELEMENT_TYPES = set(range(13)) - {9}


def _reader_value(field: "gguf.ReaderField"):
    types = field.types
    if types[0] == gguf.GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    if types[0] == gguf.GGUFValueType.ARRAY:
        if len(types) == 1:          # gguf-py records no element type for an empty array
            return []
        if types[1] == gguf.GGUFValueType.STRING:
            return [bytes(field.parts[i]).decode("utf-8") for i in field.data]
        return [field.parts[i][0].item() for i in field.data]
    return field.parts[field.data[0]][0].item()


def _same(ours, theirs) -> bool:
    if isinstance(ours, np.ndarray):
        ours = ours.tolist()
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs))
    if isinstance(ours, float) or isinstance(theirs, float):
        return ours == theirs or (ours != ours and theirs != theirs)   # NaN == NaN here
    return ours == theirs


def violations(path: str, g) -> list[str]:
    """Rules broken by the accepted file `g` (a fusedq GGUFFile), seen through gguf-py."""
    problems: list[str] = []
    try:
        reader = gguf.GGUFReader(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a finding to report
        if not g.tensor_infos:
            return problems   # gguf-py cannot read a tensor-less file whose padding is absent
        return [f"gguf-py cannot read a file fusedq accepted: {type(exc).__name__}: {exc}"]
    size = os.path.getsize(path)
    fields = {k: f for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    if set(fields) != set(g.metadata):
        problems.append(f"keys differ: fusedq {sorted(g.metadata)} vs gguf-py {sorted(fields)}")
    for key, f in fields.items():
        if not key:
            problems.append("an empty key was accepted")
        if f.types[0] == gguf.GGUFValueType.ARRAY and len(f.types) > 1 \
                and int(f.types[1]) not in ALLOWED_ELEMENT_TYPES:
            problems.append(f"{key!r}: array element type {f.types[1]} accepted")
        if key in g.metadata:
            try:
                theirs = _reader_value(f)
            except UnicodeDecodeError:
                problems.append(f"{key!r}: invalid UTF-8 accepted")
                continue
            if not _same(g.metadata[key], theirs):
                problems.append(f"{key!r}: fusedq read {g.metadata[key]!r}, gguf-py {theirs!r}")
            if f.types[-1] == gguf.GGUFValueType.BOOL and any(v not in (0, 1, True, False) for v in
                                                              (theirs if isinstance(theirs, list) else [theirs])):
                problems.append(f"{key!r}: a bool other than 0/1 accepted")
    align_field = fields.get("general.alignment")
    alignment = 32
    if align_field is not None:
        alignment = _reader_value(align_field)
        if align_field.types != [gguf.GGUFValueType.UINT32] or alignment < 1 or alignment & (alignment - 1):
            problems.append(f"bad general.alignment accepted: {alignment!r} ({align_field.types})")
            return problems
    names = [t.name for t in reader.tensors]
    if sorted(names) != sorted(g.tensor_infos) or len(set(names)) != len(names):
        problems.append(f"tensor names differ or repeat: gguf-py {names} vs fusedq {list(g.tensor_infos)}")
        return problems
    spans = []
    for t in reader.tensors:
        info = g.tensor_infos[t.name]
        ne = tuple(int(d) for d in t.shape)
        if not t.name:
            problems.append("an empty tensor name was accepted")
        if not 1 <= len(ne) <= 4 or min(ne) < 1:
            problems.append(f"{t.name!r}: bad dims {ne} accepted")
        if (int(t.tensor_type), ne) != (info.ggml_type, info.ne):
            problems.append(f"{t.name!r}: gguf-py sees type {int(t.tensor_type)} ne {ne}, fusedq "
                            f"{info.ggml_type} {info.ne}")
        rel = int(t.data_offset) - reader.data_offset
        if rel % alignment:
            problems.append(f"{t.name!r}: misaligned offset {rel} accepted")
        block, type_size = gguf.GGML_QUANT_SIZES[t.tensor_type]
        count = int(np.prod(ne, dtype=object))
        if ne[0] % block:
            problems.append(f"{t.name!r}: ne[0] {ne[0]} not a multiple of {block} accepted")
        start, end = int(t.data_offset), int(t.data_offset) + count // block * type_size
        if end > size or start < reader.data_offset:
            problems.append(f"{t.name!r}: bytes {start}..{end} outside the data section/file ({size})")
        if start != g.data_offset + info.offset:
            problems.append(f"{t.name!r}: data at {start} per gguf-py, {g.data_offset + info.offset} per fusedq")
        spans.append((start, end, t.name))
    spans.sort()
    for (s0, e0, a), (s1, e1, b) in zip(spans, spans[1:]):
        if s1 < e0:
            problems.append(f"overlapping tensors accepted: {a!r} and {b!r}")
    return problems
