"""`fusedq synth`: write a synthetic GGUF model with a real architecture's shapes."""
from __future__ import annotations

import sys

HELP = "write a GGUF with a known model's shapes, random weights and a real tokenizer (e.g. TinyLlama Q4_K_M)"


def add_arguments(parser):
    from ..synth import MIXES, PRESETS, PURE_FTYPES
    parser.add_argument("--like", default="tinyllama", choices=sorted(PRESETS),
                        help="whose shapes to copy (default tinyllama: 22 layers, dim 2048, FFN 5632)")
    parser.add_argument("--type", default="Q4_K_M", metavar="MIX",
                        help=f"llama.cpp type mix or one type: {', '.join([*MIXES, *PURE_FTYPES])} (default Q4_K_M)")
    parser.add_argument("-o", "--output", required=True, help="path of the GGUF file to write")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the weights (default 0)")


def run(args) -> int:
    import collections
    import os

    from ..synth import write_synthetic
    types = write_synthetic(args.output, args.like, args.type, args.seed, progress=True)
    counts = collections.Counter(types.values())
    size = os.path.getsize(args.output)
    print(f"wrote {args.output}: {len(types)} tensors ({', '.join(f'{n} {t}' for t, n in counts.most_common())}), "
          f"{size / 1e6:.1f} MB", file=sys.stderr)
    return 0
