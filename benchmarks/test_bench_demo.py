"""The original demo, reproduced: Q4_K W 5632x2048 and 2048x5632 (random valid blocks) and the real
Gemma 3 blk.0.ffn_down.weight (Q6_K) and blk.0.attn_output.weight (Q4_K), one token (GEMV):
naive (gguf-py dequantize + numpy) vs every backend in both activation modes vs ggml.

Each entry's extra_info: weight bytes, GB/s, max |delta| and NMSE vs the float64 exact result,
peak extra MB (tracemalloc), and the ratio to ggml timed side by side.
Run: OMP_NUM_THREADS=2 python -m pytest benchmarks/test_bench_demo.py --benchmark-only
"""
from __future__ import annotations

import functools

import pytest
from conftest import SUMMARY, run_kernel_benchmark

from fusedq.benchmarking import inputs, kernels

CASES = [f"Q4_K {r}x{c}" for r, c in inputs.DEMO_SHAPES] + inputs.GEMMA_TENSORS
METHODS = ([kernels.Method("naive")]
           + [kernels.Method("backend", b, m) for b in ("simd", "scalar", "numpy") for m in kernels.MODES]
           + [kernels.Method("ggml")])


@functools.lru_cache(maxsize=None)
def _case(case: str):
    if case in inputs.GEMMA_TENSORS:
        try:
            t = inputs.gemma_tensor(case)
        except FileNotFoundError as exc:
            pytest.skip(str(exc))
    else:
        rows, cols = (int(v) for v in case.split()[1].split("x"))
        t = inputs.random_tensor("Q4_K", rows, cols)
    return t, inputs.activations(1, t.cols)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.label.split(" (")[0].replace(" ", "-"))
@pytest.mark.parametrize("case", CASES)
def test_demo(benchmark, case, method):
    benchmark.group = f"demo {case}"
    t, x = _case(case)
    meas = run_kernel_benchmark(benchmark, case, t, x, method)
    ms = benchmark.stats.stats.median * 1e3
    SUMMARY[("demo: median ms (max |delta|)", method.label[:22], case[:16])] = \
        f"{ms:.3f} ({meas.max_abs_delta:.0e})"
