"""Kernel measurements shared by `fusedq bench` and the pytest-benchmark suites (no pytest here).

A Method turns (tensor, x) into a zero-argument callable computing x @ W.T one way: the naive
path (gguf-py dequantize + numpy matmul), a fusedq backend in one activation mode, or ggml's
own mul_mat. `interleaved_medians` times several callables round-robin (so the machine's noise
hits them alike) and `measure_case` adds the accuracy and memory figures of the demo's table.
"""
from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from gguf import GGMLQuantizationType
from gguf import quants as gguf_quants

from .. import registry
from ..tensor import QuantizedTensor
from . import ggml_peer

MODES = ("q8", "f32")


@dataclass(frozen=True)
class Method:
    """One way of computing x @ W.T. kind: "naive", "backend" or "ggml"."""

    kind: str
    backend: str = ""
    mode: str = ""

    @property
    def label(self) -> str:
        if self.kind == "backend":
            return f"{self.backend} {self.mode}"
        return "naive (gguf-py + numpy)" if self.kind == "naive" else "ggml mul_mat (llama.cpp)"


@dataclass
class Prepared:
    """A ready-to-time callable and what to release afterwards."""

    call: Callable[[], np.ndarray]
    close: Callable[[], None] = lambda: None


def naive_matmul(t: QuantizedTensor, x: np.ndarray) -> np.ndarray:
    """The original demo's baseline: dequantize all of W to float32 with gguf-py, then numpy."""
    w = gguf_quants.dequantize(t.data, GGMLQuantizationType(t.traits.gguf_id)).reshape(t.rows, t.cols)
    return x @ w.T


def prepare(method: Method, t: QuantizedTensor, x: np.ndarray, threads: int = 2) -> Prepared:
    """A callable computing x @ W.T by `method` (raises BackendUnavailable / GGMLUnavailable)."""
    if method.kind == "naive":
        return Prepared(lambda: naive_matmul(t, x))
    if method.kind == "backend":
        registry.resolve_backend(method.backend)  # fail now, not inside the timing loop
        return Prepared(lambda: t.matmul(x, method.mode, backend=method.backend))
    if method.kind == "ggml":
        peer = ggml_peer.llama_cpp_matmul(t.data, t.traits.gguf_id, t.rows, t.cols, x.shape[0], threads)
        peer.set_input(x)

        def call() -> np.ndarray:
            peer.compute()
            return peer._y_view.copy()
        return Prepared(call, peer.close)
    raise ValueError(f"unknown method kind {method.kind!r}")


def available_methods(include_naive: bool = True, include_ggml: bool = True,
                      backends: Optional[list[str]] = None) -> list[Method]:
    """naive, then every available backend x both modes, then ggml when it can be driven."""
    out = [Method("naive")] if include_naive else []
    for name in backends if backends is not None else registry.available_backends():
        out += [Method("backend", name, mode) for mode in MODES]
    if include_ggml and ggml_peer.ggml_available()[0]:
        out.append(Method("ggml"))
    return out


def exact_result(t: QuantizedTensor, x: np.ndarray) -> np.ndarray:
    """float64 x @ dequantize(W).T, the oracle every method's max |delta| is measured against."""
    w = gguf_quants.dequantize(t.data, GGMLQuantizationType(t.traits.gguf_id))
    return x.astype(np.float64) @ w.reshape(t.rows, t.cols).astype(np.float64).T


def rounds_for(fn: Callable[[], object], budget_s: float, lo: int = 3, hi: int = 200) -> int:
    """How many timed rounds fit `budget_s`, from one probe call (which also warms up)."""
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-6)
    return int(min(hi, max(lo, budget_s / once)))


BLOCK_SECONDS = 0.05   # calls of one method in a row before switching to the next
ROUNDS = 5             # passes over all methods


def interleaved_medians(fns: dict[str, Callable[[], object]], budget_s: float = 1.0,
                        rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Per-call seconds of each callable, timed in alternating blocks: each round runs every
    callable once untimed (its thread team wakes up, the previous one's threads go idle), then
    a block of timed calls. Alternating spreads background load over all methods alike; blocks
    keep one engine's spinning threads from stealing the cores from the other's timed calls."""
    per_call = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        per_call[name] = max(time.perf_counter() - t0, 1e-6)
    share = budget_s / max(1, len(fns)) / rounds
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            fn()
            for _ in range(max(1, min(int(share / per_call[name]), int(BLOCK_SECONDS / per_call[name]) + 1))):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return times


def peak_extra_bytes(fn: Callable[[], object]) -> int:
    """Peak bytes allocated (numpy/Python, via tracemalloc) during one call, beyond what existed
    before it; the result is kept alive until the peak is read so it counts too."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return max(0, peak - base)


@dataclass
class Measurement:
    """One method on one case: the columns of the demo's table."""

    case: str
    method: Method
    n: int
    weight_bytes: int
    times: list[float] = field(default_factory=list)
    max_abs_delta: float = float("nan")
    nmse: float = float("nan")
    peak_extra: int = 0

    @property
    def median_s(self) -> float:
        return float(np.median(self.times))

    @property
    def min_s(self) -> float:
        """Fastest call: the least disturbed by other processes on a shared machine."""
        return float(np.min(self.times))

    @property
    def gb_per_s(self) -> float:
        """Weight bytes read per second (each matmul reads W once)."""
        return self.weight_bytes / self.median_s / 1e9

    def extra_info(self) -> dict:
        """The figures a pytest-benchmark entry records besides its own timing."""
        return {"case": self.case, "method": self.method.label, "n": self.n,
                "weight_bytes": self.weight_bytes, "GB_per_s": round(self.gb_per_s, 3),
                "max_abs_delta": self.max_abs_delta, "nmse": self.nmse,
                "peak_extra_MB": round(self.peak_extra / 1e6, 3)}


def accuracy(y: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    """(max |y - exact|, NMSE = sum((y-exact)^2) / sum(exact^2))."""
    diff = np.asarray(y, dtype=np.float64).reshape(exact.shape) - exact
    return float(np.abs(diff).max()), float((diff ** 2).sum() / max((exact ** 2).sum(), 1e-300))


def measure_case(case: str, t: QuantizedTensor, x: np.ndarray, methods: list[Method],
                 budget_s: float = 2.0, threads: int = 2) -> list[Measurement]:
    """Time every method on (t, x) side by side; add max |delta|, NMSE and peak extra memory."""
    exact = exact_result(t, x)
    prepared: dict[Method, Prepared] = {}
    try:
        for m in methods:
            prepared[m] = prepare(m, t, x, threads)
        results = []
        for m, p in prepared.items():
            meas = Measurement(case, m, x.shape[0], t.nbytes)
            meas.max_abs_delta, meas.nmse = accuracy(p.call(), exact)
            meas.peak_extra = peak_extra_bytes(p.call)
            results.append(meas)
        times = interleaved_medians({m.label: p.call for m, p in prepared.items()}, budget_s)
        for meas in results:
            meas.times = times[meas.method.label]
        return results
    finally:
        for p in prepared.values():
            p.close()


def format_table(results: list[Measurement]) -> str:
    """The demo's table: one block per case, speed-up relative to the naive path (or the first
    row) and, when ggml was measured, each row's time relative to ggml's."""
    lines = []
    for case in dict.fromkeys(r.case for r in results):
        rows = [r for r in results if r.case == case]
        base = next((r for r in rows if r.method.kind == "naive"), rows[0])
        ggml = next((r for r in rows if r.method.kind == "ggml"), None)
        lines.append(f"\n{case}  (n={rows[0].n}, W {rows[0].weight_bytes / 1e6:.2f} MB)")
        head = f"{'method':<26}{'median ms':>11}{'min ms':>9}{'speed-up':>10}{'GB/s':>8}{'max |delta|':>13}{'NMSE':>10}{'peak MB':>9}"
        if ggml:
            head += f"{'/ ggml':>8}"
        lines += [head, "-" * len(head)]
        for r in rows:
            line = (f"{r.method.label:<26}{r.median_s * 1e3:>11.3f}{r.min_s * 1e3:>9.3f}"
                    f"{base.median_s / r.median_s:>9.1f}x"
                    f"{r.gb_per_s:>8.2f}{r.max_abs_delta:>13.2e}{r.nmse:>10.1e}{r.peak_extra / 1e6:>9.2f}")
            if ggml:
                line += f"{r.median_s / ggml.median_s:>7.2f}x"
            lines.append(line)
    return "\n".join(lines)
