"""show_config(): what runs here and why (backend, SIMD target, OpenMP, threads)."""
from __future__ import annotations

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
    lines.append(f"threads: {threads.get_num_threads()} (physical cores: {threads.physical_cores()})")
    return "\n".join(lines)
