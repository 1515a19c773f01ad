"""fusedq.Model: load a GGUF model, tokenize, compute logits, generate text (optionally streamed)."""
from __future__ import annotations

import numbers
import os
import time
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from .. import registry
from ..gguf_file import GGUFFile, load_gguf
from ..threads import set_num_threads
from .blas_threads import limit_blas_threads
from .memory import release_free_memory
from .config import ModelConfig, config_from_metadata
from .sampler import Sampler, SamplingParams
from .streaming import TextAssembler, check_stops
from .engine import make_transformer
from .weights import Weights

DEFAULT_BATCH = 256   # prompt tokens per prefill step (one GEMM per weight matrix)
ACTIVATION_MODES = ("q8", "f32")


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    prefill_seconds: float = 0.0
    generated_tokens: int = 0
    decode_tokens: int = 0       # tokens fed back through the model (one forward each)
    decode_seconds: float = 0.0

    @property
    def prefill_tok_s(self) -> float:
        return self.prompt_tokens / self.prefill_seconds if self.prefill_seconds else 0.0

    @property
    def decode_tok_s(self) -> float:
        return self.decode_tokens / self.decode_seconds if self.decode_seconds else 0.0


def _check_count(name: str, value: object, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


class Model:
    """A GGUF language model ready to run. Create with Model.load()."""

    def __init__(self, gguf: GGUFFile, config: ModelConfig, weights: Weights, tokenizer,
                 n_ctx: int, backend_name: str, n_batch: int = DEFAULT_BATCH):
        # The GGUFFile itself is not kept: its metadata (the vocabulary as ~262k Python strings for
        # Gemma) would stay alive for nothing. Tensors keep the memory map alive themselves.
        self.path = gguf.path
        self.config = config
        self.weights = weights
        self.tokenizer = tokenizer
        self.n_ctx = n_ctx
        self.backend = backend_name
        self.n_batch = n_batch
        self.transformer = make_transformer(config, weights, n_ctx, backend_name)
        self.last_stats = GenerationStats()
        self._session = 0
        self.load_seconds = 0.0

    @classmethod
    def load(cls, path: "str | os.PathLike[str] | None" = None, n_ctx: int = 2048,
             threads: int | None = None, backend: str | None = None, *,
             activations: str = "q8", tokenizer=None) -> "Model":
        """Open a GGUF model (None: the default Gemma 3 270M, assembled on first use).

        n_ctx: context length the KV cache is allocated for; threads: kernel threads (process
        wide); backend: "simd", "scalar", "numpy" or None for the one in force; activations:
        "q8" (llama.cpp's 8-bit activation scheme) or "f32"."""
        t0 = time.perf_counter()
        n_ctx = _check_count("n_ctx", n_ctx, 1)
        if activations not in ACTIVATION_MODES:
            raise ValueError(f"activations must be one of {ACTIVATION_MODES}, got {activations!r}")
        if threads is not None:
            set_num_threads(threads)
        be = registry.resolve_backend(backend)
        if path is None:
            from ..model_files import default_model_path
            path = default_model_path(progress=True)
        gguf = load_gguf(path)
        config = config_from_metadata(gguf.metadata, len(gguf.tensors))
        weights = Weights(config, gguf.tensors, be, activations)
        if tokenizer is None:
            from .tokenizer import load_tokenizer
            tokenizer = load_tokenizer(gguf.metadata)
        limit_blas_threads(1)
        model = cls(gguf, config, weights, tokenizer, n_ctx, be.name)
        del gguf
        release_free_memory()
        model.load_seconds = time.perf_counter() - t0
        return model

    def __repr__(self) -> str:
        return (f"Model({os.path.basename(self.path)!r}, {self.config.arch.name}, "
                f"{self.config.n_layer} layers, n_ctx={self.n_ctx}, backend={self.backend!r})")

    # --- text <-> ids --------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        """Token ids of `text`, with BOS when the model adds one (as llama.cpp does)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        return list(self.tokenizer.encode(text))

    def detokenize(self, ids: Iterable[int]) -> str:
        return self.tokenizer.decode(self._check_ids(ids, allow_empty=True).tolist())

    # --- logits --------------------------------------------------------------------------------
    def logits(self, ids: Iterable[int]) -> np.ndarray:
        """float32 [n_vocab]: next-token logits after `ids`, computed as a fresh sequence."""
        arr = self._check_ids(ids)
        self._session += 1
        return self._prefill(arr).copy()

    def _check_ids(self, ids: Iterable[int], allow_empty: bool = False) -> np.ndarray:
        arr = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids)
        if arr.size == 0:
            if allow_empty:
                return np.zeros(0, dtype=np.int64)
            raise ValueError("ids is empty: give at least one token id")
        if arr.ndim != 1 or arr.dtype == np.bool_ or arr.dtype.kind not in "iu":
            raise ValueError(f"ids must be a 1-D sequence of integers, got {arr.dtype} shape {arr.shape}")
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= self.config.n_vocab:
            raise ValueError(f"token id {lo if lo < 0 else hi} is outside the vocabulary (0..{self.config.n_vocab - 1})")
        if not allow_empty and arr.size > self.n_ctx:
            raise ValueError(f"{arr.size} tokens do not fit the context of {self.n_ctx} (Model.load(n_ctx=...))")
        return np.ascontiguousarray(arr, dtype=np.int64)

    def _prefill(self, ids: np.ndarray) -> np.ndarray:
        self.transformer.cache.reset()
        logits = None
        for start in range(0, ids.shape[0], self.n_batch):
            logits = self.transformer.forward(ids[start:start + self.n_batch], start)
        return logits

    # --- generation ----------------------------------------------------------------------------
    def generate(self, prompt: str, max_tokens: int = 128, temperature: float = 0.8,
                 top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05,
                 seed: int | None = None, stop: "str | Iterable[str] | None" = None,
                 stream: bool = False) -> "str | Iterator[str]":
        """Continue `prompt`. temperature=0 is greedy; the same seed gives the same text.
        Stops at an end-of-generation token, a `stop` string (not included), max_tokens or the
        context length. stream=True returns an iterator of text pieces."""
        stops = check_stops(stop)
        ids = self.tokenize(prompt)
        if not ids:
            ids = [self.tokenizer.bos_id]
        if len(ids) > self.n_ctx:
            raise ValueError(
                f"the prompt is {len(ids)} tokens, longer than the context of {self.n_ctx}; "
                "shorten it or load the model with a larger n_ctx")
        tokens = self.generate_tokens(ids, max_tokens, temperature, top_k, top_p, min_p, seed)
        pieces = self._text_pieces(tokens, stops)
        return pieces if stream else "".join(pieces)

    def generate_tokens(self, ids: Iterable[int], max_tokens: int = 128, temperature: float = 0.8,
                        top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05,
                        seed: int | None = None) -> Iterator[int]:
        """Token ids continuing `ids` (end-of-generation tokens are not yielded). Arguments are
        checked at once; tokens are computed as the iterator is consumed."""
        sampler = Sampler(SamplingParams(temperature, top_k, top_p, min_p), seed)
        max_tokens = _check_count("max_tokens", max_tokens, 0)
        arr = self._check_ids(ids)
        self._session += 1
        return self._tokens(arr, max_tokens, sampler, self._session)

    def _tokens(self, ids: np.ndarray, max_tokens: int, sampler: Sampler, session: int) -> Iterator[int]:
        stats = self.last_stats = GenerationStats(prompt_tokens=ids.shape[0])
        if max_tokens == 0:
            return
        t0 = time.perf_counter()
        logits = self._prefill(ids)
        stats.prefill_seconds = time.perf_counter() - t0
        eog = self.tokenizer.eog_ids
        pos = ids.shape[0]
        token = np.zeros(1, dtype=np.int64)
        while True:
            tok = sampler(logits)
            if tok in eog:
                return
            stats.generated_tokens += 1
            yield tok
            if stats.generated_tokens >= max_tokens or pos >= self.n_ctx:
                return
            if session != self._session:
                raise RuntimeError("this generation was interrupted: another generate() or logits() "
                                   "call on the same Model reused its cache")
            token[0] = tok
            t1 = time.perf_counter()
            logits = self.transformer.forward(token, pos)
            stats.decode_seconds += time.perf_counter() - t1
            stats.decode_tokens += 1
            pos += 1

    def _text_pieces(self, tokens: Iterator[int], stops: tuple[str, ...]) -> Iterator[str]:
        text = TextAssembler(stops)
        for tok in tokens:
            piece = text.push(self.tokenizer.token_bytes(tok))
            if piece:
                yield piece
            if text.stopped:
                tokens.close()
                return
        tail = text.finish()
        if tail:
            yield tail
