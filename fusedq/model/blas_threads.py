"""Keep numpy's BLAS (OpenBLAS) to one thread while a model runs.

The runner's own BLAS work (attention over the KV cache) is small; the compiled kernels own the
cores. A multi-threaded OpenBLAS spins its threads against them: on this 2-core machine under load
a 3 x [384 x 64] @ [64 x 128] product took 71 ms with OpenBLAS's default threads and 2.4 ms with
one. numpy has no API for this, so the loaded OpenBLAS library is found in /proc/self/maps and
its set-threads entry point called; anywhere that fails, nothing changes.
"""
from __future__ import annotations

import ctypes

SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
           "openblas_set_num_threads64_", "openblas_set_num_threads")
_done = False


def limit_blas_threads(n: int = 1) -> bool:
    """Set OpenBLAS's thread count (process wide, once). True if a library was adjusted."""
    global _done
    if _done:
        return True
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return False
    for path in sorted(p for p in paths if p.startswith("/")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in SETTERS:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn(ctypes.c_int(n))
                _done = True
                break
    return _done
