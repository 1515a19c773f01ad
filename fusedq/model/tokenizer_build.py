"""Build a `tokenizers.Tokenizer` that reproduces llama.cpp's tokenization of a GGUF vocabulary.

Two recipes, keyed by vocabulary kind:
- SentencePiece-style (`llama`, e.g. Gemma 3): BPE over characters with byte fallback to <0xXX>
  tokens; merges are every pair (a, b) with a, b and a+b in the vocabulary, ranked by the score
  of a+b (highest first, ties by id), which is the order llama.cpp's SPM tokenizer merges in;
  spaces become U+2581, with a U+2581 prefix on every text fragment when add_space_prefix is set.
- byte-level BPE (`gpt2`, e.g. SmolLM2): the file's merges in order, the pre-tokenizer chosen by
  `tokenizer.ggml.pre`, then byte-level mapping. Byte symbols missing from the vocabulary are
  kept during merging as extra ids beyond n_vocab (they block merges, as in llama.cpp), and the
  caller drops those ids afterwards.
Both: user-defined tokens are cut out of the text first (llama.cpp does so even when special
tokens are not parsed); control tokens are not added, so plain text never turns into them.
"""
from __future__ import annotations

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


def _spm_merges(vocab: Vocab, scores: np.ndarray | None) -> list[tuple[str, str]]:
    """Every split (a, b) of every token with both halves in the vocabulary, in merge order."""
    index = {t: i for i, t in enumerate(vocab.tokens)}
    results: list[int] = []
    pairs: list[tuple[str, str]] = []
    for tid, text in enumerate(vocab.tokens):
        for cut in range(1, len(text)):
            left = text[:cut]
            if left in index:
                right = text[cut:]
                if right in index:
                    results.append(tid)
                    pairs.append((left, right))
    if not pairs:
        return []
    result_ids = np.asarray(results, dtype=np.int64)
    score = (np.zeros(len(results), dtype=np.float32) if scores is None
             else np.asarray(scores, dtype=np.float32)[result_ids])
    order = np.lexsort((result_ids, -score))   # score descending, then id ascending
    return [pairs[j] for j in order.tolist()]


def _spm_tokenizer(vocab: Vocab, metadata: dict) -> Tokenizer:
    scores = metadata.get("tokenizer.ggml.scores")
    if scores is not None and len(scores) < vocab.n_vocab:
        raise ValueError(f"tokenizer.ggml.scores has {len(scores)} entries for {vocab.n_vocab} tokens")
    # spaces never reach the merges (escaped to U+2581 first), so pairs containing one are dropped
    merges = [m for m in _spm_merges(vocab, scores) if " " not in m[0] and " " not in m[1]]
    unk_id = vocab.special["unk"]
    model = models.BPE(
        vocab={t: i for i, t in enumerate(vocab.tokens)}, merges=merges, byte_fallback=True,
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


def _bpe_tokenizer(vocab: Vocab, metadata: dict, pre: PreTokenizer) -> Tokenizer:
    token_ids = {t: i for i, t in enumerate(vocab.tokens)}
    for symbol in byte_to_unicode().values():
        if symbol not in token_ids:
            token_ids[symbol] = len(token_ids)   # placeholder id >= n_vocab, dropped after encoding
    merges = _merge_pairs(metadata)
    for rank, (left, right) in enumerate(merges):
        for part in (left, right, left + right):
            if part not in token_ids:
                raise ValueError(
                    f"tokenizer.ggml.merges[{rank}] = {left + ' ' + right!r} uses {part!r}, "
                    "which is not in the vocabulary")
    model = models.BPE(vocab=token_ids, merges=merges, ignore_merges=pre.ignore_merges,
                       fuse_unk=False)
    tok = Tokenizer(model)
    splits = [pre_tokenizers.Split(Regex(p), behavior="isolated") for p in pre.patterns()]
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        splits + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    return tok


def build_tokenizer(vocab: Vocab, metadata: dict, pre: PreTokenizer | None) -> Tokenizer:
    tok = (_spm_tokenizer(vocab, metadata) if vocab.kind == KIND_SPM
           else _bpe_tokenizer(vocab, metadata, pre))
    tok.add_tokens([AddedToken(vocab.tokens[i], normalized=False, special=False)
                    for i in vocab.split_out_ids()])
    return tok
