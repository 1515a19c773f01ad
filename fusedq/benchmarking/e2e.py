"""End to end, fusedq vs llama.cpp: alternating runs, each engine in its own fresh process.

    python -m fusedq.benchmarking.e2e [--models gemma,smollm2,tinyllama] [--tests pp128,pp512,tg128]
                                      [--rounds 3] [--reps 1] [--threads 2]

prints a llama-bench-style table: model, size, threads, engine, test, tokens/s mean +- stddev,
and the ratio fusedq / llama.cpp (the median over rounds of the per-round ratio), plus load
time ("ready": from before the engine's import to a loaded model) and peak RSS.
An engine that cannot run (llama-cpp-python not installed, fusedq.Model not built) is skipped.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import threads as fusedq_threads

ENGINES = ("fusedq", "llama.cpp")
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])   # the directory holding fusedq/


def model_paths() -> dict:
    """name -> zero-argument callable returning the model's path (may build or raise)."""
    from ..model_files import default_model_path, smollm2_path
    from ..synth import cached_synthetic
    return {"gemma": default_model_path, "smollm2": smollm2_path,
            "tinyllama": lambda: cached_synthetic("tinyllama", "Q4_K_M")}


def run_worker(engine: str, path, tests: list[str], reps: int = 1, threads: int = 2,
               n_ctx: int = 1024, backend: str | None = None, timeout: float = 3600) -> dict:
    """One fresh process running one engine; its JSON result (with "skipped" or "error" on failure)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), FUSEDQ_NUM_THREADS=str(threads))
    if engine != "fusedq" and not fusedq_threads.USER_SET_OPENMP_WAIT:
        env["GOMP_SPINCOUNT"] = fusedq_threads.LIBGOMP_SPINCOUNT   # the peer keeps its own default
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "fusedq.benchmarking.e2e_worker", engine, str(path),
           "--tests", ",".join(tests), "--reps", str(reps), "--threads", str(threads),
           "--n-ctx", str(n_ctx)]
    if backend:
        cmd += ["--backend", backend]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"engine": engine, "model": str(path), "error": " | ".join(tail) or f"exit {proc.returncode}"}
    return json.loads(lines[-1])


@dataclass
class Comparison:
    """Every round's worker results for one model."""

    model: str
    path: str
    rounds: list[dict] = field(default_factory=list)      # {engine: result}

    def results(self, engine: str) -> list[dict]:
        return [r[engine] for r in self.rounds if engine in r and "tests" in r[engine]]

    def why_missing(self, engine: str) -> str:
        for r in self.rounds:
            res = r.get(engine, {})
            if "skipped" in res or "error" in res:
                return res.get("skipped") or res.get("error")
        return ""

    def rates(self, engine: str, test: str) -> list[float]:
        return [v for r in self.results(engine) for v in r["tests"].get(test, [])]

    def scalar(self, engine: str, key: str) -> list[float]:
        return [r[key] for r in self.results(engine)]

    def ratio(self, test: str | None, key: str | None = None) -> float:
        """Median over rounds of fusedq / llama.cpp for a test's tokens/s (or a scalar key)."""
        ratios = []
        for r in self.rounds:
            a, b = r.get("fusedq", {}), r.get("llama.cpp", {})
            if "tests" not in a or "tests" not in b:
                continue
            if test is not None:
                ratios.append(np.median(a["tests"][test]) / np.median(b["tests"][test]))
            else:
                ratios.append(a[key] / b[key])
        return float(np.median(ratios)) if ratios else float("nan")


def run_round(comp: Comparison, index: int, tests: list[str], reps: int = 1, threads: int = 2,
              n_ctx: int = 1024, backend: str | None = None, engines=ENGINES, log=None) -> dict:
    """One round: every engine once, in an order flipped every other round; appended to comp."""
    order = list(engines) if index % 2 == 0 else list(reversed(engines))
    result = {}
    for engine in order:
        if log:
            log(f"e2e: {comp.model} round {index + 1}: {engine} ...")
        result[engine] = run_worker(engine, comp.path, tests, reps, threads, n_ctx, backend)
    comp.rounds.append(result)
    return result


def compare(model: str, path, tests: list[str], rounds: int = 3, reps: int = 1, threads: int = 2,
            n_ctx: int = 1024, backend: str | None = None, engines=ENGINES, log=None) -> Comparison:
    """Alternate the engines over `rounds` rounds, one fresh process per run."""
    comp = Comparison(model, str(path))
    for i in range(rounds):
        run_round(comp, i, tests, reps, threads, n_ctx, backend, engines, log)
    return comp


def _mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{np.mean(values):.2f} ± {np.std(values):.2f}"


def _ratio_text(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.2f}x"


def format_table(comps: list[Comparison], tests: list[str]) -> str:
    """llama-bench-style markdown table of every comparison."""
    head = "| model | size | threads | engine | test | t/s | fusedq / llama.cpp |"
    lines = [head, "|---|---|---|---|---|---:|---:|"]
    notes = []
    for c in comps:
        size = f"{os.path.getsize(c.path) / 2**20:.1f} MiB" if os.path.exists(c.path) else "?"
        threads = next((r["threads"] for e in ENGINES for r in c.results(e)), "?")
        for test in tests:
            for engine in ENGINES:
                ratio = _ratio_text(c.ratio(test)) if engine == "fusedq" else ""
                lines.append(f"| {c.model} | {size} | {threads} | {engine} | {test} | "
                             f"{_mean_std(c.rates(engine, test))} | {ratio} |")
        for key, label, unit in (("ready_s", "ready (import+load)", "s"), ("peak_rss_mb", "peak RSS", "MB")):
            for engine in ENGINES:
                ratio = _ratio_text(c.ratio(None, key)) if engine == "fusedq" else ""
                lines.append(f"| {c.model} | {size} | {threads} | {engine} | {label} | "
                             f"{_mean_std(c.scalar(engine, key))} {unit} | {ratio} |")
        for engine in ENGINES:
            why = c.why_missing(engine)
            if why:
                notes.append(f"{c.model}, {engine}: not measured ({why})")
            details = sorted({r.get("detail", "") for r in c.results(engine)} - {""})
            if details:
                notes.append(f"{c.model}, {engine}: {'; '.join(details)}")
    return "\n".join(lines + [""] + notes)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="fusedq vs llama.cpp end to end, llama-bench style")
    p.add_argument("--models", default="gemma,smollm2,tinyllama",
                   help="comma-separated: gemma, smollm2, tinyllama, or GGUF paths")
    p.add_argument("--tests", default="pp128,pp512,tg128")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=1, help="repetitions of each test inside one process")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--n-ctx", type=int, default=1024)
    p.add_argument("--backend", default=None, help="fusedq backend (default: the best available)")
    a = p.parse_args(argv)
    tests = [t for t in a.tests.split(",") if t]
    known = model_paths()
    comps = []
    for name in a.models.split(","):
        path = known[name]() if name in known else Path(name)
        label = name if name in known else path.stem
        comps.append(compare(label, path, tests, a.rounds, a.reps, a.threads, a.n_ctx, a.backend,
                             log=lambda m: print(m, file=sys.stderr, flush=True)))
    print(format_table(comps, tests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
