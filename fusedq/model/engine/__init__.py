"""The compiled forward engine: the whole model in one nogil call on a compiled backend.

`make_transformer` picks the forward a Model runs: the engine when the backend in force is compiled
(it exposes kernel_api()) and the engine is built, else the numpy Transformer (the reference).
FUSEDQ_ENGINE=0 forces the numpy forward.
"""
from __future__ import annotations

import os
import warnings

from ... import registry
from ..transformer import Transformer


def engine_enabled() -> bool:
    return os.environ.get("FUSEDQ_ENGINE", "1").strip() != "0"


def make_transformer(config, weights, n_ctx: int, backend_name: str) -> Transformer:
    backend = registry.resolve_backend(backend_name)
    kernel_api = getattr(backend, "kernel_api", None)
    if kernel_api is None or not engine_enabled():
        return Transformer(config, weights, n_ctx)
    try:
        from .compiled_transformer import CompiledTransformer
    except ImportError as exc:
        warnings.warn(f"fusedq's compiled engine is not built ({exc}); the model runs the slower "
                      "numpy forward. Build it with `python setup.py build_ext --inplace`.")
        return Transformer(config, weights, n_ctx)
    return CompiledTransformer(config, weights, n_ctx, kernel_api())
