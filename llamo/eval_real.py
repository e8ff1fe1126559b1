"""The real-motion evaluation: real mocap and a real video, truth from file names and from the joints.

- `bandai_ds1` (evaluation only, CC BY-NC): every clip. Known actions must be named; for the
  actions the model has no word for, an honest answer names none of its labels confidently.
- The shared squat video: the count in every held-out wording, as a first and as a second turn.
- Side (which arm, which leg) and travel direction, with the truth computed from the joints.
- Plain questions with a clip attached must get ordinary answers.

Phrasings come from `llamo.eval_phrasings` (held out, written apart from training). Each figure
is reported with its minimum and mean over phrasings where there are several.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from llamo import eval_phrasings as P
from llamo.answer_check import FlagTally, flag_of, side_answer
from llamo.chat import ChatSession
from llamo.data.templates import normalise
from llamo.evidence import measure, pair_side
from llamo.importers import load_motion
from llamo.motion import Motion

# Bandai dataset-1 contents -> our action words (None: the model has no word for it).
BANDAI_ACTIONS = {
    "walk": "walk", "walk-back": "walk", "walk-left": "walk", "walk-right": "walk",
    "run": "run", "dash": "run", "bow": "bow", "bye": "wave", "byebye": "wave",
    "punch": "punch", "kick": "kick",
    "call": None, "guide": None, "respond": None, "slash": None, "dance-short": None,
}  # fmt: skip
MOTION_TEMPLATE = re.compile(
    r"the person is|repetitions?|the motion|the clip|squats?|jumping jacks|can't tell from the motion|"
    r"\b(left|right|both) (arm|leg)s?\b",
    re.I,
)
MAX_CLIP_S = 30.0


@dataclass
class Asked:
    question: str
    answer: str
    pred: object
    truth: object
    ok: bool
    flag: str = ""  # what the app's measurement check says under this answer (llamo.answer_check)


def ask_in_turn(model, motion: Motion | None, questions: list[str], max_new_tokens: int = 40) -> list[str]:
    """Ask `questions` in one conversation, greedily; the answers in order."""
    session = ChatSession(model, motion)
    out = []
    for q in questions:
        for _ in session.ask(q, max_new_tokens=max_new_tokens):
            pass
        out.append(session.last_turn.answer.strip())
    return out


def arm_side_truth(motion: Motion) -> str:
    """The arm whose wrist travels most relative to the pelvis (left / right / both)."""
    return pair_side(motion.joints, "arm")


def leg_side_truth(motion: Motion) -> str:
    return pair_side(motion.joints, "leg")


def bandai_content(name: str) -> str | None:
    m = re.match(r"dataset-1_(.+?)_normal", name)
    return m.group(1) if m else None


def load_real_clip(path: Path) -> Motion:
    """A dataset-1 file as the evaluation reads it: 20 fps, at most MAX_CLIP_S seconds."""
    motion = load_motion(path, fps=20.0)
    limit = int(MAX_CLIP_S * motion.fps)
    return motion.slice(0, limit) if motion.num_frames > limit else motion


def evaluate_bandai(model, folder: str | Path) -> dict:
    """Action naming (known), honesty (unknown), side and direction with joint truth."""
    rows, side_rows, dir_rows = [], [], []
    for path in sorted(Path(folder).glob("dataset-1_*.bvh")):
        content = bandai_content(path.name)
        if content not in BANDAI_ACTIONS:
            continue
        motion, gold = load_real_clip(path), BANDAI_ACTIONS[content]
        measured = measure(motion)  # for the flags the app's measurement check would show
        answers = ask_in_turn(model, motion, [P.ACTION[0]])
        pred = normalise("action", answers[0])
        ok = pred == gold if gold else pred in (None, "other")
        rows.append(
            {"file": path.name, "gold": gold or "unknown", "answer": answers[0], "pred": pred, "ok": ok}
        )
        if content in ("punch", "bye", "byebye", "kick"):
            truth = leg_side_truth(motion) if content == "kick" else arm_side_truth(motion)
            limb, qs = ("leg", P.LEG_SIDE) if content == "kick" else ("arm", P.ARM_SIDE)
            for q, a in zip(qs, [ask_in_turn(model, motion, [q])[0] for q in qs], strict=True):
                p = side_answer(a, limb)
                side_rows.append(
                    asdict(Asked(q, a, p, truth, p == truth, flag_of(q, a, measured))) | {"file": path.name}
                )
        if gold in ("walk", "run"):
            truth = measured.travel_direction
            for q in P.DIRECTION:
                a = ask_in_turn(model, motion, [q])[0]
                p = normalise("direction", a)
                ok_dir = p == truth or (truth == "forward" and p in ("turn_left", "turn_right"))
                dir_rows.append(
                    asdict(Asked(q, a, p, truth, ok_dir, flag_of(q, a, measured))) | {"file": path.name}
                )
    known = [r for r in rows if r["gold"] != "unknown"]
    unknown = [r for r in rows if r["gold"] == "unknown"]
    return {
        "known_named": sum(r["ok"] for r in known),
        "known_n": len(known),
        "unknown_honest": sum(r["ok"] for r in unknown),
        "unknown_n": len(unknown),
        "side": by_phrasing(side_rows),
        "direction": by_phrasing(dir_rows),
        "files": rows,
        "side_rows": side_rows,
        "direction_rows": dir_rows,
    }


def by_phrasing(rows: list[dict]) -> dict:
    """Accuracy overall, and its minimum and mean over phrasings."""
    if not rows:
        return {"accuracy": None, "n": 0}
    per = {}
    for r in rows:
        per.setdefault(r["question"], []).append(r["ok"])
    accs = [float(np.mean(v)) for v in per.values()]
    return {"accuracy": float(np.mean([r["ok"] for r in rows])), "n": len(rows),
            "min_over_phrasings": min(accs), "mean_over_phrasings": float(np.mean(accs))}  # fmt: skip


def evaluate_squat_count(model, motion: Motion, truth: int = 3) -> dict:
    """The count in every held-out wording, asked first and asked after another turn."""
    rows, measured = [], measure(motion)
    for q in P.COUNT:
        first = ask_in_turn(model, motion, [q])[0]
        second = ask_in_turn(model, motion, [P.FIRST_TURN, q])[1]
        for turn, a in (("first", first), ("second", second)):
            p = normalise("count", a)
            rows.append({"question": q, "turn": turn, "answer": a, "pred": p, "ok": p == truth,
                         "flag": flag_of(q, a, measured)})  # fmt: skip
    return {
        "truth": truth,
        "first_turn_right": sum(r["ok"] for r in rows if r["turn"] == "first"),
        "second_turn_right": sum(r["ok"] for r in rows if r["turn"] == "second"),
        "n_per_turn": len(P.COUNT),
        "rows": rows,
    }


def evaluate_plain_chat(model, motion: Motion, questions: list[str] = P.PLAIN) -> dict:
    """General questions with a clip attached; normal = no collapse into motion templates."""
    rows = []
    for q in questions:
        a = ask_in_turn(model, motion, [q], max_new_tokens=48)[0]
        normal = bool(a) and not MOTION_TEMPLATE.search(a)
        rows.append({"question": q, "answer": a, "ok": normal})
    return {"normal": sum(r["ok"] for r in rows), "n": len(rows), "rows": rows}


def evaluate_real_motion(
    model, mocap_dir: str | Path | None, squat_motion: Motion | None, squat_truth: int = 3
) -> dict:
    out: dict = {}
    if mocap_dir and Path(mocap_dir).is_dir():
        out["bandai"] = evaluate_bandai(model, mocap_dir)
    if squat_motion is not None:
        out["squat_count"] = evaluate_squat_count(model, squat_motion, squat_truth)
        out["plain_chat"] = evaluate_plain_chat(model, squat_motion)
    return out


def _flags(rows: list[dict]) -> str:
    """'; the app's measurement check: 2 of 8 wrong answers flagged, ...' (none in older reports)."""
    return (
        f"; the app's measurement check: {FlagTally.of(rows).words()}" if rows and "flag" in rows[0] else ""
    )


def markdown_real(rep: dict) -> str:
    """The report section: figures first, then every answer, so a reader can check them."""
    lines = ["## Real motion (held-out phrasings, truth from names and joints)", ""]
    if "bandai" in rep:
        b = rep["bandai"]
        lines += [
            f"- bandai_ds1 known actions named: **{b['known_named']} of {b['known_n']}**",
            f"- bandai_ds1 unknown actions without a confident wrong label: **{b['unknown_honest']} of {b['unknown_n']}**",
        ]
        for key in ("side", "direction"):
            s = b[key]
            if s["n"]:
                lines.append(f"- {key} (joint truth): {s['accuracy']:.0%} of {s['n']}; "
                             f"min over phrasings {s['min_over_phrasings']:.0%}, mean {s['mean_over_phrasings']:.0%}"
                             + _flags(b[f"{key}_rows"]))  # fmt: skip
    if "squat_count" in rep:
        s = rep["squat_count"]
        lines.append(f"- squat video count = {s['truth']}: first turn {s['first_turn_right']} of {s['n_per_turn']}, "
                     f"second turn {s['second_turn_right']} of {s['n_per_turn']}" + _flags(s["rows"]))  # fmt: skip
    if "plain_chat" in rep:
        lines.append(
            f"- plain questions with a clip attached answered normally: {rep['plain_chat']['normal']} of {rep['plain_chat']['n']}"
        )
    lines += ["", "| file | truth | answer | ok |", "|---|---|---|---|"]
    for r in rep.get("bandai", {}).get("files", []):
        lines.append(
            f"| {r['file']} | {r['gold']} | {r['answer'].replace('|', '/')} | {'yes' if r['ok'] else 'no'} |"
        )
    for r in rep.get("squat_count", {}).get("rows", []):
        lines.append(
            f"| squat ({r['turn']} turn): {r['question']} | 3 | {r['answer'].replace('|', '/')} | {'yes' if r['ok'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"
