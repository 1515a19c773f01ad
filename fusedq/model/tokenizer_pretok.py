"""Pre-tokenizers of byte-level BPE vocabularies, chosen by `tokenizer.ggml.pre` as llama.cpp does.

Each pre-tokenizer is a sequence of regex splits (every match and every gap between matches becomes
a piece). The regexes are llama.cpp's, but every class (letters, numbers, punctuation, whitespace)
is spelled as explicit code-point ranges taken from llama.cpp's own Unicode tables
(tokenizer_unicode.py): the regex engine inside `tokenizers` follows a newer Unicode version and
would classify some thousands of code points differently. No `\\s`, `\\p{..}` or `(?i)` remains.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from . import tokenizer_unicode as uni


def _class_body(ranges) -> str:
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)


@lru_cache(maxsize=None)
def _classes() -> dict[str, str]:
    """Class bodies (without brackets) to format into the regex templates."""
    return {"L": _class_body(uni.LETTER), "N": _class_body(uni.NUMBER),
            "P": _class_body(uni.PUNCTUATION), "WS": _class_body(uni.WHITESPACE),
            "CRLF": "\\x{D}\\x{A}"}


# templates: {L} {N} {P} {WS} {CRLF} are class bodies; literal braces are doubled
GPT2 = ("'s|'t|'re|'ve|'m|'ll|'d| ?[{L}]+| ?[{N}]+| ?[^{WS}{L}{N}]+"
        "|[{WS}]+(?![^{WS}])|[{WS}]+")
CONTRACTIONS_ANY_CASE = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]"
LLAMA3 = (CONTRACTIONS_ANY_CASE + "|[^{CRLF}{L}{N}]?[{L}]+|[{N}]{{1,3}}| ?[^{WS}{L}{N}]+[{CRLF}]*"
          "|[{WS}]*[{CRLF}]+|[{WS}]+(?![^{WS}])|[{WS}]+")
QWEN2 = (CONTRACTIONS_ANY_CASE + "|[^{CRLF}{L}{N}]?[{L}]+|[{N}]| ?[^{WS}{L}{N}]+[{CRLF}]*"
         "|[{WS}]*[{CRLF}]+|[{WS}]+(?![^{WS}])|[{WS}]+")
SINGLE_DIGIT = "[{N}]"
DEFAULT_PUNCT = "[{P}$+<=>^~|]+"
DIGIT_RUNS = "[{N}]+"
THREE_ASCII_DIGITS = "[0-9][0-9][0-9]"


@dataclass(frozen=True)
class PreTokenizer:
    name: str                 # family name, for messages
    regexes: tuple[str, ...]  # templates, applied in order
    ignore_merges: bool = False   # a piece that is a whole vocabulary token is taken as is
    add_bos: bool = False         # llama.cpp's default when add_bos_token is absent
    clean_spaces: bool = True     # llama.cpp's clean-up of " ." etc. when detokenizing

    def patterns(self) -> list[str]:
        classes = _classes()
        return [template.format(**classes) for template in self.regexes]


_GPT2 = PreTokenizer("gpt2", (GPT2,))
_GPT2_CLEAN_OFF = PreTokenizer("gpt2", (GPT2,), clean_spaces=False)
_STARCODER = PreTokenizer("starcoder", (SINGLE_DIGIT, GPT2))
_STARCODER_CLEAN_OFF = PreTokenizer("starcoder", (SINGLE_DIGIT, GPT2), clean_spaces=False)
_LLAMA3 = PreTokenizer("llama3", (LLAMA3,), ignore_merges=True, add_bos=True)
_DBRX = PreTokenizer("dbrx", (LLAMA3,))
_QWEN2 = PreTokenizer("qwen2", (QWEN2,), clean_spaces=False)
_QWEN2_CLEAN_ON = PreTokenizer("qwen2", (QWEN2,))
_DEFAULT = PreTokenizer("default", (DEFAULT_PUNCT, GPT2, DIGIT_RUNS, THREE_ASCII_DIGITS))

# tokenizer.ggml.pre -> pre-tokenizer (llama.cpp's grouping and per-name flags)
PRE_TOKENIZERS: dict[str, PreTokenizer] = {
    "default": _DEFAULT,
    **dict.fromkeys(("gpt-2", "phi-2", "gigachat", "a.x-4.0", "mellum", "exaone4", "mpt", "olmo",
                     "jais"), _GPT2),
    **dict.fromkeys(("trillion", "granite-docling"), _GPT2_CLEAN_OFF),
    **dict.fromkeys(("starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"),
                    _STARCODER),
    **dict.fromkeys(("smollm", "command-r"), _STARCODER_CLEAN_OFF),
    **dict.fromkeys(("llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                     "midm-2.0", "lfm2"), _LLAMA3),
    **dict.fromkeys(("dbrx", "smaug-bpe"), _DBRX),
    **dict.fromkeys(("qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2"), _QWEN2),
    **dict.fromkeys(("megrez", "stablelm2"), _QWEN2_CLEAN_ON),
}


def pre_tokenizer(pre: str) -> PreTokenizer:
    try:
        return PRE_TOKENIZERS[pre]
    except KeyError:
        raise ValueError(
            f"unsupported pre-tokenizer {pre!r} (tokenizer.ggml.pre) for a 'gpt2' vocabulary: "
            f"fusedq supports {', '.join(sorted(PRE_TOKENIZERS))}") from None
