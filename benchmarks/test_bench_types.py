"""Every type of the traits table on W 5632x2048: GEMV (n=1) and GEMM n = 8, 32, 128, for the
compiled backends in both activation modes and for ggml's mul_mat on the same raw blocks.

extra_info of each fusedq entry holds ratio_to_ggml, timed side by side (alternating blocks);
the terminal summary prints that ratio per type and n for each method (< 1 means faster than
ggml), and simd f32 over simd q8, also timed side by side (the kernels issue's target: <= 2).
Run: OMP_NUM_THREADS=2 python -m pytest benchmarks/test_bench_types.py --benchmark-only
(-k "Q4_K and simd" to narrow it).
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import SECONDS, SUMMARY, THREADS, run_kernel_benchmark

from fusedq.benchmarking import inputs, kernels
from fusedq.types import QTYPES

SHAPE = (5632, 2048)
NS = [1, 8, 32, 128]
METHODS = ([kernels.Method("backend", b, m) for b in ("simd", "scalar") for m in kernels.MODES]
           + [kernels.Method("ggml")])


@functools.lru_cache(maxsize=2)
def _tensor(name: str):
    return inputs.random_tensor(name, *SHAPE)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.label.split(" (")[0].replace(" ", "-"))
@pytest.mark.parametrize("n", NS, ids=lambda n: f"n{n}")
@pytest.mark.parametrize("name", list(QTYPES))
def test_type(benchmark, name, n, method):
    benchmark.group = f"{name} {SHAPE[0]}x{SHAPE[1]} n={n}"
    t = _tensor(name)
    x = inputs.activations(n, t.cols)
    run_kernel_benchmark(benchmark, f"{name} n={n}", t, x, method)
    info = benchmark.extra_info
    if "ratio_to_ggml" in info:
        SUMMARY[(f"{method.label}: time / ggml time, side by side (median; min)", name, f"n={n}")] = \
            f"{info['ratio_to_ggml']:.2f}; {info['ratio_to_ggml_min']:.2f}"
    if method.kind == "ggml":
        SUMMARY[("ggml mul_mat median ms", name, f"n={n}")] = f"{benchmark.stats.stats.median * 1e3:.3f}"
    if method == kernels.Method("backend", "simd", "f32") and QTYPES[name].is_quantized:
        info["f32_over_q8"] = _f32_over_q8(t, x)
        SUMMARY[("simd f32 time / simd q8 time, side by side (median)", name, f"n={n}")] = \
            f"{info['f32_over_q8']:.2f}"


def _f32_over_q8(t, x) -> float:
    """Median time of simd f32 over simd q8 on (t, x), the two timed in alternating blocks."""
    calls = {mode: kernels.prepare(kernels.Method("backend", "simd", mode), t, x, THREADS)
             for mode in ("f32", "q8")}
    try:
        times = kernels.interleaved_medians({m: c.call for m, c in calls.items()}, SECONDS)
    finally:
        for c in calls.values():
            c.close()
    return round(float(np.median(times["f32"]) / np.median(times["q8"])), 3)
