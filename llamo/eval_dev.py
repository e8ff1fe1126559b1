"""The development evaluation: choosing between checkpoints without touching the test set.

Clips: the validation takes of Bandai-Namco dataset 2 (take numbers n % 10 == 5, never trained
on; `llamo.data.real`), two accepted takes of each of its 10 contents. Phrasings:
`llamo.dev_phrasings`, written apart from both the training templates and the held-out test
phrasings. Truth: the file name (action, hand, turn) and `llamo.kinematics` (counts, times), as
in the training data. The test set (`bandai_ds1`, the squat video, `llamo.eval_phrasings`) is
`llamo.eval_real`; nothing here reads it.

Every figure is an accuracy over phrasings x clips, with its minimum and mean over phrasings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from llamo import dev_phrasings as P
from llamo.data.real import STYLES, index_clips, label_clip
from llamo.data.templates import normalise
from llamo.eval_real import MOTION_TEMPLATE, ask_in_turn, by_phrasing
from llamo.motion import Motion

PER_CONTENT = 2
TIME = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s\b|sec)")
TIME_TOLERANCE_S = 0.5


class DevClip(NamedTuple):
    name: str  # the take's file stem
    motion: Motion
    label: dict  # its segment (llamo.data.real.label_clip): action, side, direction, reps, rep_peaks


def dev_clips(folder: str | Path, per_content: int = PER_CONTENT) -> list[DevClip]:
    """The clips and labels of `per_content` accepted validation takes of each content,
    their styles taken in turn (elderly, exhausted, ...) so that no one style fills the set."""
    by_content: dict[str, list] = {}
    for clip in index_clips(folder):
        if clip.split == "val":
            by_content.setdefault(clip.content, []).append(clip)
    out, turn = [], 0
    for content in sorted(by_content):
        pool = by_content[content]
        for _ in range(per_content):
            pool.sort(key=lambda c, t=turn: (STYLES.index(c.style) - t) % len(STYLES))
            turn += 1
            while pool:
                clip = pool.pop(0)
                motion = Motion.load(clip.path)
                seg = label_clip(clip, motion)
                if seg is not None:
                    out.append(DevClip(clip.path.stem, motion, seg))
                    break
    return out


def answer_time(text: str) -> float | None:
    m = TIME.search(text)
    return float(m.group(1)) if m else None


def _row(name: str, question: str, answer: str, pred, truth, ok: bool) -> dict:
    return {"file": name, "question": question, "answer": answer, "pred": pred, "truth": truth, "ok": ok}


def _clip_rows(model, name: str, motion: Motion, seg: dict) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {"action": [], "count": [], "arm_side": [], "direction": [], "when": []}
    action = seg["action"]
    for q in P.ACTION:
        a = ask_in_turn(model, motion, [q])[0]
        p = normalise("action", a)
        rows["action"].append(_row(name, q, a, p, action, p == action))
    if action in ("wave", "arm_raise"):
        for q in P.COUNT:
            a = ask_in_turn(model, motion, [q])[0]
            p = normalise("count", a)
            rows["count"].append(_row(name, q, a, p, seg["reps"], p == seg["reps"]))
        for q in P.ARM_SIDE:
            a = ask_in_turn(model, motion, [q])[0]
            p = normalise("side", a)
            rows["arm_side"].append(_row(name, q, a, p, seg["side"], p == seg["side"]))
        if len(seg["rep_peaks"]) >= 2:
            truth = round(seg["rep_peaks"][1] / motion.fps, 1)
            for q in P.WHEN:
                question = q.format(ordinal="second")
                a = ask_in_turn(model, motion, [question])[0]
                t = answer_time(a)
                ok = t is not None and abs(t - truth) <= TIME_TOLERANCE_S
                rows["when"].append(_row(name, question, a, t, truth, ok))
    else:
        for q in P.DIRECTION:
            a = ask_in_turn(model, motion, [q])[0]
            p = normalise("direction", a)
            rows["direction"].append(_row(name, q, a, p, seg["direction"], p == seg["direction"]))
    return rows


def evaluate_dev(model, folder: str | Path, per_content: int = PER_CONTENT) -> dict:
    """Action, count, arm side, direction and "when" on validation takes, plain chat on one."""
    clips = dev_clips(folder, per_content)
    rows: dict[str, list[dict]] = {}
    for name, motion, seg in clips:
        for kind, kind_rows in _clip_rows(model, name, motion, seg).items():
            rows.setdefault(kind, []).extend(kind_rows)
    plain = []
    if clips:
        name, motion, _ = clips[0]
        for q in P.PLAIN:
            a = ask_in_turn(model, motion, [q], max_new_tokens=48)[0]
            normal = bool(a) and not MOTION_TEMPLATE.search(a)
            plain.append(_row(name, q, a, None, "normal", normal))
    rows["plain"] = plain
    return {"clips": len(clips), "scores": {k: by_phrasing(v) for k, v in rows.items()}, "rows": rows}


def markdown_dev(rep: dict) -> str:
    lines = [
        "## Development set (Bandai-Namco ds2 validation takes, development phrasings; not the test set)",
        "",
        f"{rep['clips']} clips. Accuracy over phrasings x clips (min / mean over phrasings):",
        "",
        "| kind | accuracy | min | mean | n |",
        "|---|---|---|---|---|",
    ]
    for kind, s in rep["scores"].items():
        if s["n"]:
            lines.append(f"| {kind} | {s['accuracy']:.0%} | {s['min_over_phrasings']:.0%} | "
                         f"{s['mean_over_phrasings']:.0%} | {s['n']} |")  # fmt: skip
    return "\n".join(lines) + "\n"
