"""The simd backend: AVX2+FMA+F16C kernels, OpenMP over output rows.

The kernels are compiled for that target explicitly (never -march=native) and are only used
after a run-time check (cpuid + xgetbv: the CPU has the instructions and the OS saves YMM state);
otherwise load() raises BackendUnavailable and "auto" falls back to the scalar backend.
"""
from ...registry import BackendUnavailable
from ..common.compiled import CompiledBackend

REQUIRED = ("avx2", "fma", "f16c", "os_saves_ymm")


def missing_features(cpu: dict) -> list[str]:
    return [name for name in REQUIRED if not cpu.get(name)]


def load() -> CompiledBackend:
    from . import _kernels  # ImportError -> registry reports "not built"
    missing = missing_features(_kernels.cpu_features())
    if missing:
        raise BackendUnavailable(
            f"this CPU/OS lacks {', '.join(missing)} (needed by the AVX2 kernels); use 'scalar'")
    return CompiledBackend("simd", _kernels)
