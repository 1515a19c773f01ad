"""`fusedq generate`: stream a continuation of PROMPT to stdout; load time and speeds to stderr."""
from __future__ import annotations

import os
import sys

HELP = "generate text from a prompt with a GGUF model (default: Gemma 3 270M Q4_K_M)"


def add_arguments(parser) -> None:
    parser.add_argument("prompt", help="text to continue")
    parser.add_argument("--model", "-m", default=None, metavar="PATH",
                        help="GGUF file (default: Gemma 3 270M, assembled into the cache on first use)")
    parser.add_argument("-n", "--max-tokens", type=int, default=128, metavar="N",
                        help="most tokens to generate (default 128)")
    parser.add_argument("--temperature", "-t", type=float, default=0.8, metavar="T",
                        help="sampling temperature; 0 = greedy (default 0.8)")
    parser.add_argument("--top-k", type=int, default=40, metavar="K", help="default 40; <= 0: off")
    parser.add_argument("--top-p", type=float, default=0.95, metavar="P", help="default 0.95; 1: off")
    parser.add_argument("--min-p", type=float, default=0.05, metavar="P", help="default 0.05; 0: off")
    parser.add_argument("--seed", "-s", type=int, default=None, metavar="S",
                        help="random seed (same seed, same text)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="kernel threads (default: FUSEDQ_NUM_THREADS or physical cores)")
    parser.add_argument("--backend", default=None, metavar="B",
                        help="simd, scalar, numpy or auto (default: FUSEDQ_BACKEND or auto)")
    parser.add_argument("--ctx", type=int, default=2048, metavar="N", help="context length (default 2048)")
    parser.add_argument("--stop", action="append", default=None, metavar="TEXT",
                        help="stop before this text (may be repeated)")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def run(args) -> int:
    import fusedq

    model = fusedq.Model.load(args.model, n_ctx=args.ctx, threads=args.threads, backend=args.backend)
    name = os.path.basename(model.path)
    print(f"fusedq: loaded {name} ({model.config.arch.name}, {model.config.n_layer} layers) in "
          f"{model.load_seconds:.2f} s; backend {model.backend}, {_plural(fusedq.get_num_threads(), 'thread')}",
          file=sys.stderr, flush=True)
    out = sys.stdout.buffer
    pieces = model.generate(args.prompt, max_tokens=args.max_tokens, temperature=args.temperature,
                            top_k=args.top_k, top_p=args.top_p, min_p=args.min_p, seed=args.seed,
                            stop=args.stop, stream=True)
    for piece in pieces:
        out.write(piece.encode("utf-8"))
        out.flush()
    out.write(b"\n")
    out.flush()
    s = model.last_stats
    print(f"fusedq: prompt {s.prompt_tokens} tokens, prefill {s.prefill_tok_s:.1f} tok/s; "
          f"generated {s.generated_tokens} tokens, decode {s.decode_tok_s:.1f} tok/s",
          file=sys.stderr, flush=True)
    return 0
