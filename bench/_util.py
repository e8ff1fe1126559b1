"""Benchmark hygiene shared by every `python -m bench.<target>`.

Warm up first; pin and print the thread count; report the median and minimum of N runs; print
the machine's load. Baselines are timed in the same process, interleaved with the candidate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


def main_for(module_name: str, doc: str | None, add_arguments, run, argv: Sequence[str] | None) -> int:
    """Parse `argv` with the target's `add_arguments`, call `run(args)` and write the figures it
    returns to `-o/--out`. Exit code 1 when the figures list failures; a `LlamoError` becomes one
    sentence and exit code 2, as in `python -m llamo`."""
    from llamo.cli import run_command

    def run_and_write(args: argparse.Namespace) -> int:
        figures = run(args)
        write_figures(args.out, figures)
        return 1 if figures.get("failures") else 0

    prog = f"python -m {module_name}"
    description = (doc or "").strip().splitlines()[0] if doc else None
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_arguments(parser)
    return run_command(run_and_write, parser.parse_args(argv))


def add_out_argument(parser: argparse.ArgumentParser) -> None:
    """`-o/--out` names the primary output (the figures as JSON); `--json` is the old spelling."""
    parser.add_argument("-o", "--out", "--json", dest="out", help="also write the figures to this JSON file")


def write_figures(path: str | None, figures: dict) -> None:
    """Write the figures as JSON to `-o/--out`, when given."""
    if path:
        Path(path).write_text(json.dumps(figures, indent=2, default=str) + "\n")


def pin_threads(threads: int | None) -> int:
    """Pin torch's (and BLAS's) thread count; returns the count in use."""
    import torch

    if threads:
        torch.set_num_threads(threads)
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    return torch.get_num_threads()


def machine_line(threads: int) -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"threads pinned={threads}, load avg={load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


@dataclass
class Timing:
    name: str
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def minimum(self) -> float:
        return min(self.samples)

    def p(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    def as_dict(self) -> dict:
        return {"median_s": self.median, "min_s": self.minimum, "n": len(self.samples)}


def interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, Timing]:
    """Time several callables interleaved (a, b, a, b, ...) after `warmup` untimed rounds each."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    timings = {name: Timing(name, []) for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            timings[name].samples.append(time.perf_counter() - start)
    return timings
