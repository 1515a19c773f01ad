"""Benchmark-suite plumbing: explicit thread counts, the shared kernel runner, a ratio summary.

Threads: FUSEDQ_BENCH_THREADS (default 2) for fusedq, OpenMP and ggml alike.
Time per measurement: FUSEDQ_BENCH_SECONDS (default 1.0).
"""
from __future__ import annotations

import os

THREADS = int(os.environ.get("FUSEDQ_BENCH_THREADS", "2"))
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))   # before any OpenMP runtime starts
SECONDS = float(os.environ.get("FUSEDQ_BENCH_SECONDS", "1.0"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fusedq  # noqa: E402
from fusedq.benchmarking import ggml_peer, kernels  # noqa: E402

fusedq.set_num_threads(THREADS)

# (table title, row label, column label) -> text, filled by the benchmarks, printed at the end
SUMMARY: dict[tuple[str, str, str], str] = {}
# free-form tables (the end-to-end llama-bench tables), printed verbatim at the end
TABLES: list[str] = []


def ggml_or_skip() -> None:
    ok, why = ggml_peer.ggml_available()
    if not ok:
        pytest.skip(f"ggml peer unavailable: {why}")


def method_or_skip(method: kernels.Method) -> None:
    if method.kind == "ggml":
        ggml_or_skip()
    elif method.kind == "backend" and method.backend not in fusedq.available_backends():
        pytest.skip(f"backend {method.backend!r} unavailable: "
                    f"{fusedq.registry.backend_status()[method.backend]}")


def run_kernel_benchmark(benchmark, case: str, t, x, method: kernels.Method,
                         compare_to_ggml: bool = True) -> kernels.Measurement:
    """Time `method` on (t, x) with pytest-benchmark and record the demo's figures in extra_info.
    With compare_to_ggml (and ggml present) also time ggml on the same blocks, alternating with
    this method, and record the ratio measured side by side."""
    method_or_skip(method)
    prepared = kernels.prepare(method, t, x, THREADS)
    try:
        meas = kernels.Measurement(case, method, x.shape[0], t.nbytes)
        exact = kernels.exact_result(t, x)
        meas.max_abs_delta, meas.nmse = kernels.accuracy(prepared.call(), exact)
        meas.peak_extra = kernels.peak_extra_bytes(prepared.call)
        rounds = kernels.rounds_for(prepared.call, SECONDS)
        benchmark.pedantic(prepared.call, rounds=rounds, iterations=1, warmup_rounds=1)
        meas.times = [benchmark.stats.stats.median]
        info = meas.extra_info()
        info["threads"] = THREADS
        if compare_to_ggml and method.kind != "ggml" and ggml_peer.ggml_available()[0]:
            peer = kernels.prepare(kernels.Method("ggml"), t, x, THREADS)
            try:
                times = kernels.interleaved_medians({"self": prepared.call, "ggml": peer.call}, SECONDS)
            finally:
                peer.close()
            own, ggml = (float(np.median(times[k])) for k in ("self", "ggml"))
            own_min, ggml_min = (float(np.min(times[k])) for k in ("self", "ggml"))
            info.update(side_by_side_ms=round(own * 1e3, 4), ggml_ms=round(ggml * 1e3, 4),
                        ratio_to_ggml=round(own / ggml, 3), ratio_to_ggml_min=round(own_min / ggml_min, 3))
        benchmark.extra_info.update(info)
        return meas
    finally:
        prepared.close()


def pytest_terminal_summary(terminalreporter):
    for table in TABLES:
        terminalreporter.write_line(table)
    for title in dict.fromkeys(k[0] for k in SUMMARY):
        cells = {k[1:]: v for k, v in SUMMARY.items() if k[0] == title}
        rows = list(dict.fromkeys(r for r, _ in cells))
        cols = list(dict.fromkeys(c for _, c in cells))
        terminalreporter.write_sep("-", title)
        terminalreporter.write_line(f"{'':<22}" + "".join(f"{c:>16}" for c in cols))
        for r in rows:
            terminalreporter.write_line(f"{r:<22}" + "".join(f"{cells.get((r, c), ''):>16}" for c in cols))

