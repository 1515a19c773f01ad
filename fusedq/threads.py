"""One thread-count policy for every compiled kernel.

Default: FUSEDQ_NUM_THREADS if set, else the number of physical cores this process may use.
Compiled backends read `get_num_threads()` on every call, so `set_num_threads` takes effect at once.

OpenMP waiting: a thread that reaches a barrier first spins before it sleeps. GNU OpenMP's default
spin (300,000 rounds) assumes the cores are ours; on a shared machine a spinning thread holds a
core the late thread needs, and decode dropped from ~75 to ~22 tok/s on Gemma 3 here with two busy
processes beside it. fusedq therefore sets GOMP_SPINCOUNT=10000 (36 tok/s under that contention,
no measurable cost on an idle machine) when the process has set neither GOMP_SPINCOUNT nor
OMP_WAIT_POLICY; libgomp reads it once, when it is first loaded, so this runs at `import fusedq`.
"""
from __future__ import annotations

import os

DEFAULT_GOMP_SPINCOUNT = "10000"
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
