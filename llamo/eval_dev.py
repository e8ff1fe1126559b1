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

from pathlib import Path
from typing import NamedTuple

from llamo import dev_phrasings as P
from llamo.answer_check import TIME_TOLERANCE_S, FlagTally, answer_time, flag_of, side_answer
from llamo.data.real import STYLES, index_clips, label_clip
from llamo.data.templates import normalise
from llamo.eval_probe import kick_probe, swing_probe
from llamo.eval_real import ask_in_turn, by_phrasing, evaluate_plain_chat, leg_side_truth
from llamo.evidence import measure
from llamo.motion import Motion

PER_CONTENT = 2


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


def _read(kind: str, answer: str):
    """The answer's value: a time, a side of the arm or leg asked about, or the kind's label."""
    if kind == "when":
        return answer_time(answer)
    if kind in ("arm_side", "leg_side"):
        return side_answer(answer, kind.removesuffix("_side"))
    return normalise(kind, answer)


def _asked(model, clip: DevClip, kind: str, questions: list[str], truth) -> list[dict]:
    """Each question in its own conversation, the answer read as `kind` against `truth`."""
    rows, measured = [], measure(clip.motion)
    for q in questions:
        a = ask_in_turn(model, clip.motion, [q])[0]
        p = _read(kind, a)
        ok = p is not None and abs(p - truth) <= TIME_TOLERANCE_S if kind == "when" else p == truth
        rows.append({"file": clip.name, "question": q, "answer": a, "pred": p, "truth": truth, "ok": ok,
                     "flag": flag_of(q, a, measured)})  # what the app flags under this answer  # fmt: skip
    return rows


def _clip_rows(model, clip: DevClip) -> dict[str, list[dict]]:
    seg = clip.label
    rows = {"action": _asked(model, clip, "action", P.ACTION, seg["action"])}
    if seg["action"] in ("wave", "arm_raise"):
        rows["count"] = _asked(model, clip, "count", P.COUNT, seg["reps"])
        rows["arm_side"] = _asked(model, clip, "arm_side", P.ARM_SIDE, seg["side"])
        if len(seg["rep_peaks"]) >= 2:
            truth = round(seg["rep_peaks"][1] / clip.motion.fps, 1)
            rows["when"] = _asked(model, clip, "when", [q.format(ordinal="second") for q in P.WHEN], truth)
    else:
        rows["direction"] = _asked(model, clip, "direction", P.DIRECTION, seg["direction"])
    rows["leg_side"] = _asked(model, clip, "leg_side", P.LEG_SIDE, leg_side_truth(clip.motion))
    return rows


# report kind: (make_probe, the label in each probe's name)
PROBES = {"kick_leg": (kick_probe, "kick"), "swing_leg": (swing_probe, "leg swing")}


def _probes(clips: list[DevClip], make_probe, label: str) -> list[DevClip]:
    """The standing takes with one leg moved by `make_probe` (`llamo.eval_probe`)."""
    standing = [c for c in clips if c.label["action"] in ("wave", "arm_raise")]
    return [
        DevClip(
            f"{clip.name} + {probe.side} {label}",
            probe.motion,
            {**clip.label, "action": label, "side": probe.side},
        )
        for clip, probe in zip(standing, make_probe([c.motion for c in standing]), strict=True)
    ]


def _probe_rows(model, clips: list[DevClip], make_probe, label: str) -> list[dict]:
    """Ask "which leg?" about the probes; the truth is measured as in the test set."""
    rows = []
    for asked in _probes(clips, make_probe, label):
        rows += _asked(model, asked, "leg_side", P.LEG_SIDE, leg_side_truth(asked.motion))
    return rows


def dev_motions(folder: str | Path, per_content: int = PER_CONTENT) -> dict[str, Motion]:
    """Every motion a development report names in its rows' "file", probes included."""
    clips = dev_clips(folder, per_content)
    probes = [p for make, label in PROBES.values() for p in _probes(clips, make, label)]
    return {c.name: c.motion for c in clips + probes}


def evaluate_dev(model, folder: str | Path, per_content: int = PER_CONTENT) -> dict:
    """Action, count, arm and leg side, direction and "when" on validation takes, plain chat on
    one (and general questions worded like motion ones on a one-sided one), and the moving leg of
    both probes. The leg's truth is the measured one, as in the test set
    (`eval_real.leg_side_truth`)."""
    clips = dev_clips(folder, per_content)
    kinds = ("action", "count", "arm_side", "leg_side", "direction", "when")
    rows: dict[str, list[dict]] = {k: [] for k in kinds}
    for clip in clips:
        for kind, kind_rows in _clip_rows(model, clip).items():
            rows[kind].extend(kind_rows)
    for kind, (make_probe, label) in PROBES.items():
        rows[kind] = _probe_rows(model, clips, make_probe, label)
    rows["plain"] = evaluate_plain_chat(model, clips[0].motion, P.PLAIN)["rows"] if clips else []
    sided = [c for c in clips if c.label.get("side") in ("left", "right")] or clips
    rows["plain_worded"] = (
        evaluate_plain_chat(model, sided[0].motion, P.PLAIN_WORDED)["rows"] if clips else []
    )
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
    return "\n".join(lines + _flag_lines(rep["rows"])) + "\n"


def _flag_lines(rows: dict[str, list[dict]]) -> list[str]:
    """How the app's measurement check (`llamo.answer_check`) reads the same answers (reports
    made before it have no flags)."""
    kinds = [k for k, v in rows.items() if v and "flag" in v[0] and k != "action"]  # names: not checked
    if not kinds:
        return []
    out = ["", "The app's measurement check on these answers:", "",
           "| kind | wrong answers flagged | right answers flagged |", "|---|---|---|"]  # fmt: skip
    for k in kinds:
        t = FlagTally.of(rows[k])
        out.append(f"| {k} | {t.wrong_flagged} / {t.wrong} | {t.right_flagged} / {t.right} |")
    return out
