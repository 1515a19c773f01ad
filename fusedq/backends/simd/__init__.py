"""The simd backend (compiled kernels). Not built yet: reports itself unavailable."""
from ...registry import BackendUnavailable


def load():
    raise BackendUnavailable("the compiled simd kernels are not part of this build yet")
