"""show_config(): what runs here and why (backend, SIMD target, OpenMP, threads)."""
from __future__ import annotations

import os
import platform

from . import registry, threads


def show_config() -> str:
    lines = [f"fusedq on {platform.machine()} / Python {platform.python_version()}"]
    try:
        name = registry.get_backend()
        lines.append(f"backend: {name} ({registry.backend_reason()})")
        lines.append(f"  {registry.current_backend().describe()}")
    except (ValueError, registry.BackendUnavailable) as exc:
        lines.append(f"backend: not resolved: {exc}")
    lines.append("backends:")
    for backend, state in registry.backend_status().items():
        lines.append(f"  {backend:7s} {state}")
    lines.extend(_build_lines())
    lines.append(f"threads: {threads.get_num_threads()} (physical cores: {threads.physical_cores()})")
    wait = {k: os.environ[k] for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") if k in os.environ}
    lines.append("OpenMP wait: " + (", ".join(f"{k}={v}" for k, v in wait.items()) or "library default"))
    return "\n".join(lines)


def _build_lines() -> list[str]:
    """Build facts of the compiled backends: OpenMP, SIMD target, CPU features seen at run time."""
    lines, cpu = [], None
    for name, state in registry.backend_status().items():
        backend = registry._loaded.get(name) if state == "available" else None
        info_of = getattr(backend, "build_info", None)
        if info_of is None:
            continue
        info = info_of()
        cpu = info["cpu"]
        omp = "OpenMP" if info["openmp"] else "no OpenMP (built serial)"
        lines.append(f"  {name} build: {info['target']}, {omp}")
    if cpu is not None:
        flags = " ".join(k for k, v in cpu.items() if v and k != "x86") or "none"
        lines.append(f"cpu features (cpuid/xgetbv): {flags}")
    return lines
