"""The `fusedq` command line: one module per sub-command, looked up in one table.

Each module in COMMANDS exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Text the user asked for goes to stdout; logs, progress and timings go to stderr.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "generate": "fusedq.cli.generate",
    "info": "fusedq.cli.info",
    "bench": "fusedq.cli.bench",
    "synth": "fusedq.cli.synth",
    "config": "fusedq.cli.config",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fusedq", description="GGUF models and fused quantized kernels on the CPU")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # a sub-command not part of this build
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"fusedq {args.command}: error: {exc}", file=sys.stderr)
        return 2
