"""What llama.cpp makes of a GGUF vocabulary: token attributes, special ids, flags, end-of-generation set.

llama.cpp does not take the file's token types at face value: it overrides the attributes of a
fixed list of control-looking texts, picks special ids by text when the metadata lacks them, and
defaults flags per tokenizer model. This module reproduces those rules (as facts, in tables) so the
tokenizer splits out, renders and stops on exactly the tokens llama.cpp does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# token attributes (bit flags, llama.h)
ATTR_UNDEFINED, ATTR_UNKNOWN, ATTR_UNUSED, ATTR_NORMAL = 0, 1 << 0, 1 << 1, 1 << 2
ATTR_CONTROL, ATTR_USER_DEFINED, ATTR_BYTE = 1 << 3, 1 << 4, 1 << 5
# GGUF token_type value -> attribute (anything else: undefined)
TYPE_TO_ATTR = {2: ATTR_UNKNOWN, 5: ATTR_UNUSED, 1: ATTR_NORMAL, 3: ATTR_CONTROL,
                4: ATTR_USER_DEFINED, 6: ATTR_BYTE}

KIND_SPM, KIND_BPE = "spm", "bpe"
TOKENIZER_KINDS = {"llama": KIND_SPM, "gpt2": KIND_BPE}

K = "tokenizer.ggml."
# special-id slots: name -> metadata keys (first present wins, later keys are deprecated aliases)
SPECIAL_KEYS = {
    "bos": (K + "bos_token_id",), "eos": (K + "eos_token_id",), "eot": (K + "eot_token_id",),
    "eom": (K + "eom_token_id",), "unk": (K + "unknown_token_id",),
    "sep": (K + "seperator_token_id",), "pad": (K + "padding_token_id",),
    "mask": (K + "mask_token_id",),
    "fim_pre": (K + "fim_pre_token_id", K + "prefix_token_id"),
    "fim_suf": (K + "fim_suf_token_id", K + "suffix_token_id"),
    "fim_mid": (K + "fim_mid_token_id", K + "middle_token_id"),
    "fim_pad": (K + "fim_pad_token_id",), "fim_rep": (K + "fim_rep_token_id",),
    "fim_sep": (K + "fim_sep_token_id",),
}
# llama.cpp's default ids per tokenizer kind when the metadata has none
DEFAULT_SPECIAL = {KIND_SPM: {"bos": 1, "eos": 2, "unk": 0}, KIND_BPE: {"bos": 11, "eos": 11}}

# slots llama.cpp fills by token text when the metadata leaves them unset; the chosen token
# becomes a control token
SLOT_TEXTS = {
    "eot": ("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
            "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
            "<end_of_utterance>"),
    "eom": ("<|eom_id|>",),
    "fim_pre": ("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>",
                "▁<PRE>", "<|code_prefix|>", "<|prefix|>"),
    "fim_suf": ("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>",
                "▁<SUF>", "<|code_suffix|>", "<|suffix|>"),
    "fim_mid": ("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>",
                "▁<MID>", "<|code_middle|>", "<|middle|>"),
    "fim_pad": ("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"),
    "fim_rep": ("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"),
    "fim_sep": ("<|file_sep|>",),
}
# texts that always end generation (and are forced to control tokens)
EOG_TEXTS = ("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
             "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
             "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>",
             "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[")
EOG_SLOTS = ("fim_pad", "fim_rep", "fim_sep")
# texts whose attribute llama.cpp resets to plain user-defined
FORCED_USER_DEFINED = ("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>")
# (texts required in the EOG set, each a tuple of alternatives; text then dropped from the set;
#  attribute it gets instead)
_CALL = ("<|call|>", "<|calls|>")
EOG_EXCEPTIONS = (
    ((("<|return|>",), _CALL, ("<|end|>",)), "<|end|>", ATTR_USER_DEFINED),
    ((_CALL, ("<|flush|>",), ("<|end|>",)), "<|end|>", ATTR_USER_DEFINED),
    ((("<|tool_response>",), ("</s>",)), "</s>", ATTR_NORMAL),
)


class BackendTokenTexts:
    """The token texts, read back from the built `tokenizers` model (it holds them anyway):
    keeping a Python list of Gemma's 262,144 strings would cost another ~22 MB."""

    def __init__(self, backend, n: int) -> None:
        self._id_to_token = backend.id_to_token
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> str:
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"token id {i} out of range for {self._n} tokens")
        return self._id_to_token(i)

    def __iter__(self):
        return (self[i] for i in range(self._n))


@dataclass
class Vocab:
    """The vocabulary as llama.cpp sees it after loading."""
    kind: str                       # KIND_SPM or KIND_BPE
    model: str                      # tokenizer.ggml.model
    pre: str                        # tokenizer.ggml.pre ("default" when absent)
    tokens: "list[str] | BackendTokenTexts"   # a list while the tokenizer is built
    attrs: np.ndarray               # int32 [n_vocab] attribute bits after llama.cpp's overrides
    special: dict[str, int | None]  # slot name -> id
    add_bos: bool
    add_eos: bool
    add_space_prefix: bool
    eog_ids: set[int] = field(default_factory=set)

    @property
    def n_vocab(self) -> int:
        return len(self.tokens)

    def split_out_ids(self) -> list[int]:
        """Tokens cut out of plain text before BPE when special tokens are not parsed:
        user-defined ones, unless llama.cpp also counts them as control/unknown."""
        split = ((self.attrs & ATTR_USER_DEFINED) != 0) & ((self.attrs & (ATTR_CONTROL | ATTR_UNKNOWN)) == 0)
        return np.flatnonzero(split).tolist()


def _metadata_flag(metadata: dict, key: str, default: bool) -> bool:
    value = metadata.get(key)
    return default if value is None else bool(value)


def _string_list(metadata: dict, key: str) -> list[str] | None:
    """metadata[key] when it is a list of strings, None when absent; ValueError otherwise."""
    value = metadata.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"GGUF metadata {key} must be an array of strings, "
                         f"got {type(value).__name__}")
    return value


def _tokens(metadata: dict) -> list[str]:
    tokens = _string_list(metadata, K + "tokens")
    if tokens is None or len(tokens) == 0:
        raise ValueError(f"GGUF metadata has no {K}tokens: this file carries no vocabulary")
    if "" in tokens:   # llama.cpp renames empty entries
        tokens = [t if t else f"[EMPTY_{i}]" for i, t in enumerate(tokens)]
    return list(tokens)


def check_unique(tokens: list[str]) -> None:
    """llama.cpp refuses vocabularies with a repeated entry; so does fusedq (at build time)."""
    if len(set(tokens)) != len(tokens):
        seen: dict[str, int] = {}
        for i, t in enumerate(tokens):
            if t in seen:
                raise ValueError(f"duplicate token in vocabulary: {t!r} has ids {seen[t]} and {i}")
            seen[t] = i


def _attrs(metadata: dict, n_vocab: int) -> np.ndarray:
    types = metadata.get(K + "token_type")
    if types is None:
        return np.full(n_vocab, ATTR_NORMAL, dtype=np.int32)
    types = np.asarray(types)
    if len(types) < n_vocab:
        raise ValueError(f"{K}token_type has {len(types)} entries for {n_vocab} tokens")
    lut = np.zeros(8, dtype=np.int32)
    for t, a in TYPE_TO_ATTR.items():
        lut[t] = a
    types = types[:n_vocab].astype(np.int64)
    return np.where((types >= 0) & (types < 8), lut[np.clip(types, 0, 7)], ATTR_UNDEFINED).astype(np.int32)


def _special_ids(metadata: dict, kind: str, n_vocab: int) -> dict[str, int | None]:
    special: dict[str, int | None] = {}
    for slot, keys in SPECIAL_KEYS.items():
        default = DEFAULT_SPECIAL[kind].get(slot)
        value = default if default is not None and default < n_vocab else None
        for key in keys:
            if key in metadata:
                new = metadata[key]
                if isinstance(new, bool) or not isinstance(new, int):
                    raise ValueError(f"GGUF metadata {key} must be an integer token id, "
                                     f"got {new!r}")
                if 0 <= new < n_vocab:   # llama.cpp keeps the default for out-of-range ids
                    value = new
                break
        special[slot] = value
    return special


def tokenizer_kind(metadata: dict) -> str:
    """KIND_SPM or KIND_BPE for tokenizer.ggml.model; ValueError naming the supported ones."""
    model = metadata.get(K + "model")
    if model not in TOKENIZER_KINDS:
        raise ValueError(
            f"unsupported tokenizer model {model!r} ({K}model): fusedq supports "
            f"{', '.join(repr(m) for m in TOKENIZER_KINDS)}")
    return TOKENIZER_KINDS[model]


def read_vocab(metadata: dict, bpe_add_bos_default: bool = False) -> Vocab:
    """Build the llama.cpp view of the vocabulary. `bpe_add_bos_default` is the pre-tokenizer's
    default for add_bos_token (SentencePiece vocabularies default to true)."""
    kind = tokenizer_kind(metadata)
    model = metadata[K + "model"]
    pre = metadata.get(K + "pre") or "default"
    tokens = _tokens(metadata)
    _string_list(metadata, K + "merges")   # type-checked here, parsed by the BPE builder
    n_vocab = len(tokens)
    attrs = _attrs(metadata, n_vocab)
    special = _special_ids(metadata, kind, n_vocab)
    add_bos_default = True if kind == KIND_SPM else bpe_add_bos_default
    vocab = Vocab(
        kind=kind, model=model, pre=pre, tokens=tokens, attrs=attrs, special=special,
        add_bos=_metadata_flag(metadata, K + "add_bos_token", add_bos_default),
        add_eos=_metadata_flag(metadata, K + "add_eos_token", False),
        add_space_prefix=_metadata_flag(metadata, K + "add_space_prefix", kind == KIND_SPM),
    )
    if vocab.add_bos and special["bos"] is None:
        raise ValueError(f"{K}add_bos_token is true, but {K}bos_token_id is not set")
    if vocab.add_eos and special["eos"] is None:
        raise ValueError(f"{K}add_eos_token is true, but {K}eos_token_id is not set")
    _apply_text_rules(vocab)
    return vocab


def _apply_text_rules(vocab: Vocab) -> None:
    """llama.cpp's by-text fix-ups: slot detection, control overrides and the EOG set."""
    wanted = set(EOG_TEXTS) | set(FORCED_USER_DEFINED)
    for texts in SLOT_TEXTS.values():
        wanted.update(texts)
    found = {t: i for i, t in enumerate(vocab.tokens) if t in wanted}
    attrs, special = vocab.attrs, vocab.special

    for slot, texts in SLOT_TEXTS.items():
        if special[slot] is not None:
            continue
        ids = [found[t] for t in texts if t in found]
        if ids:
            # llama.cpp takes the first match in hash order; with one candidate (the usual case)
            # that is the same token. Several candidates: fusedq takes the lowest id.
            special[slot] = min(ids)
            attrs[special[slot]] |= ATTR_CONTROL

    eog = {special[s] for s in EOG_SLOTS if special[s] is not None}
    for text in EOG_TEXTS:
        if text in found:
            eog.add(found[text])
            attrs[found[text]] |= ATTR_CONTROL
    for text in FORCED_USER_DEFINED:
        if text in found:
            attrs[found[text]] = ATTR_USER_DEFINED
    eog.update(special[s] for s in ("eos", "eot", "eom") if special[s] is not None)

    eog_texts = {vocab.tokens[i] for i in eog}
    for required, dropped, attr in EOG_EXCEPTIONS:
        if all(any(t in eog_texts for t in options) for options in required):
            eog.discard(found[dropped])
            attrs[found[dropped]] = attr
    vocab.eog_ids = eog
