"""Parent side of the hostile-file tests: run open_worker.py over many files, surviving its deaths.

`open_files(paths)` returns one result per path. A worker that dies (signal, abort) or goes silent
for `per_file_timeout` seconds is recorded against the file it was on ("signal"/"died"/"hang") and
a fresh worker continues with the next file. Two workers run side by side (the machine has 2 cores).
"""
from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(HERE, "open_worker.py")
STARTUP_TIMEOUT = 60.0


MODEL_TEST_HELPERS = os.path.join(REPO, "tests", "model")


def _worker_env(mode: str = "gguf") -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([REPO, HERE, MODEL_TEST_HELPERS, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["FUSEDQ_TEST_OPEN"] = mode
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    # The files hold tiny tensors: on a loaded machine each OpenMP wake-up costs milliseconds, so
    # one kernel thread per worker (threaded kernels are covered by test_concurrent_matmul.py).
    env.setdefault("FUSEDQ_NUM_THREADS", "1")
    return env


def _run_worker(paths: list[str], per_file_timeout: float, worker: str,
                mode: str) -> tuple[dict[int, dict], int | None, dict | None]:
    """Run one worker over paths. Returns (results by index, index it failed on, failure record)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as lst, \
            tempfile.TemporaryFile("w+") as err:
        lst.write("\n".join(paths))
        lst.close()
        proc = subprocess.Popen([sys.executable, worker, lst.name], stdout=subprocess.PIPE,
                                stderr=err, env=_worker_env(mode), bufsize=0)
        results: dict[int, dict] = {}
        current: int | None = None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        failure = None
        pending = b""
        try:
            while True:
                if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    proc.kill()
                    failure = {"status": "hang", "message": f"no progress for {per_file_timeout} s"}
                    break
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                deadline = time.monotonic() + per_file_timeout
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    kind, _, rest = line.decode().partition(" ")
                    if kind == "START":
                        current = int(rest)
                    elif kind == "RESULT":
                        results[current] = json.loads(rest)
                        current = None
            rc = proc.wait(timeout=30)
            if failure is None and (rc != 0 or len(results) < len(paths)):
                err.seek(0)
                tail = err.read()[-2000:]
                failure = {"status": "signal" if rc < 0 else "died", "returncode": rc, "stderr": tail}
        finally:
            sel.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.unlink(lst.name)
        if failure is not None and current is None:
            if not results:
                raise RuntimeError(f"open_worker failed before opening any file: {failure}")
            current = len(results)     # died between two files: blame the next one
        return results, current, failure


def _open_chunk(paths: list[str], per_file_timeout: float, worker: str, mode: str) -> list[dict]:
    out: list[dict | None] = [None] * len(paths)
    start = 0
    while start < len(paths):
        results, failed_at, failure = _run_worker(paths[start:], per_file_timeout, worker, mode)
        for i, r in results.items():
            out[start + i] = r
        if failure is None:
            break
        out[start + failed_at] = failure
        start += failed_at + 1
    return out  # type: ignore[return-value]


def open_files(paths: list[str], per_file_timeout: float = 20.0, workers: int = 2,
               worker: str = WORKER, mode: str = "gguf") -> list[dict]:
    """One result dict per path (see open_worker.py), opened in subprocesses.

    mode "gguf": fusedq.load_gguf and read every tensor; "model": fusedq.Model.load and run it."""
    if not paths:
        return []
    n = max(1, min(workers, len(paths)))
    chunks = [paths[i::n] for i in range(n)]
    with ThreadPoolExecutor(n) as pool:
        chunk_results = list(pool.map(lambda c: _open_chunk(c, per_file_timeout, worker, mode), chunks))
    out: list[dict] = [{}] * len(paths)
    for i, results in enumerate(chunk_results):
        for j, r in enumerate(results):
            out[i + j * n] = r
    return out
