"""fusedq's tokenizer against llama.cpp itself (llama-cpp-python) on thousands of generated texts.

Skipped when llama_cpp is not importable (it is a comparison peer, never a fusedq dependency).
The texts cover every Unicode plane, scripts, emoji sequences, whitespace runs, numerals, code,
contractions, special-token look-alikes, random bytes and random concatenations of vocabulary
pieces. FUSEDQ_TOKENIZER_FUZZ=N raises the number of texts per category (default 150).
"""
from __future__ import annotations

import ctypes
import os
import random

import pytest

import fusedq
from fusedq.model.tokenizer import load_tokenizer

llama_cpp = pytest.importorskip("llama_cpp")

N_PER_CATEGORY = int(os.environ.get("FUSEDQ_TOKENIZER_FUZZ", "150"))

SCRIPT_RANGES = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x530, 0x58F), (0x590, 0x5FF),
    (0x600, 0x6FF), (0x900, 0x97F), (0x980, 0x9FF), (0xB80, 0xBFF), (0xE00, 0xE7F), (0x10A0, 0x10FF),
    (0x1100, 0x11FF), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F),
    (0x2190, 0x22FF), (0x2460, 0x24FF), (0x2500, 0x259F), (0x3000, 0x303F), (0x3040, 0x30FF),
    (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF), (0x1F300, 0x1FAFF), (0x1D400, 0x1D7FF),
    (0x20000, 0x2A6DF), (0x0300, 0x036F), (0xFE00, 0xFE0F), (0xE000, 0xF8FF),
]
WHITESPACE = [" ", " ", " ", "\t", "\n", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2009", "\u0085",
              "\u200b", "\x0b", "\x0c", "\x1c", "\x1f", "\u2028", "\u202f", "\u1680", "\u180e"]
NUMERALS = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９", "²³¹⁴⁵", "½¼¾⅓",
            "ⅠⅡⅢⅣⅫ", "①②③⑳", "〇一二三", "𝟎𝟏𝟐𝟗", "፩፪፫", "𐄇𐄈"]
WORDS = ["hello", "Hello", "HELLO", "world", "the", "The", "café", "naïve", "Straße", "über",
         "привет", "Москва", "γειά", "שלום", "مرحبا", "नमस्ते", "こんにちは", "東京", "안녕하세요",
         "ภาษาไทย", "ქართული", "Ελλάδα", "español", "français", "tiếng", "Việt", "İstanbul",
         "ǅemal", "ﬁnance", "x²", "e̊", "ña", "a\u0301", "🙂", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "✔︎",
         "http://example.com/a?b=1&c=2", "user@mail.org", "#include", "std::vector<int>", "λx.x"]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL",
                "'D", "’s", "'x", "''", "'"]
CODE = ["def f(x):\n    return x + 1\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
        "if __name__ == '__main__':\n    main()", "const x = () => { return `${a}`; };",
        "<div class=\"a\">\n  <p>hi</p>\n</div>", "SELECT * FROM t WHERE id = 42;",
        "    \n\t\t\n", "x = [1, 2, 3]  # comment", "#!/bin/bash\necho $HOME && ls -la | grep x",
        "{\"key\": [1, 2.5e-3, null, true]}", "a == b != c <= d >= e", "/* comment */ int main() {}"]


def _special_like(vocab_tokens: list[str], rng: random.Random) -> str:
    fixed = ["<eos>", "<bos>", "</s>", "<s>", "<pad>", "<unk>", "<mask>", "<start_of_turn>",
             "<end_of_turn>", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "[multimodal]",
             "<0x41>", "<0x0A>", "<table>", "</div>", "<br>", "<unused12>", "▁", "▁▁", "Ġ", "Ċ",
             "<start_of_image>", "<reponame>", "<file_sep>", "<jupyter_code>"]
    pieces = [rng.choice(fixed) if rng.random() < 0.6 else rng.choice(vocab_tokens)
              for _ in range(rng.randint(1, 6))]
    return "".join(p + rng.choice(["", "", " ", "\n", "x", "  "]) for p in pieces)


def _random_codepoint(rng: random.Random, lo: int, hi: int) -> str:
    while True:
        c = rng.randint(lo, hi)
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


def generate_texts(vocab_tokens: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts: list[str] = []
    for _ in range(n):
        texts.append("".join(_random_codepoint(rng, 0, 0x10FFFF) for _ in range(rng.randint(1, 12))))
        lo, hi = rng.choice(SCRIPT_RANGES)
        texts.append("".join(_random_codepoint(rng, lo, hi) if rng.random() < 0.85
                             else rng.choice(WHITESPACE) for _ in range(rng.randint(1, 30))))
        texts.append("".join(rng.choice(WORDS) + rng.choice(WHITESPACE + ["", ",", ".", "!"])
                             for _ in range(rng.randint(1, 10))))
        texts.append("".join(rng.choice(WHITESPACE) * rng.randint(1, 40) + rng.choice(WORDS + [""])
                             for _ in range(rng.randint(1, 5))))
        texts.append("".join(rng.choice(rng.choice(NUMERALS)) * rng.randint(1, 3)
                             + rng.choice(["", " ", ".", ",", "a", "-", "\n", "x"])
                             for _ in range(rng.randint(1, 12))))
        texts.append("".join(rng.choice(["I", "you", "they", "it", " it", "DON", "x", " "])
                             + rng.choice(CONTRACTIONS) + rng.choice(["", " ", "s", "\n"])
                             for _ in range(rng.randint(1, 6))))
        code = rng.choice(CODE)
        cut = sorted(rng.sample(range(len(code) + 1), 2))
        texts.append(code[cut[0]:] + rng.choice(CODE)[:cut[1]])
        texts.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 24))).decode("latin-1"))
        texts.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 24))).decode(
            "utf-8", errors="replace"))
        texts.append(_special_like(vocab_tokens, rng))
        texts.append("".join(rng.choice(vocab_tokens).replace("▁", rng.choice([" ", "▁"]))
                             for _ in range(rng.randint(1, 8))))
        texts.append(rng.choice(WHITESPACE).join(rng.choice(vocab_tokens) for _ in range(rng.randint(1, 5))))
    for _ in range(max(1, n // 20)):   # a few long mixed documents
        texts.append("".join(rng.choice(texts) for _ in range(40)))
    return texts


class LlamaCppVocab:
    """llama.cpp's tokenizer and detokenizer for one GGUF (vocab_only: no weights loaded)."""

    def __init__(self, path):
        self.llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=True, special=False)

    def detokenize(self, ids: list[int], special: bool = False) -> bytes:
        arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
        size = 64 + 64 * len(ids)
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(self.vocab, arr, len(ids), buf, size, False, special)
        assert 0 <= n <= size
        return buf.raw[:n]

    def is_eog(self, token_id: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token_id))


MODELS = {"gemma3": "gemma_path", "smollm2": "smollm_path"}


@pytest.fixture(scope="module", params=list(MODELS))
def pair(request):
    path = request.getfixturevalue(MODELS[request.param])
    tok = load_tokenizer(fusedq.load_gguf(path).metadata)
    return request.param, tok, LlamaCppVocab(path)


def _vocab_texts(tok) -> list[str]:
    return [tok.token_text(i) for i in range(0, tok.n_vocab, 7)]


def test_generated_texts_match_llama_cpp(pair):
    name, tok, ref = pair
    texts = generate_texts(_vocab_texts(tok), N_PER_CATEGORY, seed=1234)
    mismatches = [(t, tok.encode(t), ref.tokenize(t)) for t in texts if tok.encode(t) != ref.tokenize(t)]
    for text, ours, theirs in mismatches[:5]:
        print(f"{name}: {text!r}\n  fusedq   {ours}\n  llama.cpp {theirs}")
    print(f"{name}: {len(mismatches)} mismatches in {len(texts)} texts")
    assert not mismatches, f"{len(mismatches)} of {len(texts)} texts differ from llama.cpp"


def test_every_codepoint_in_context_matches_llama_cpp(pair):
    """Each code point alone and between letters, digits and spaces, in blocks of 64."""
    name, tok, ref = pair
    step = 1 if os.environ.get("FUSEDQ_TOKENIZER_ALL_CODEPOINTS") else 61
    bad = []
    for start in range(0, 0x110000, 64 * step):
        cps = [c for c in range(start, min(start + 64 * step, 0x110000), step)
               if not 0xD800 <= c <= 0xDFFF]
        text = "".join(f"a{chr(c)}1 {chr(c)}{chr(c)}\u00e9" for c in cps)
        if tok.encode(text) != ref.tokenize(text):
            bad.extend(c for c in cps if tok.encode(f"a{chr(c)}1 {chr(c)}{chr(c)}\u00e9")
                       != ref.tokenize(f"a{chr(c)}1 {chr(c)}{chr(c)}\u00e9"))
    print(f"{name}: {len(bad)} code points differ")
    assert not bad, f"{name}: code points {[hex(c) for c in bad[:20]]} tokenize differently"


def test_eog_ids_match_llama_cpp(pair):
    name, tok, ref = pair
    theirs = {i for i in range(tok.n_vocab) if ref.is_eog(i)}
    assert tok.eog_ids == theirs


def test_decode_matches_llama_cpp(pair):
    name, tok, ref = pair
    rng = random.Random(7)
    for _ in range(300):
        ids = [rng.randrange(tok.n_vocab) for _ in range(rng.randint(1, 12))]
        for special in (False, True):
            assert tok.detokenize_bytes(ids, special) == ref.detokenize(ids, special), ids
    for text in generate_texts(_vocab_texts(tok), 10, seed=99):
        ids = ref.tokenize(text)
        assert tok.decode(ids) == ref.detokenize(ids).decode("utf-8", errors="replace")
