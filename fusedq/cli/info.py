"""`fusedq info PATH`: what a GGUF model is, without running it."""
from __future__ import annotations

import os
from collections import defaultdict

HELP = "describe a GGUF model: architecture, hyperparameters, tokenizer, tensors per type"


def add_arguments(parser) -> None:
    parser.add_argument("path", help="GGUF file")
    parser.add_argument("--backend", default=None, metavar="B",
                        help="backend to report as serving the tensors (default: the one in force)")


def _tokenizer_lines(meta: dict) -> list[str]:
    tokens = meta.get("tokenizer.ggml.tokens")
    n = len(tokens) if tokens is not None else 0
    ids = ", ".join(f"{k} {meta[f'tokenizer.ggml.{k}_token_id']}" for k in ("bos", "eos")
                    if f"tokenizer.ggml.{k}_token_id" in meta)
    return [f"tokenizer: model {meta.get('tokenizer.ggml.model', '?')}, pre "
            f"{meta.get('tokenizer.ggml.pre', '-')}, vocab {n}" + (f" ({ids})" if ids else "")]


def run(args) -> int:
    from .. import registry
    from ..gguf_file import load_gguf
    from ..model.config import config_from_metadata

    g = load_gguf(args.path)
    meta = g.metadata
    print(f"file: {g.path}")
    print(f"size: {os.path.getsize(g.path):,} bytes (GGUF v{g.version})")
    print(f"name: {meta.get('general.name', '?')}")
    print(f"architecture: {meta.get('general.architecture', '?')}")
    try:
        cfg = config_from_metadata(meta, len(g.tensors))
        for key, value in list(cfg.describe().items())[1:]:
            print(f"  {key}: {value}")
    except ValueError as exc:
        print(f"  (cannot run: {exc})")
    for line in _tokenizer_lines(meta):
        print(line)
    be = registry.resolve_backend(args.backend)
    per_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in g.tensors.values():
        per_type[t.qtype][0] += 1
        per_type[t.qtype][1] += t.nbytes
    total = sum(b for _, b in per_type.values())
    print(f"tensors: {len(g.tensors)}, {total:,} bytes; kernels from backend {be.name!r} ({be.describe()})")
    for name, (count, nbytes) in sorted(per_type.items(), key=lambda kv: -kv[1][1]):
        print(f"  {name:7s} {count:4d} tensors {nbytes:>14,} bytes")
    return 0
