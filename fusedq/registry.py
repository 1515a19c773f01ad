"""Backend registry: which implementation of the kernels runs, and why.

Backends register by name with the module that implements them; a module is imported only when the
backend is first needed. FUSEDQ_BACKEND (simd|scalar|numpy|auto) picks the default lazily, so a
bad value never breaks `import fusedq`: it raises ValueError on first use. `set_backend` and the
`use_backend` context manager override it.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import threading
from typing import Iterator, Protocol

import numpy as np

from .types import QType


class BackendUnavailable(RuntimeError):
    """A backend that exists but cannot run on this machine or build."""


class Backend(Protocol):
    """What every backend implements. Arguments arrive validated (see tensor.py):
    `data` is C-contiguous uint8 [rows, row_bytes]; `x` is C-contiguous float32 [n, cols]."""

    name: str

    def describe(self) -> str: ...
    def dequantize(self, qt: QType, data: np.ndarray, cols: int) -> np.ndarray: ...
    def get_rows(self, qt: QType, data: np.ndarray, ids: np.ndarray, cols: int) -> np.ndarray: ...
    def matmul(self, qt: QType, data: np.ndarray, cols: int, x: np.ndarray,
               activations: str) -> np.ndarray: ...


# Best first. Each module exposes load() -> Backend, raising BackendUnavailable with the reason.
_MODULES = {
    "simd": "fusedq.backends.simd",
    "scalar": "fusedq.backends.scalar",
    "numpy": "fusedq.backends.numpy_ref",
}
VALID_CHOICES = (*_MODULES, "auto")

_loaded: dict[str, Backend] = {}
_unavailable: dict[str, str] = {}
_default: str | None = None          # resolved default backend name
_default_reason = ""
_local = threading.local()            # per-thread override stack from use_backend


def _check_name(name: str, source: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"backend name must be a str, not {type(name).__name__}")
    key = name.strip().lower()
    if key not in VALID_CHOICES:
        raise ValueError(f"unknown backend {name!r} ({source}); valid: {', '.join(VALID_CHOICES)}")
    return key


def _load(name: str) -> Backend:
    if name in _loaded:
        return _loaded[name]
    if name in _unavailable:
        raise BackendUnavailable(f"backend {name!r} is unavailable: {_unavailable[name]}")
    try:
        module = importlib.import_module(_MODULES[name])
        backend = module.load()
    except BackendUnavailable as exc:
        _unavailable[name] = str(exc)
        raise BackendUnavailable(f"backend {name!r} is unavailable: {exc}") from None
    except ImportError as exc:
        _unavailable[name] = f"its compiled module is not built ({exc})"
        raise BackendUnavailable(f"backend {name!r} is unavailable: {_unavailable[name]}") from None
    _loaded[name] = backend
    return backend


def backend_status() -> dict[str, str]:
    """name -> "available" or the reason it is not, for every registered backend."""
    status = {}
    for name in _MODULES:
        try:
            _load(name)
            status[name] = "available"
        except BackendUnavailable:
            status[name] = _unavailable[name]
    return status


def available_backends() -> list[str]:
    """Names of the backends this machine can run, best first."""
    return [name for name, state in backend_status().items() if state == "available"]


def _resolve(name: str, source: str) -> tuple[str, str]:
    key = _check_name(name, source)
    if key == "auto":
        best = available_backends()[0]  # numpy is always available
        return best, f"auto ({source}): best available"
    _load(key)  # raises if this machine cannot run it
    return key, f"requested ({source})"


def _default_name() -> str:
    global _default, _default_reason
    if _default is None:
        raw = os.environ.get("FUSEDQ_BACKEND", "").strip()
        if raw:
            _default, _default_reason = _resolve(raw, f"FUSEDQ_BACKEND={raw}")
        else:
            _default, _default_reason = _resolve("auto", "default")
    return _default


def get_backend() -> str:
    """Name of the backend in force in this thread."""
    stack = getattr(_local, "stack", None)
    if stack:
        return stack[-1]
    return _default_name()


def backend_reason() -> str:
    """Why the backend in force was chosen."""
    stack = getattr(_local, "stack", None)
    if stack:
        return "use_backend() context"
    _default_name()
    return _default_reason


def current_backend() -> Backend:
    return _load(get_backend())


def resolve_backend(name: str | None) -> Backend:
    """The Backend object for an explicit name, or the one in force for None."""
    if name is None:
        return current_backend()
    return _load(_resolve(name, "argument")[0])


def set_backend(name: str) -> None:
    """Set the process-wide default backend ("simd", "scalar", "numpy" or "auto")."""
    global _default, _default_reason
    _default, _default_reason = _resolve(name, "set_backend()")


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[str]:
    """Run the block with another backend in this thread; restores the previous one on exit."""
    resolved, _ = _resolve(name, "use_backend()")
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    stack.append(resolved)
    try:
        yield resolved
    finally:
        stack.pop()
