"""The simd backend: AVX2+FMA+F16C kernels, OpenMP over output rows.

The kernels are compiled for that target explicitly (never -march=native) and are only used
after a run-time check (cpuid + xgetbv: the CPU has the instructions and the OS saves YMM state);
otherwise load() raises BackendUnavailable and "auto" falls back to the scalar backend.

The same sources are also compiled for AVX-512 (F, BW, VL, DQ, VNNI: EVEX encodings, 32 vector
registers, vpdpbusd for the integer dots). That build is used where the CPU has those extensions
and the OS saves their state, unless FUSEDQ_SIMD_ISA=avx2 asks for the AVX2 build
(FUSEDQ_SIMD_ISA=auto|avx2|avx512; avx512 on a CPU without it makes the backend unavailable,
saying why).
"""
import os

from ...registry import BackendUnavailable
from ..common.compiled import CompiledBackend

REQUIRED = ("avx2", "fma", "f16c", "os_saves_ymm")
REQUIRED_AVX512 = ("avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni", "os_saves_zmm")
ISA_CHOICES = ("auto", "avx2", "avx512")


def missing_features(cpu: dict, required=REQUIRED) -> list[str]:
    return [name for name in required if not cpu.get(name)]


def choose_isa(cpu: dict, requested: str) -> str:
    """"avx512" or "avx2" for this CPU and FUSEDQ_SIMD_ISA value (BackendUnavailable/ValueError)."""
    requested = (requested or "auto").strip().lower()
    if requested not in ISA_CHOICES:
        raise ValueError(f"FUSEDQ_SIMD_ISA={requested!r}: choose one of {', '.join(ISA_CHOICES)}")
    missing = missing_features(cpu, REQUIRED_AVX512)
    if requested == "avx512" and missing:
        raise BackendUnavailable(
            f"FUSEDQ_SIMD_ISA=avx512 but this CPU/OS lacks {', '.join(missing)}; unset it or use avx2")
    return "avx512" if requested != "avx2" and not missing else "avx2"


def load() -> CompiledBackend:
    from . import _kernels  # ImportError -> registry reports "not built"
    cpu = _kernels.cpu_features()
    missing = missing_features(cpu)
    if missing:
        raise BackendUnavailable(
            f"this CPU/OS lacks {', '.join(missing)} (needed by the AVX2 kernels); use 'scalar'")
    _kernels.select_isa(choose_isa(cpu, os.environ.get("FUSEDQ_SIMD_ISA", "auto")) == "avx512")
    return CompiledBackend("simd", _kernels)
