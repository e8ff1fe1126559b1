"""A stored report's answers read again by the current measurement check (`llamo.answer_check`).

The check reads an answer beside its clip's measurement and nothing else, so when the check
changes, the flags of a report can be brought up to date without asking the model again: for
the test set that also means not running it a second time. Scores do not change; flags do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from llamo.answer_check import flag_of
from llamo.errors import LlamoError
from llamo.evidence import Evidence, measure
from llamo.motion import Motion


@dataclass(frozen=True)
class Reflagged:
    """How many of a section's rows were read again, and how many flags changed."""

    section: str
    rows: int
    changed: int


def _reflag(section: str, rows: list[dict], measured) -> Reflagged:
    changed = 0
    for row in rows:
        flag = flag_of(row["question"], row["answer"], measured(row))
        changed += flag != row.get("flag", "")
        row["flag"] = flag
    return Reflagged(section, len(rows), changed)


def _by_file(load: Callable[[str], Motion]) -> Callable[[dict], Evidence]:
    """One measurement per file, made when first asked for."""
    seen: dict[str, Evidence] = {}

    def measured(row: dict) -> Evidence:
        if row["file"] not in seen:
            seen[row["file"]] = measure(load(row["file"]))
        return seen[row["file"]]

    return measured


def reflag_report(
    report: dict,
    *,
    dev_clips: str | Path | None = None,
    mocap: str | Path | None = None,
    squat: Motion | None = None,
) -> list[Reflagged]:
    """Recompute every stored flag of `report` in place; each section needs its clips."""
    done = []
    held = report.get("real_held_out") or {}
    if held.get("bandai"):
        if mocap is None:
            raise LlamoError("the report has dataset-1 answers: give --mocap, the folder they came from.")
        from llamo.eval_real import load_real_clip

        measured = _by_file(lambda name: load_real_clip(Path(mocap) / name))
        for key in ("side_rows", "direction_rows"):
            done.append(_reflag(f"bandai {key}", held["bandai"][key], measured))
    if held.get("squat_count"):
        if squat is None:
            raise LlamoError("the report has squat-video answers: give --squat-video.")
        ev = measure(squat)
        done.append(_reflag("squat count", held["squat_count"]["rows"], lambda row: ev))
    if report.get("dev"):
        if dev_clips is None:
            raise LlamoError("the report has development answers: give --dev-clips.")
        from llamo.eval_dev import dev_motions

        motions = dev_motions(dev_clips)
        measured = _by_file(lambda name: motions[name])
        for kind, rows in report["dev"]["rows"].items():
            if rows and "flag" in rows[0]:
                done.append(_reflag(f"dev {kind}", rows, measured))
    if not done:
        raise LlamoError("the report has no answers the measurement check reads.")
    return done
