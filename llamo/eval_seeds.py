"""A candidate judged against the seed-to-seed spread of a baseline, on development reports.

One training seed alone moves some development kinds by several askings (docs/training.md, "How
much of this is the seed?"), so a margin fixed in advance can call noise a loss or a gain. Here
both the baseline recipe and the candidate run with the same few seeds; a kind's margin is the
baseline's own spread (max - min over its seeds), never less than a floor.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

from llamo.errors import LlamoError

LOSS_FLOOR = 2  # askings: a loss within max(this, the baseline's spread) is not counted against


class KindJudgement(NamedTuple):
    kind: str
    n: int  # askings per run
    baseline: list[int]  # right answers per baseline seed
    candidate: list[int]  # right answers per candidate seed
    delta: float  # candidate mean - baseline mean
    spread: int  # baseline max - min
    needed: float  # the least delta that passes
    rule: str  # "gain", "no loss" or "not judged"
    passed: bool | None


def rights(report: dict) -> dict[str, tuple[int, int]]:
    """{kind: (right, n)} of one report's development section."""
    dev = report.get("dev")
    if not dev:
        raise LlamoError(
            "a report given to the seed judgement has no development section (run eval --dev-clips)."
        )
    return {k: (round(s["accuracy"] * s["n"]), s["n"]) for k, s in dev["scores"].items() if s["n"]}


def judge(
    baseline: list[dict], candidate: list[dict], gains: dict[str, int], exempt: Collection[str] = ()
) -> list[KindJudgement]:
    """Per kind: a `gains` kind passes when the mean gain is at least its figure and twice the
    baseline's spread; an exempt kind is shown, not judged; every other kind passes when the mean
    loss is within max(LOSS_FLOOR, spread)."""
    base, cand = [rights(r) for r in baseline], [rights(r) for r in candidate]
    out = []
    for kind in base[0]:
        if any(kind not in r for r in base + cand):
            raise LlamoError(
                f"the kind {kind!r} is missing from some reports: evaluate all with the same code."
            )
        b, c = [r[kind][0] for r in base], [r[kind][0] for r in cand]
        delta = sum(c) / len(c) - sum(b) / len(b)
        spread = max(b) - min(b)
        if kind in gains:
            rule, needed = "gain", float(max(gains[kind], 2 * spread))
        elif kind in exempt:
            rule, needed = "not judged", float("nan")
        else:
            rule, needed = "no loss", -float(max(LOSS_FLOOR, spread))
        passed = None if rule == "not judged" else delta >= needed
        out.append(KindJudgement(kind, base[0][kind][1], b, c, delta, spread, needed, rule, passed))
    return out


def judgement_markdown(rows: list[KindJudgement]) -> str:
    head = [
        "| kind | n | baseline (per seed) | candidate (per seed) | mean change | baseline spread "
        "| needed | rule | passes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines = [
        f"| {r.kind} | {r.n} | {', '.join(map(str, r.baseline))} | {', '.join(map(str, r.candidate))} "
        f"| {r.delta:+.1f} | {r.spread} | {'-' if r.passed is None else f'{r.needed:+.0f}'} | {r.rule} "
        f"| {'-' if r.passed is None else ('yes' if r.passed else '**no**')} |"
        for r in rows
    ]
    verdict = all(r.passed is not False for r in rows)
    return "\n".join(head + lines) + f"\n\nVerdict: {'passes' if verdict else 'does not pass'}.\n"


def load(paths: list[str]) -> list[dict]:
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise LlamoError(f"no report at {missing[0]}.")
    return [json.loads(Path(p).read_text()) for p in paths]
