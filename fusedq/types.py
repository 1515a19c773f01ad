"""The type-traits table: every GGML tensor type fusedq knows, in one place.

Everything that depends on a tensor type (block size, bytes per block, which 8-bit activation
format its q8 kernels pair it with) is looked up here; no other module branches on type names.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QType:
    """Format facts of one GGML tensor type."""

    name: str          # GGML name, e.g. "Q4_K"
    gguf_id: int       # ggml_type value stored in GGUF tensor infos
    block_size: int    # elements per block
    type_size: int     # bytes per block
    act_partner: str   # 8-bit activation format its q8 kernels use: "Q8_0", "Q8_1", "Q8_K" or "F32"
    half_fields: tuple[int, ...] = ()  # byte offsets of the IEEE-half scale fields inside a block

    @property
    def bits_per_weight(self) -> float:
        return 8.0 * self.type_size / self.block_size

    @property
    def is_quantized(self) -> bool:
        return self.block_size > 1

    def row_bytes(self, cols: int) -> int:
        """Bytes of one row of `cols` elements (cols must be a multiple of block_size)."""
        return (cols // self.block_size) * self.type_size

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.name


# name, gguf id, block size, bytes per block, activation partner of the q8 kernels, f16 fields
_TABLE = [
    ("F32",    0,   1,   4,   "F32",  ()),
    ("F16",    1,   1,   2,   "F32",  (0,)),
    ("BF16",   30,  1,   2,   "F32",  ()),
    ("Q4_0",   2,   32,  18,  "Q8_0", (0,)),
    ("Q4_1",   3,   32,  20,  "Q8_1", (0, 2)),
    ("Q5_0",   6,   32,  22,  "Q8_0", (0,)),
    ("Q5_1",   7,   32,  24,  "Q8_1", (0, 2)),
    ("Q8_0",   8,   32,  34,  "Q8_0", (0,)),
    ("Q2_K",   10,  256, 84,  "Q8_K", (80, 82)),
    ("Q3_K",   11,  256, 110, "Q8_K", (108,)),
    ("Q4_K",   12,  256, 144, "Q8_K", (0, 2)),
    ("Q5_K",   13,  256, 176, "Q8_K", (0, 2)),
    ("Q6_K",   14,  256, 210, "Q8_K", (208,)),
    ("IQ4_NL", 20,  32,  18,  "Q8_0", (0,)),
    ("IQ4_XS", 23,  256, 136, "Q8_K", (0,)),
]

QTYPES: dict[str, QType] = {row[0]: QType(*row) for row in _TABLE}
QTYPES_BY_ID: dict[int, QType] = {t.gguf_id: t for t in QTYPES.values()}


def qtype(spec: "str | int | QType") -> QType:
    """Look a type up by name (case-insensitive), GGUF id, or pass a QType through."""
    if isinstance(spec, QType):
        return spec
    if isinstance(spec, str):
        found = QTYPES.get(spec.upper())
        if found is None:
            raise ValueError(
                f"unknown tensor type {spec!r}; supported: {', '.join(QTYPES)}")
        return found
    if isinstance(spec, int) and not isinstance(spec, bool):
        found = QTYPES_BY_ID.get(spec)
        if found is None:
            raise ValueError(
                f"unsupported GGML type id {spec}; supported ids: "
                + ", ".join(f"{t.name}={t.gguf_id}" for t in QTYPES.values()))
        return found
    raise TypeError(f"tensor type must be a name or a GGML id, not {type(spec).__name__}")
