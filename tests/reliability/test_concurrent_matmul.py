"""matmul, get_rows and dequantize called from several Python threads at once give the sequential results.

Meaningful for the compiled backends, which release the GIL inside their kernels (and may run
their own OpenMP teams inside each call); run over every available backend.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import fusedq
from blocks_util import random_tensor

BACKENDS = fusedq.available_backends()
THREADS = 4
CALLS_PER_THREAD = 6


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_calls_match_sequential(backend):
    tensors = [random_tensor(name, rows, cols, seed=i) for i, (name, rows, cols) in enumerate(
        [("Q4_K", 96, 1024), ("Q6_K", 64, 512), ("Q8_0", 128, 512), ("Q4_0", 64, 256), ("F16", 32, 256)])]
    rng = np.random.default_rng(11)
    # each job: (tensor, operation, argument); every thread gets a different mix and order
    jobs = []
    for i in range(THREADS * CALLS_PER_THREAD):
        t = tensors[i % len(tensors)]
        kind = ("f32", "q8", "rows", "dequantize")[i % 4]
        if kind == "rows":
            arg = rng.integers(0, t.rows, size=7)
        elif kind == "dequantize":
            arg = None
        else:
            arg = rng.standard_normal((int(rng.integers(1, 5)), t.cols)).astype(np.float32)
        jobs.append((t, kind, arg))

    def run(job):
        t, kind, arg = job
        if kind == "rows":
            return t.get_rows(arg, backend=backend)
        if kind == "dequantize":
            return t.dequantize(backend=backend)
        return t.matmul(arg, activations=kind, backend=backend)

    sequential = [run(job) for job in jobs]
    concurrent: list = [None] * len(jobs)
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(k: int) -> None:
        try:
            start.wait()
            for i in range(k, len(jobs), THREADS):
                concurrent[i] = run(jobs[i])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "a thread is stuck"
    assert not errors, errors
    for i, (want, got) in enumerate(zip(sequential, concurrent)):
        np.testing.assert_array_equal(got, want, err_msg=f"job {i}: {jobs[i][0].qtype} {jobs[i][1]}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_with_different_backends(backend):
    """use_backend is per thread: one thread on `backend`, one on numpy, neither affects the other."""
    t = random_tensor("Q4_K", 64, 512, seed=5)
    x = np.random.default_rng(2).standard_normal((3, 512)).astype(np.float32)
    names = [backend, "numpy"]
    want = [t.matmul(x, backend=b) for b in names]
    got: list[list] = [[], []]

    def worker(k: int) -> None:
        with fusedq.use_backend(names[k]):
            for _ in range(5):
                got[k].append(t.matmul(x))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    for k in range(2):
        assert len(got[k]) == 5, names[k]
        for y in got[k]:
            np.testing.assert_array_equal(y, want[k], err_msg=names[k])
