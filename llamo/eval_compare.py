"""Reports side by side: the real-motion figures of several `llamo eval --held-out` runs in one
table (e.g. the native-only, evidence-only and both variants trained on the same budget)."""

from __future__ import annotations

import json
from pathlib import Path

from llamo.errors import LlamoError


def _pct(block: dict | None) -> str:
    if not block or not block.get("n"):
        return "-"
    return f"{block['accuracy']:.0%} (min {block['min_over_phrasings']:.0%})"


def _row(name: str, report: dict) -> str:
    real = report.get("real_held_out")
    if real is None:
        raise LlamoError(
            f"the report for {name!r} has no held-out real-motion section (run eval with --held-out)."
        )
    b, s, p = real.get("bandai", {}), real.get("squat_count", {}), real.get("plain_chat", {})
    cells = [
        name,
        f"{b['known_named']}/{b['known_n']}" if b else "-",
        f"{b['unknown_honest']}/{b['unknown_n']}" if b else "-",
        _pct(b.get("side")),
        _pct(b.get("direction")),
        f"{s['first_turn_right']}/{s['n_per_turn']}, {s['second_turn_right']}/{s['n_per_turn']}"
        if s
        else "-",
        f"{p['normal']}/{p['n']}" if p else "-",
    ]
    return "| " + " | ".join(cells) + " |"


def compare_markdown(reports: dict[str, dict]) -> str:
    """One row per report, in the order given."""
    head = [
        "| variant | known actions named | unknown: no wrong label | side (joint truth) | direction "
        "| squat count = 3 (1st turn, 2nd turn) | plain chat with a clip |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join(head + [_row(name, rep) for name, rep in reports.items()]) + "\n"


def load_reports(items: list[str]) -> dict[str, dict]:
    """NAME=PATH pairs -> {name: report}."""
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not Path(path).is_file():
            raise LlamoError(f"--compare takes NAME=REPORT.json with an existing report, not {item!r}.")
        out[name] = json.loads(Path(path).read_text())
    return out
