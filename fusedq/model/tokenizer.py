"""Tokenizer built from GGUF metadata that matches llama.cpp id for id, and decodes like it.

    tok = load_tokenizer(fusedq.load_gguf(path).metadata)
    ids = tok.encode("Hello")           # BOS/EOS as the model's add_bos/add_eos_token say
    tok.decode(ids)                     # llama.cpp's detokenized text
    tok.token_bytes(ids[-1])            # raw bytes of one piece (for UTF-8-safe streaming)

Encoding runs in `tokenizers` (see tokenizer_build.py); special tokens in the text are not parsed
(llama.cpp's special=False): only user-defined tokens are cut out. Decoding follows llama.cpp's
token_to_piece / detokenize rules per token attribute.
"""
from __future__ import annotations

from typing import Iterable

from . import tokenizer_cache
from .tokenizer_build import (SPACE_ESCAPE, SpmMerges, build_tokenizer, byte_to_unicode,
                              derive_spm_merges)
from .tokenizer_pretok import pre_tokenizer
from .tokenizer_vocab import (ATTR_BYTE, ATTR_CONTROL, ATTR_NORMAL, ATTR_UNKNOWN,
                              ATTR_USER_DEFINED, KIND_SPM, BackendTokenTexts, Vocab, check_unique, read_vocab,
                              tokenizer_kind)

__all__ = ["Tokenizer", "load_tokenizer"]

_UNICODE_TO_BYTE = {c: b for b, c in byte_to_unicode().items()}
_HIDDEN_UNLESS_SPECIAL = ATTR_CONTROL | ATTR_UNKNOWN


def _spm_piece(text: str, attr: int) -> bytes:
    if attr & ATTR_NORMAL:
        return text.replace(SPACE_ESCAPE, " ").encode()
    if attr & ATTR_BYTE:
        return bytes([int(text[3:5], 16)])
    return b""


def _byte_level_piece(text: str, attr: int) -> bytes:
    if attr & ATTR_NORMAL:
        out = bytearray()
        for ch in text:
            byte = _UNICODE_TO_BYTE.get(ch)
            if byte is None:   # llama.cpp's marker for a character outside the byte table
                out += b"[UNK_BYTE_0x" + ch.encode().hex().encode() + text.encode() + b"]"
            else:
                out.append(byte)
        return bytes(out)
    if attr & ATTR_BYTE:
        return bytes([int(text[3:5], 16)])
    return b""


def _clean_spaces(text: bytearray) -> bytearray:
    """llama.cpp's clean_up_tokenization_spaces passes on detokenized bytes."""
    out = bytearray()
    for i, x in enumerate(text):   # " ?", " !", " .", " ,": drop the space
        if i and text[i - 1] == 0x20 and x in b"?!.,":
            out.pop()
        out.append(x)
    text, out = out, bytearray()
    i = 0
    while i < len(text):           # " ' " -> "'"
        x = text[i]
        if (i and x == 0x27 and i + 1 < len(text) and text[i - 1] == 0x20
                and text[i + 1] == 0x20):
            out.pop()
            text[i + 1] = 0
            out.append(x)
            i += 2
            continue
        out.append(x)
        i += 1
    text, out = out, bytearray()
    n = len(text)
    for i, x in enumerate(text):   # " 's", " 'm", " 're", " 've": drop the space
        if i and text[i - 1] == 0x20 and x == 0x27 and i + 1 < n:
            x1 = text[i + 1]
            if x1 in b"sm" or (i + 2 < n and bytes((x1, text[i + 2])) in (b"re", b"ve")):
                out.pop()
        out.append(x)
    return out


class Tokenizer:
    """Encode/decode exactly as llama.cpp does for the vocabulary it was built from."""

    def __init__(self, vocab: Vocab, backend, clean_spaces: bool):
        self._vocab = vocab
        self._backend = backend                # tokenizers.Tokenizer
        self._clean_spaces = clean_spaces
        self._piece = _spm_piece if vocab.kind == KIND_SPM else _byte_level_piece
        self._pieces: dict[int, bytes] = {}
        self._has_placeholder_ids = backend.get_vocab_size(with_added_tokens=False) > vocab.n_vocab

    # ---- identity -------------------------------------------------------------------------
    @property
    def n_vocab(self) -> int:
        return self._vocab.n_vocab

    @property
    def bos_id(self) -> int | None:
        return self._vocab.special["bos"]

    @property
    def eos_id(self) -> int | None:
        return self._vocab.special["eos"]

    @property
    def eog_ids(self) -> set[int]:
        """Ids that end generation (eos, eot, <end_of_turn>, <|im_end|>, ... as llama.cpp has it)."""
        return set(self._vocab.eog_ids)

    @property
    def model(self) -> str:
        return self._vocab.model

    @property
    def pre(self) -> str:
        return self._vocab.pre

    @property
    def add_bos(self) -> bool:
        return self._vocab.add_bos

    @property
    def add_eos(self) -> bool:
        return self._vocab.add_eos

    def token_text(self, token_id: int) -> str:
        """The vocabulary entry itself (e.g. '▁Hello', '<0x0A>', 'Ġworld')."""
        return self._vocab.tokens[self._check_id(token_id)]

    def __repr__(self) -> str:
        return (f"Tokenizer(model={self.model!r}, pre={self.pre!r}, n_vocab={self.n_vocab}, "
                f"bos={self.bos_id}, eos={self.eos_id}, eog={sorted(self._vocab.eog_ids)})")

    # ---- encoding -------------------------------------------------------------------------
    def encode(self, text: str, add_bos: bool | None = None) -> list[int]:
        """Token ids of `text`; special-token texts are not parsed (llama.cpp special=False).

        add_bos=None: like llama.cpp with add_special=True: BOS if the model's add_bos_token,
        EOS if its add_eos_token. True: always BOS (EOS per the model). False: neither.
        """
        if not isinstance(text, str):
            raise TypeError(f"encode() takes a str, not {type(text).__name__}")
        try:
            ids = self._backend.encode(text, add_special_tokens=False).ids
        except Exception as exc:
            if any("\ud800" <= ch <= "\udfff" for ch in text):
                raise ValueError("text contains lone surrogate code points, which have no UTF-8 "
                                 "encoding; decode your bytes with errors='replace' first") from exc
            raise
        if self._has_placeholder_ids:
            ids = self._resolve_placeholders(ids)
        if add_bos is False:
            return ids
        if add_bos or self._vocab.add_bos:
            if self.bos_id is None:
                raise ValueError("this vocabulary has no BOS token (tokenizer.ggml.bos_token_id)")
            ids.insert(0, self.bos_id)
        if self._vocab.add_eos:
            ids.append(self.eos_id)
        return ids

    def _resolve_placeholders(self, ids: list[int]) -> list[int]:
        """Replace ids >= n_vocab (symbols llama.cpp merges with but has no token for): byte
        tokens of the character for SentencePiece vocabularies, nothing for byte-level ones."""
        n_vocab = self._vocab.n_vocab
        if not ids or max(ids) < n_vocab:
            return ids
        out: list[int] = []
        for i in ids:
            if i < n_vocab:
                out.append(i)
            elif self._vocab.kind == KIND_SPM:
                out.extend(self._byte_token(b) for b in self._backend.id_to_token(i).encode())
        return out

    def _byte_token(self, byte: int) -> int:
        for text in (f"<0x{byte:02X}>", chr(byte) if byte < 0x80 else None):
            if text is None:
                continue
            token_id = self._backend.token_to_id(text)
            if token_id is not None and token_id < self._vocab.n_vocab:
                return token_id
        raise ValueError(f"the vocabulary has no byte token for 0x{byte:02X} (<0x{byte:02X}>)")

    # ---- decoding -------------------------------------------------------------------------
    def _check_id(self, token_id: int) -> int:
        if not 0 <= token_id < self._vocab.n_vocab:
            raise ValueError(f"token id {token_id} is outside the vocabulary (0..{self.n_vocab - 1})")
        return token_id

    def token_bytes(self, token_id: int, special: bool = False) -> bytes:
        """Raw bytes of one token's piece, as llama.cpp's token_to_piece gives them: byte tokens
        give their byte, byte-level BPE text is unmapped to bytes, U+2581 becomes a space.
        Control/unknown tokens give b"" unless `special`."""
        token_id = int(token_id)
        piece = self._pieces.get(token_id)
        if piece is None:
            attr = int(self._vocab.attrs[self._check_id(token_id)])
            text = self._vocab.tokens[token_id]
            if attr & (_HIDDEN_UNLESS_SPECIAL | ATTR_USER_DEFINED):
                piece = text.encode()
            else:
                piece = self._piece(text, attr)
            self._pieces[token_id] = piece
        if not special and self._vocab.attrs[token_id] & _HIDDEN_UNLESS_SPECIAL:
            return b""
        return piece

    def detokenize_bytes(self, ids: Iterable[int], special: bool = False) -> bytes:
        """llama.cpp's llama_detokenize(remove_special=False, unparse_special=special) as bytes."""
        pieces = [self.token_bytes(i, special) for i in ids]
        if self._vocab.add_space_prefix and pieces and pieces[0][:1] == b" ":
            pieces[0] = pieces[0][1:]   # the space the tokenizer itself put in front
        text = b"".join(pieces)
        if self._clean_spaces:
            text = bytes(_clean_spaces(bytearray(text)))
        return text

    def decode(self, ids: Iterable[int], special: bool = False) -> str:
        """Text of `ids` as llama.cpp detokenizes it (invalid UTF-8 replaced by U+FFFD)."""
        return self.detokenize_bytes(ids, special).decode("utf-8", errors="replace")


def load_tokenizer(metadata: dict, cache: bool = True) -> Tokenizer:
    """Tokenizer for the vocabulary in GGUF `metadata` (fusedq.load_gguf(path).metadata).

    SentencePiece vocabularies derive their merges once and keep them in the fusedq cache
    directory (see tokenizer_cache.py) unless cache=False.
    Raises ValueError for vocabularies fusedq cannot reproduce, naming the supported ones.
    """
    pre = None
    if tokenizer_kind(metadata) != KIND_SPM:
        pre = pre_tokenizer(metadata.get("tokenizer.ggml.pre") or "default")
    vocab = read_vocab(metadata, pre.add_bos if pre is not None else False)
    spm_merges = None
    if vocab.kind == KIND_SPM:
        spm_merges = _spm_merges(vocab, metadata.get("tokenizer.ggml.scores"), cache)
    else:
        check_unique(vocab.tokens)
    backend = build_tokenizer(vocab, metadata, pre, spm_merges)
    vocab.tokens = BackendTokenTexts(backend, vocab.n_vocab)   # the list of str goes
    clean = pre.clean_spaces if pre is not None else False
    return Tokenizer(vocab, backend, clean)


def _spm_merges(vocab: Vocab, scores, cache: bool) -> SpmMerges:
    key = tokenizer_cache.cache_key(vocab.tokens, scores) if cache else None
    merges = tokenizer_cache.load(key, vocab.n_vocab) if key is not None else None
    if merges is None:
        check_unique(vocab.tokens)
        merges = derive_spm_merges(vocab.tokens, scores)
        if key is not None:
            tokenizer_cache.store(key, merges)
    return merges
