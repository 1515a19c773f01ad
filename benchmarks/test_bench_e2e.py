"""End to end, fusedq vs llama.cpp (issue 6): prefill pp128/pp512 and decode tg128 tokens/s,
load time and peak RSS on Gemma 3, SmolLM2 and the synthetic TinyLlama-shaped Q4_K_M model.

Each benchmark round runs both engines once, each in its own fresh process, in alternating order
(the round's wall time is what pytest-benchmark reports; the figures that matter are in
extra_info and in the llama-bench-style table printed at the end).
Knobs: FUSEDQ_E2E_MODELS (default gemma,smollm2,tinyllama), FUSEDQ_E2E_TESTS (default
pp128,pp512,tg128), FUSEDQ_E2E_ROUNDS (default 3), FUSEDQ_BENCH_THREADS (default 2).
Skipped without fusedq.Model; llama.cpp's side is skipped without llama-cpp-python.
The TinyLlama-shaped model is written once into fusedq's cache (~4 minutes).
Run: python -m pytest benchmarks/test_bench_e2e.py --benchmark-only -s
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from conftest import TABLES, THREADS

import fusedq
from fusedq.benchmarking import e2e

MODELS = os.environ.get("FUSEDQ_E2E_MODELS", "gemma,smollm2,tinyllama").split(",")
TESTS = os.environ.get("FUSEDQ_E2E_TESTS", "pp128,pp512,tg128").split(",")
ROUNDS = int(os.environ.get("FUSEDQ_E2E_ROUNDS", "3"))


def model_path_or_skip(name: str):
    if not hasattr(fusedq, "Model"):
        pytest.skip("fusedq.Model is not part of this build yet")
    try:
        return e2e.model_paths()[name]()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def record(benchmark, comp: e2e.Comparison, tests: list[str]) -> None:
    info = benchmark.extra_info
    info["threads"] = THREADS
    for test in tests:
        for engine in e2e.ENGINES:
            rates = comp.rates(engine, test)
            if rates:
                info[f"{engine} {test} tok/s"] = round(float(np.mean(rates)), 3)
        info[f"{test} ratio fusedq/llama.cpp"] = round(comp.ratio(test), 3)
    for key in ("ready_s", "peak_rss_mb"):
        for engine in e2e.ENGINES:
            vals = comp.scalar(engine, key)
            if vals:
                info[f"{engine} {key}"] = round(float(np.median(vals)), 3)
        info[f"{key} ratio fusedq/llama.cpp"] = round(comp.ratio(None, key), 3)
    if not comp.results("fusedq"):
        pytest.fail(f"fusedq did not run: {comp.why_missing('fusedq')}")


def run_comparison(benchmark, name: str, tests: list[str], rounds: int) -> e2e.Comparison:
    path = model_path_or_skip(name)
    comp = e2e.Comparison(name, str(path))
    counter = iter(range(rounds))
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    benchmark.pedantic(lambda: e2e.run_round(comp, next(counter), tests, threads=THREADS, log=log),
                       rounds=rounds, iterations=1, warmup_rounds=0)
    record(benchmark, comp, tests)
    TABLES.append(e2e.format_table([comp], tests))
    return comp


@pytest.mark.parametrize("name", MODELS)
def test_e2e(benchmark, name):
    benchmark.group = "end to end (one round = both engines)"
    run_comparison(benchmark, name, TESTS, ROUNDS)
