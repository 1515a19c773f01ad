"""Build a `tokenizers.Tokenizer` that reproduces llama.cpp's tokenization of a GGUF vocabulary.

Two recipes, keyed by vocabulary kind:
- SentencePiece-style (`llama`, e.g. Gemma 3): BPE over characters with byte fallback to <0xXX>
  tokens; merges are every pair (a, b) with a, b and a+b in the vocabulary, ranked by the score
  of a+b (highest first, ties by id), which is the order llama.cpp's SPM tokenizer merges in;
  spaces become U+2581, with a U+2581 prefix on every text fragment when add_space_prefix is set.
  llama.cpp starts from characters whether or not they are tokens; a character that occurs inside
  tokens but is not one itself gets a placeholder id beyond n_vocab (so it can merge), and the
  caller turns a leftover placeholder into byte tokens, as llama.cpp does. Deriving the merges
  is the slow step (seconds for Gemma's 262,144 tokens); tokenizer_cache.py keeps the result.
- byte-level BPE (`gpt2`, e.g. SmolLM2): the file's merges in order, the pre-tokenizer chosen by
  `tokenizer.ggml.pre`, then byte-level mapping. Byte symbols missing from the vocabulary are
  kept during merging as placeholder ids beyond n_vocab (they block merges, as in llama.cpp), and
  the caller drops those ids afterwards.
Both: user-defined tokens are cut out of the text first (llama.cpp does so even when special
tokens are not parsed); control tokens are not added, so plain text never turns into them.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from tokenizers import AddedToken, Regex, Tokenizer, models, normalizers, pre_tokenizers

from .tokenizer_pretok import PreTokenizer
from .tokenizer_vocab import KIND_SPM, Vocab

SPACE_ESCAPE = "\u2581"


def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table (used by llama.cpp too)."""
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


@dataclass(frozen=True)
class SpmMerges:
    """The derived part of a SentencePiece recipe (slow to compute, cached on disk):
    placeholder symbols (ids n_vocab, n_vocab+1, ...) and merges as id pairs, in merge order."""
    placeholders: list[str]
    pairs: np.ndarray          # int32 [n_merges, 2]


def derive_spm_merges(tokens: list[str], scores) -> SpmMerges:
    """The splits (a, b) of tokens with both halves known that can fire, ranked by the score of
    a+b (descending, ties by id). Characters inside tokens that are not tokens get placeholders;
    spaces never reach the merges (escaped to U+2581 first), so pairs with one are left out."""
    if scores is not None and len(scores) < len(tokens):
        raise ValueError(f"tokenizer.ggml.scores has {len(scores)} entries for {len(tokens)} tokens")
    index = {t: i for i, t in enumerate(tokens)}
    placeholders = sorted(set().union(*map(set, tokens)) - index.keys() - {" "})
    for ch in placeholders:
        index[ch] = len(index)
    results: list[int] = []
    lefts: list[int] = []
    rights: list[int] = []
    for tid, text in enumerate(tokens):
        if " " in text:
            continue
        for cut in range(1, len(text)):
            left = index.get(text[:cut])
            if left is not None:
                right = index.get(text[cut:])
                if right is not None:
                    results.append(tid)
                    lefts.append(left)
                    rights.append(right)
    result_ids = np.asarray(results, dtype=np.int64)
    pairs = np.stack([np.asarray(lefts, np.int32), np.asarray(rights, np.int32)], axis=1)
    keep = _firing_splits(tokens, scores, index, result_ids, pairs)
    result_ids, pairs = result_ids[keep], pairs[keep]
    score = (np.zeros(len(result_ids), dtype=np.float32) if scores is None
             else np.asarray(scores, dtype=np.float32)[result_ids])
    order = np.lexsort((result_ids, -score))
    return SpmMerges(placeholders, np.ascontiguousarray(pairs[order].reshape(-1, 2)))


def _firing_splits(tokens, scores, index, result_ids, pairs) -> np.ndarray:
    """Mask of the splits that can ever fire. While a token t forms anywhere, no merge crosses
    its span, so the merges inside the span happen exactly as when t's text is tokenized alone;
    hence only the last merge of that isolated run ever produces t. Tokens with one candidate
    split keep it; for the others the isolated run (llama.cpp's rule: highest score, leftmost on
    ties) picks the split, and a token the run never reaches keeps none. Dropping splits that
    never fire changes no result and halves what `tokenizers` has to load."""
    keep = np.ones(len(result_ids), dtype=bool)
    if len(result_ids) == 0:
        return keep
    starts = np.flatnonzero(np.r_[True, result_ids[1:] != result_ids[:-1]])
    ends = np.r_[starts[1:], len(result_ids)]
    score_of = dict(zip(tokens, (np.zeros(len(tokens)) if scores is None
                                 else np.asarray(scores, dtype=np.float32)[:len(tokens)]).tolist()))
    for start, end in zip(starts.tolist(), ends.tolist()):
        if end - start < 2:
            continue
        text = tokens[int(result_ids[start])]
        last = _isolated_last_merge(text, score_of)
        for row in range(start, end):
            keep[row] = last is not None and (index[last[0]], index[last[1]]) == tuple(pairs[row])
    return keep


def _isolated_last_merge(text: str, score_of: dict[str, float]) -> tuple[str, str] | None:
    """The final merge of llama.cpp's SPM run on `text` alone, if the run ends in one symbol."""
    symbols = list(text)
    last = None
    while len(symbols) > 1:
        best, at = None, -1
        for i in range(len(symbols) - 1):
            score = score_of.get(symbols[i] + symbols[i + 1])
            if score is not None and (best is None or score > best):
                best, at = score, i
        if at < 0:
            return None
        last = (symbols[at], symbols[at + 1])
        symbols[at:at + 2] = [symbols[at] + symbols[at + 1]]
    return last


def _spm_tokenizer(vocab: Vocab, derived: SpmMerges) -> Tokenizer:
    symbols = vocab.tokens + derived.placeholders
    by_id = np.array(symbols, dtype=object)
    merges = list(zip(by_id[derived.pairs[:, 0]].tolist(), by_id[derived.pairs[:, 1]].tolist()))
    unk_id = vocab.special["unk"]
    model = models.BPE(
        vocab=dict(zip(symbols, range(len(symbols)))), merges=merges, byte_fallback=True,
        unk_token=vocab.tokens[unk_id] if unk_id is not None else None, fuse_unk=False)
    tok = Tokenizer(model)
    escape = normalizers.Replace(" ", SPACE_ESCAPE)
    tok.normalizer = (normalizers.Sequence([normalizers.Prepend(SPACE_ESCAPE), escape])
                      if vocab.add_space_prefix else escape)
    return tok


def _merge_pairs(metadata: dict) -> list[tuple[str, str]]:
    merges = metadata.get("tokenizer.ggml.merges")
    if merges is None:
        raise ValueError("a 'gpt2' vocabulary needs tokenizer.ggml.merges, which this file lacks")
    pairs = []
    for rank, line in enumerate(merges):
        cut = line.find(" ", 1)
        if cut < 0:
            raise ValueError(f"tokenizer.ggml.merges[{rank}] = {line!r} is not 'left right'")
        pairs.append((line[:cut], line[cut + 1:]))
    return pairs


def _bad_merge(merges: list[tuple[str, str]], token_ids: dict[str, int]) -> str | None:
    for rank, (left, right) in enumerate(merges):
        for part in (left, right, left + right):
            if part not in token_ids:
                return (f"tokenizer.ggml.merges[{rank}] = {left + ' ' + right!r} uses {part!r}, "
                        "which is not in the vocabulary")
    return None


def _bpe_tokenizer(vocab: Vocab, metadata: dict, pre: PreTokenizer) -> Tokenizer:
    token_ids = dict(zip(vocab.tokens, range(vocab.n_vocab)))
    for symbol in byte_to_unicode().values():
        if symbol not in token_ids:
            token_ids[symbol] = len(token_ids)   # placeholder id >= n_vocab, dropped after encoding
    merges = _merge_pairs(metadata)
    try:
        model = models.BPE(vocab=token_ids, merges=merges, ignore_merges=pre.ignore_merges,
                           fuse_unk=False)
    except Exception as exc:
        raise ValueError(_bad_merge(merges, token_ids) or f"invalid merges: {exc}") from exc
    tok = Tokenizer(model)
    splits = [pre_tokenizers.Split(Regex(p), behavior="isolated") for p in pre.patterns()]
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        splits + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    return tok


@contextmanager
def _no_cyclic_gc():
    """Hundreds of thousands of new tuples would trigger the cyclic collector over and over
    (none of them can form cycles); pause it while building."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_tokenizer(vocab: Vocab, metadata: dict, pre: PreTokenizer | None,
                    spm_merges: SpmMerges | None = None) -> Tokenizer:
    """The `tokenizers` pipeline; SentencePiece vocabularies need their derived merges."""
    with _no_cyclic_gc():
        return _build(vocab, metadata, pre, spm_merges)


def _build(vocab: Vocab, metadata: dict, pre: PreTokenizer | None,
           spm_merges: SpmMerges | None) -> Tokenizer:
    tok = (_spm_tokenizer(vocab, spm_merges) if vocab.kind == KIND_SPM
           else _bpe_tokenizer(vocab, metadata, pre))
    tok.add_tokens([AddedToken(vocab.tokens[i], normalized=False, special=False)
                    for i in vocab.split_out_ids()])
    return tok
