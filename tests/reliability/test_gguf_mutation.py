"""Seeded random mutation of the valid base GGUF: bit flips, truncations, field overwrites, splices.

Every mutant is opened in a subprocess under an address-space limit (subprocess_opener.py). Pass =
a GGUFError naming rule, field and offset, or a clean accept that gguf-py's independent view
(gguf_oracle.py) agrees is well formed. Mutants that only touch the data section must be accepted:
tensor bytes are unconstrained. Seeds are fixed, so a failure reproduces exactly.
"""
from __future__ import annotations

import collections

import numpy as np

from malformed_variants import EITHER, VALID, Variant, base_file
from verdict import check_variants

SEED = 5_2026
MUTANTS_PER_KIND = 400
INTERESTING_U64 = [0, 1, 2, 3, 4, 8, 9, 12, 13, 31, 32, 33, 255, 256, 2**31, 2**32 - 1, 2**32, 2**63 - 1,
                   2**63, 2**64 - 1, 2**64 - 32]


def _flip_bits(rng, data: bytes, lo: int, hi: int) -> tuple[bytes, int]:
    out = bytearray(data)
    first = len(data)
    for _ in range(int(rng.integers(1, 9))):
        at = int(rng.integers(lo, hi))
        out[at] ^= 1 << int(rng.integers(0, 8))
        first = min(first, at)
    return bytes(out), first


def mutants() -> list[Variant]:
    rng = np.random.default_rng(SEED)
    base = base_file()
    data, fields = base.data, base.fields
    data_start = fields["data"]
    labels = sorted((label for label, at in fields.items() if at < data_start), key=fields.get)
    out: list[Variant] = []
    for i in range(MUTANTS_PER_KIND):
        mutated, _ = _flip_bits(rng, data, 0, data_start)
        out.append(Variant(f"header bit flips #{i}", EITHER, mutated))
        mutated, first = _flip_bits(rng, data, 0, len(data))
        out.append(Variant(f"bit flips anywhere #{i}", VALID if first >= data_start else EITHER, mutated))
        mutated, _ = _flip_bits(rng, data, data_start, len(data))
        out.append(Variant(f"data-only bit flips #{i}", VALID, mutated))
        cut = int(rng.integers(0, len(data)))
        out.append(Variant(f"truncated to {cut} bytes", EITHER, data[:cut]))
        at = fields[labels[int(rng.integers(0, len(labels)))]]
        width = 8 if rng.random() < 0.6 else 4
        value = int(rng.choice(INTERESTING_U64)) if rng.random() < 0.7 else int(rng.integers(0, 2**63))
        if rng.random() < 0.3:
            value = (int.from_bytes(data[at:at + width], "little") + int(rng.integers(-3, 4))) % 2**64
        raw = (value % 2**(8 * width)).to_bytes(width, "little")
        out.append(Variant(f"field overwrite at {at} with {raw.hex()}", EITHER,
                           data[:at] + raw + data[at + width:]))
        src, dst = (int(rng.integers(0, data_start)) for _ in range(2))
        n = int(rng.integers(1, 64))
        out.append(Variant(f"splice {n} bytes {src}->{dst}", EITHER,
                           data[:dst] + data[src:src + n] + data[dst + n:]))
    return out


def test_mutants_rejected_cleanly_or_accepted_valid(tmp_path):
    variants = mutants()
    results = check_variants(tmp_path, variants)
    outcomes = collections.Counter(r.get("rule") or r["status"] for r in results)
    print(f"{len(variants)} mutants: {dict(outcomes.most_common())}")
    # the mutation must actually reach the validation rules, not just bounce off the magic check
    assert outcomes["accepted"] >= MUTANTS_PER_KIND   # at least the data-only mutants
    assert len([rule for rule in outcomes if rule != "accepted"]) >= 12
