"""The scalar backend: portable C kernels (no intrinsics), OpenMP over output rows."""
from ..common.compiled import CompiledBackend


def load() -> CompiledBackend:
    from . import _kernels  # ImportError -> registry reports "not built"
    return CompiledBackend("scalar", _kernels)
