"""`fusedq bench`: the original demo's table, naive path vs every backend (and ggml when present)."""
from __future__ import annotations

import sys

HELP = "time x @ W.T: naive dequantize+numpy vs every backend in both activation modes (and ggml)"


def add_arguments(parser):
    parser.add_argument("--type", default="Q4_K", help="weight type of the random matrix (default Q4_K)")
    parser.add_argument("--shape", default="5632x2048",
                        help="ROWSxCOLS of the random matrix (default 5632x2048, TinyLlama's FFN)")
    parser.add_argument("--tensor", default=None,
                        help="time a real tensor instead, e.g. blk.0.ffn_down.weight")
    parser.add_argument("--model", default=None,
                        help="GGUF file the --tensor comes from (default: Gemma 3 270M)")
    parser.add_argument("-n", "--tokens", type=int, default=1, help="activation columns (default 1: GEMV)")
    parser.add_argument("--threads", type=int, default=2, help="threads for fusedq and ggml (default 2)")
    parser.add_argument("--backends", default=None,
                        help="comma-separated backends (default: every available one)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive path")
    parser.add_argument("--no-ggml", action="store_true", help="skip ggml even when llama-cpp-python is installed")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="time budget for the timed rounds of each matrix (default 3)")


def _parse_shape(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--shape must look like 5632x2048, got {text!r}") from None
    if rows < 1 or cols < 1:
        raise ValueError(f"--shape needs positive sizes, got {text!r}")
    return rows, cols


def _tensor(args):
    from ..benchmarking import inputs
    from ..types import qtype
    if args.tensor:
        if args.model is None:
            return inputs.gemma_tensor(args.tensor)
        from ..gguf_file import load_gguf
        tensors = load_gguf(args.model).tensors
        if args.tensor not in tensors:
            raise ValueError(f"{args.tensor!r} is not a tensor of {args.model}")
        return tensors[args.tensor]
    qt = qtype(args.type)
    rows, cols = _parse_shape(args.shape)
    if cols % qt.block_size:
        raise ValueError(f"{qt.name} needs a column count that is a multiple of {qt.block_size}, got {cols}")
    return inputs.random_tensor(qt.name, rows, cols)


def run(args) -> int:
    from .. import threads
    from ..benchmarking import ggml_peer, inputs, kernels
    if args.tokens < 1 or args.threads < 1 or args.seconds <= 0:
        raise ValueError("--tokens and --threads must be >= 1 and --seconds > 0")
    threads.set_num_threads(args.threads)
    t = _tensor(args)
    backends = [b.strip() for b in args.backends.split(",")] if args.backends else None
    methods = kernels.available_methods(not args.no_naive, not args.no_ggml, backends)
    if not args.no_ggml:
        ok, why = ggml_peer.ggml_available()
        print(f"ggml: {'libggml from ' + why if ok else 'skipped (' + why + ')'}", file=sys.stderr)
    x = inputs.activations(args.tokens, t.cols)
    label = t.name or f"{t.qtype} {t.rows}x{t.cols}"
    print(f"timing {label} ({t.qtype}), n={args.tokens}, {args.threads} threads ...", file=sys.stderr, flush=True)
    results = kernels.measure_case(f"{label} [{t.qtype}]", t, x, methods, args.seconds, args.threads)
    print(kernels.format_table(results).lstrip("\n"))
    return 0
