"""Hand memory freed while loading back to the operating system.

Building the tokenizer creates and drops hundreds of thousands of Python objects; glibc keeps the
freed heap for reuse, so it would still count in the process's resident size while the model
generates. After a load, one collection plus glibc's malloc_trim returns it. Anywhere that is not
available (another libc, another OS), nothing happens.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc

_trim = None


def release_free_memory() -> bool:
    """Collect garbage and return free heap pages to the OS; True if malloc_trim ran."""
    global _trim
    gc.collect()
    if _trim is None:
        try:
            _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
            _trim.argtypes, _trim.restype = [ctypes.c_size_t], ctypes.c_int
        except (OSError, AttributeError):
            _trim = False
    if not _trim:
        return False
    _trim(0)
    return True
