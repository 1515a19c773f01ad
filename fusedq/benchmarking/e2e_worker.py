"""One engine, one model, one fresh process: load time, prefill/decode tokens/s, peak RSS.

    python -m fusedq.benchmarking.e2e_worker ENGINE MODEL_PATH [--tests pp128,pp512,tg128]
        [--reps 1] [--threads 2] [--n-ctx 1024] [--backend simd]

ENGINE is "fusedq" or "llama.cpp" (through llama-cpp-python). Prints one JSON object on stdout.
Tests follow llama-bench: ppN = prefill of N prompt tokens from an empty context; tgN = N
greedy decode steps after a 1-token prompt. Prompt tokens are random ids from a fixed seed, so
both engines see the same ids. The clock for "ready_s" starts before the engine is imported.
"""
from __future__ import annotations

import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

PROMPT_SEED = 1234
LOW_ID = 100  # random prompt ids avoid the control tokens at the start of most vocabularies


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def prompt_ids(n: int, n_vocab: int) -> list[int]:
    return np.random.default_rng(PROMPT_SEED).integers(LOW_ID, n_vocab, size=n).tolist()


class FusedqEngine:
    def __init__(self, path: str, threads: int, n_ctx: int, backend: str | None):
        import fusedq
        if not hasattr(fusedq, "Model"):
            raise ImportError("fusedq.Model is not part of this build")
        self.m = fusedq.Model.load(path, n_ctx=n_ctx, threads=threads, backend=backend)
        self.n_vocab = self.m.config.n_vocab
        forward = type(getattr(self.m, "transformer", None)).__name__
        self.detail = f"fusedq {fusedq.__version__}, backend {self.m.backend}, forward {forward}"

    def prefill(self, ids: list[int]) -> float:
        t0 = time.perf_counter()
        self.m.logits(ids)
        return time.perf_counter() - t0

    def decode(self, first: list[int], steps: int) -> tuple[int, float]:
        for _ in self.m.generate_tokens(first, max_tokens=steps + 1, temperature=0):
            pass
        s = self.m.last_stats
        return s.decode_tokens, s.decode_seconds


class LlamaCppEngine:
    def __init__(self, path: str, threads: int, n_ctx: int, backend: str | None):
        import llama_cpp
        self.llm = llama_cpp.Llama(path, n_threads=threads, n_threads_batch=threads, n_ctx=n_ctx,
                                   n_batch=512, verbose=False)
        self.n_vocab = self.llm.n_vocab()
        self.detail = f"llama-cpp-python {llama_cpp.__version__}"

    def _logits(self) -> np.ndarray:
        return np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.n_vocab,))

    def prefill(self, ids: list[int]) -> float:
        self.llm.reset()
        t0 = time.perf_counter()
        self.llm.eval(ids)
        return time.perf_counter() - t0

    def decode(self, first: list[int], steps: int) -> tuple[int, float]:
        self.llm.reset()
        self.llm.eval(first)
        t0 = time.perf_counter()
        for _ in range(steps):
            self.llm.eval([int(np.argmax(self._logits()))])
        return steps, time.perf_counter() - t0


ENGINES = {"fusedq": FusedqEngine, "llama.cpp": LlamaCppEngine}


def run(engine: str, path: str, tests: list[str], reps: int, threads: int, n_ctx: int,
        backend: str | None) -> dict:
    base_kb = _status_kb("VmRSS")
    t0 = time.perf_counter()
    eng = ENGINES[engine](path, threads, n_ctx, backend)
    ready = time.perf_counter()
    out = {"engine": engine, "model": path, "threads": threads,
           "load_s": ready - t0, "ready_s": ready - T_START, "detail": eng.detail, "tests": {}}
    out["rss_after_load_mb"] = _status_kb("VmRSS") / 1024
    for test in tests:
        kind, n = test[:2], int(test[2:])
        rates = []
        for _ in range(reps):
            if kind == "pp":
                rates.append(n / eng.prefill(prompt_ids(n, eng.n_vocab)))
            elif kind == "tg":
                steps, secs = eng.decode(prompt_ids(1, eng.n_vocab), n)
                rates.append(steps / secs if secs else float("nan"))
            else:
                raise ValueError(f"unknown test {test!r}: use ppN or tgN")
        out["tests"][test] = rates
    out["base_rss_mb"] = base_kb / 1024
    out["peak_rss_mb"] = _status_kb("VmHWM") / 1024
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("engine", choices=sorted(ENGINES))
    p.add_argument("model")
    p.add_argument("--tests", default="pp128,pp512,tg128")
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--n-ctx", type=int, default=1024)
    p.add_argument("--backend", default=None)
    a = p.parse_args(argv)
    tests = [t for t in a.tests.split(",") if t]
    try:
        result = run(a.engine, a.model, tests, a.reps, a.threads, a.n_ctx, a.backend)
    except ImportError as exc:
        result = {"engine": a.engine, "model": a.model, "skipped": str(exc)}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
