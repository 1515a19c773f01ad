"""Standing targets: time from nothing to ready-to-generate (llama.cpp: Gemma ~1 s, SmolLM2
~0.25 s) and peak RSS of a short generation (Gemma, llama.cpp ~390 MB), fusedq vs llama.cpp,
each run in a fresh process, alternating. Figures in extra_info and the table printed at the end.
Knobs: FUSEDQ_LOAD_ROUNDS (default 5), FUSEDQ_LOAD_TEST (the generation, default tg32).
Run: python -m pytest benchmarks/test_bench_load.py --benchmark-only -s
"""
from __future__ import annotations

import os

import pytest
from test_bench_e2e import run_comparison

ROUNDS = int(os.environ.get("FUSEDQ_LOAD_ROUNDS", "5"))
GENERATION = os.environ.get("FUSEDQ_LOAD_TEST", "tg32")


@pytest.mark.parametrize("name", ["gemma", "smollm2"])
def test_load_and_peak_rss(benchmark, name):
    benchmark.group = "load time and peak RSS (one round = both engines)"
    run_comparison(benchmark, name, [GENERATION], ROUNDS)
