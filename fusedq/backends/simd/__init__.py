"""The simd backend: AVX2+FMA+F16C kernels, OpenMP over output rows.

The kernels are compiled for that target explicitly (never -march=native) and are only used
after a run-time check (cpuid + xgetbv: the CPU has the instructions and the OS saves YMM state);
otherwise load() raises BackendUnavailable and "auto" falls back to the scalar backend.

The same sources are also compiled for AVX-512 (F, BW, VL, DQ, VNNI: EVEX encodings, 32 vector
registers, vpdpbusd for the integer dots). That build is used where the CPU has those extensions
and the OS saves their state, unless FUSEDQ_SIMD_ISA=avx2 asks for the AVX2 build
(FUSEDQ_SIMD_ISA=auto|avx2|avx512|amx; avx512 on a CPU without it makes the backend unavailable,
saying why).

Where the CPU also has AMX-TILE and AMX-BF16, the OS saves the tile state and grants this process
its use (Linux arch_prctl, asked once at load), the AVX-512 table runs the f32-mode GEMM of the
quantized types on AMX tiles ("amx", amx_gemm_f32.h); FUSEDQ_SIMD_ISA=avx512 keeps the FMA tiles.
"""
import os

from ...registry import BackendUnavailable
from ..common.compiled import CompiledBackend

REQUIRED = ("avx2", "fma", "f16c", "os_saves_ymm")
REQUIRED_AVX512 = ("avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni", "os_saves_zmm")
REQUIRED_AMX = (*REQUIRED_AVX512, "amx_tile", "amx_bf16", "os_saves_amx", "amx_permitted")
ISA_CHOICES = ("auto", "avx2", "avx512", "amx")


def missing_features(cpu: dict, required=REQUIRED) -> list[str]:
    return [name for name in required if not cpu.get(name)]


def choose_isa(cpu: dict, requested: str) -> str:
    """"amx", "avx512" or "avx2" for this CPU (cpu_features() plus amx_permitted: whether the OS
    granted AMX) and FUSEDQ_SIMD_ISA value (BackendUnavailable/ValueError)."""
    requested = (requested or "auto").strip().lower()
    if requested not in ISA_CHOICES:
        raise ValueError(f"FUSEDQ_SIMD_ISA={requested!r}: choose one of {', '.join(ISA_CHOICES)}")
    for isa, required in (("amx", REQUIRED_AMX), ("avx512", REQUIRED_AVX512)):
        missing = missing_features(cpu, required)
        if requested == isa and missing:
            raise BackendUnavailable(f"FUSEDQ_SIMD_ISA={isa} but this CPU/OS lacks "
                                     f"{', '.join(missing)}; unset it or use avx2")
    if requested == "auto":
        return next(isa for isa, required in (("amx", REQUIRED_AMX), ("avx512", REQUIRED_AVX512),
                                              ("avx2", ())) if not missing_features(cpu, required))
    return requested


def probe_cpu(kernels) -> dict:
    """cpu_features() of a compiled module, plus amx_permitted: whether the OS lets this process
    use AMX tiles (asked only where the CPU has them and the OS saves their state)."""
    cpu = kernels.cpu_features()
    cpu["amx_permitted"] = bool(cpu.get("amx_tile") and cpu.get("os_saves_amx") and kernels.request_amx())
    return cpu


def load() -> CompiledBackend:
    from . import _kernels  # ImportError -> registry reports "not built"
    cpu = probe_cpu(_kernels)
    missing = missing_features(cpu)
    if missing:
        raise BackendUnavailable(
            f"this CPU/OS lacks {', '.join(missing)} (needed by the AVX2 kernels); use 'scalar'")
    isa = choose_isa(cpu, os.environ.get("FUSEDQ_SIMD_ISA", "auto"))
    _kernels.select_isa(isa != "avx2", isa == "amx")
    return CompiledBackend("simd", _kernels)
