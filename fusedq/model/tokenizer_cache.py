"""On-disk cache of built tokenizers, keyed by a hash of everything the build reads.

Building Gemma 3's tokenizer (262,144 tokens, ~500k derived merges) takes seconds; loading the
serialized `tokenizers` JSON is much faster. Files live in `<fusedq cache dir>/tokenizers/`.
A cache that cannot be read or written never fails a load: the tokenizer is simply built.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from .tokenizer_vocab import Vocab

# bump when the build recipe changes, so old cache files are not reused
BUILD_FORMAT = "fusedq-tokenizer-5"
CACHED_KEYS = ("tokenizer.ggml.scores", "tokenizer.ggml.merges")


def cache_key(vocab: Vocab, metadata: dict) -> str:
    h = hashlib.blake2b(digest_size=20)
    for part in (BUILD_FORMAT, vocab.model, vocab.pre, str(vocab.add_space_prefix),
                 str(vocab.special.get("unk"))):
        h.update(part.encode() + b"\x00")
    h.update("\x00".join(vocab.tokens).encode("utf-8", "surrogatepass"))
    h.update(np.ascontiguousarray(vocab.attrs, dtype=np.int32).tobytes())
    h.update(np.asarray(vocab.split_out_ids(), dtype=np.int64).tobytes())
    for key in CACHED_KEYS:
        value = metadata.get(key)
        h.update(key.encode() + b"\x01")
        if value is None:
            continue
        if isinstance(value, np.ndarray):
            h.update(np.ascontiguousarray(value).tobytes())
        else:
            h.update("\x00".join(value).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _path(key: str) -> Path | None:
    try:
        from ..model_files import cache_dir
        return cache_dir() / "tokenizers" / f"{key}.json"
    except OSError:
        return None


def load(key: str) -> Tokenizer | None:
    path = _path(key)
    if path is None or not path.is_file():
        return None
    try:
        return Tokenizer.from_file(str(path))
    except Exception:   # a damaged or foreign file: rebuild (and overwrite) instead
        return None


def store(key: str, tokenizer: Tokenizer) -> None:
    path = _path(key)
    if path is None:
        return
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(tokenizer.to_str())
        os.replace(tmp, path)
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
