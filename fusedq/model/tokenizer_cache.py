"""On-disk cache of the derived SentencePiece merges, keyed by a hash of the tokens and scores.

Deriving Gemma 3's ~500k merges from its 262,144 tokens takes seconds of Python; the result is
stored as int32 id pairs (.npz) in `<fusedq cache dir>/tokenizers/` and loads in milliseconds.
(Byte-level BPE vocabularies carry their merges in the file: nothing to cache.) A cache that
cannot be read or written never fails a load: the merges are simply derived again.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from .tokenizer_build import SpmMerges

# bump when the derivation changes, so old cache files are not reused
DERIVATION_FORMAT = "fusedq-spm-merges-2"


def cache_key(tokens: list[str], scores) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(DERIVATION_FORMAT.encode() + b"\x00")
    h.update("\x00".join(tokens).encode("utf-8", "surrogatepass"))
    h.update(b"\x01")
    if scores is not None:
        h.update(np.ascontiguousarray(scores, dtype=np.float32).tobytes())
    return h.hexdigest()


def _path(key: str) -> Path | None:
    try:
        from ..model_files import cache_dir
        return cache_dir() / "tokenizers" / f"{key}.npz"
    except OSError:
        return None


def load(key: str, n_vocab: int) -> SpmMerges | None:
    path = _path(key)
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            placeholders = data["placeholders"].tolist()
            pairs = np.ascontiguousarray(data["pairs"], dtype=np.int32)
    except Exception:   # damaged or foreign file: derive again (and overwrite)
        return None
    n_symbols = n_vocab + len(placeholders)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or (pairs.size and (pairs.min() < 0 or pairs.max() >= n_symbols)):
        return None
    return SpmMerges(placeholders, pairs)


def store(key: str, merges: SpmMerges) -> None:
    path = _path(key)
    if path is None:
        return
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".npz")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, placeholders=np.asarray(merges.placeholders, dtype=str),
                     pairs=merges.pairs)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
