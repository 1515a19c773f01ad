"""One thread-count policy for every compiled kernel.

Default: FUSEDQ_NUM_THREADS if set, else the number of physical cores this process may use.
Compiled backends read `get_num_threads()` on every call, so `set_num_threads` takes effect at once.

OpenMP waiting: a thread that reaches a barrier first spins before it sleeps. GNU OpenMP's default
spin (300,000 rounds) assumes the cores are ours; on a shared machine a spinning thread holds a
core the late thread needs: with two busy processes beside it, Gemma 3 decode with 2 threads did
not finish 32 tokens in 30 s. fusedq sets GOMP_SPINCOUNT=30000 (38 tok/s in that test) when the
process has set neither GOMP_SPINCOUNT nor OMP_WAIT_POLICY. Not much lower: a thread that falls
asleep between two calls takes ~0.4 ms to wake on this VM, and at 10,000 a Python loop of small
matmuls already paid that on every call (Q4_K 5632x2048 GEMV 0.66 ms instead of 0.22 ms). libgomp
reads the setting once, when it is first loaded, so this runs at `import fusedq`.
"""
from __future__ import annotations

import os

DEFAULT_GOMP_SPINCOUNT = "30000"
LIBGOMP_SPINCOUNT = "300000"   # libgomp's own default (no wait policy set), for peers we measure
USER_SET_OPENMP_WAIT = "GOMP_SPINCOUNT" in os.environ or "OMP_WAIT_POLICY" in os.environ

if not USER_SET_OPENMP_WAIT:
    os.environ["GOMP_SPINCOUNT"] = DEFAULT_GOMP_SPINCOUNT

_num_threads: int | None = None


def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (hyperthreads counted once)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        base = f"/sys/devices/system/cpu/cpu{cpu}/topology/"
        try:
            with open(base + "core_id") as f:
                core = f.read().strip()
            with open(base + "physical_package_id") as f:
                package = f.read().strip()
        except OSError:
            return max(1, len(cpus))
        cores.add((package, core))
    return max(1, len(cores))


def _default_threads() -> int:
    raw = os.environ.get("FUSEDQ_NUM_THREADS", "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(
                f"FUSEDQ_NUM_THREADS={raw!r} is not a whole number; set it to 1 or more") from None
        if value < 1:
            raise ValueError(f"FUSEDQ_NUM_THREADS={raw!r} must be 1 or more")
        return value
    return physical_cores()


def get_num_threads() -> int:
    """Threads the compiled kernels use."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Set the thread count of the compiled kernels (1 or more)."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"thread count must be an int, not {type(n).__name__}")
    if n < 1:
        raise ValueError(f"thread count must be 1 or more, got {n}")
    _num_threads = n
