"""`python -m llamo bench extract|render|chat|train ...`: each target lives in `llamo/commands/bench_<target>.py`."""

from __future__ import annotations

import argparse
import importlib

TARGETS = ("extract", "render", "chat", "train")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="the target's own arguments")


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"llamo.commands.bench_{args.target}")
    parser = argparse.ArgumentParser(prog=f"python -m llamo bench {args.target}")
    module.add_arguments(parser)
    return module.run(parser.parse_args(args.rest))
