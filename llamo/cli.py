"""`python -m llamo <command>`: a thin layer over library functions.

Every command lives in `llamo/commands/<name>.py` with `add_arguments(parser)` and
`run(args) -> int`, imported only when used so that `--help` stays fast. `-o/--out` always names
the primary output. Bad input raises `LlamoError`, printed here as one sentence (exit code 2).
The benchmarks are not library commands: they run as `python -m bench.<target>`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from llamo.errors import LlamoError

COMMANDS: dict[str, str] = {
    "extract": "video, motion file or folder -> canonical motion .npz",
    "info": "describe a motion .npz",
    "render": "3D skeleton, GLB, overlay video, kinematics and CSV views of a motion",
    "chat": "ask LLaMo about a motion (streaming; interactive without -q)",
    "data": "synthetic instruction data (data synth ...)",
    "train": "train LLaMo on instruction JSONL",
    "eval": "evaluate a checkpoint on instruction JSONL",
    "package": "make a trained run ready to ship (fp16 modules, adapter, provenance)",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m llamo", description="LLaMo command line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if argv and argv[0] == "bench":
        target = argv[1] if len(argv) > 1 and not argv[1].startswith("-") else "<target>"
        print(
            f"error: the benchmarks moved out of the library: run `python -m bench.{target}`.",
            file=sys.stderr,
        )
        return 2
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.parse_args(argv or ["-h"])
        return 2
    name = argv[0]
    module = importlib.import_module(f"llamo.commands.{name}")
    command_parser = argparse.ArgumentParser(prog=f"python -m llamo {name}", description=COMMANDS[name])
    module.add_arguments(command_parser)
    return run_command(module.run, command_parser.parse_args(argv[1:]))


def run_command(run, args) -> int:
    """Call run(args); a LlamoError becomes one sentence on stderr and exit code 2.
    Shared by `python -m llamo` and `python -m annotations`."""
    try:
        return int(run(args) or 0)
    except LlamoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
