"""Give a JSONL of conversations the measured evidence (`llamo.evidence`) in its first user turn.

Models trained with `evidence: true` in their config read the same text at inference, built by
the same `llamo.evidence.with_evidence`. Answers that said "I can't tell" about an unfamiliar
movement are rewritten to describe what the body measurably does instead (open-world honesty).

An answer about a count, a side or a direction that the measurement contradicts (a clip of
squats then jumps has one count in its evidence, two in its labels) stays in the context but
out of the loss: the model should learn to read these facts from the evidence, and one answer in
ten that disagrees with it teaches it not to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from llamo.conversation import MOTION_MARKER, Conversation, Turn, read_jsonl, write_jsonl
from llamo.evidence import Evidence, measure, most_moving, with_evidence
from llamo.importers import load_motion

CANT_NAME = "I can't name this movement."


def describe_unknown(ev: Evidence) -> str:
    """An honest answer about a movement with no label: what moves, how often, where it goes."""
    parts = [CANT_NAME, f"Most of the movement is in the {most_moving(ev.limb_activity)}"]
    if ev.rep_count:
        parts[-1] += ", once" if ev.rep_count == 1 else f", repeated {ev.rep_count} times"
    text = parts[0] + " " + parts[1] + "."
    if ev.travel_direction != "none":
        text += f" The person travels {ev.travel_m:.1f} m {ev.travel_direction}."
    return text.replace("in the both", "in both").replace(
        "in the arms and legs alike", "in the arms and legs"
    )


LEG_WORDS = re.compile(r"\b(legs?|foot|feet|kicks?|kicking)\b", re.I)


def supported(kind: str, label, question: str, ev: Evidence) -> bool:
    """Whether a labelled answer agrees with what was measured (kinds the evidence does not
    cover always agree)."""
    if kind == "count":
        return str(label) == str(ev.rep_count)
    if kind == "side":
        return label == (ev.leg_side if LEG_WORDS.search(question) else ev.arm_side)
    if kind == "direction" and label not in ("turn_left", "turn_right"):
        return label == ev.travel_direction
    return True


@dataclass(frozen=True)
class Written:
    conversations: int
    masked: int  # answers kept out of the loss because the evidence contradicts them


def add_evidence(conv: Conversation, ev: Evidence) -> Conversation:
    turns = list(conv.turns)
    first = next((i for i, t in enumerate(turns) if t.role == "user"), None)
    if first is None:
        return conv
    text = re.sub(r"^\s*" + re.escape(MOTION_MARKER) + r"\s*", "", turns[first].text)
    turns[first] = Turn("user", MOTION_MARKER + "\n" + with_evidence(text, ev.text), turns[first].train)
    qa = {q["turn"]: q for q in conv.meta.get("qa", [])}
    for i, t in enumerate(turns):
        kind = qa.get(i, {}).get("kind")
        if t.role != "assistant" or kind is None:
            continue
        if t.text.startswith("I can't tell: the movement") and kind in ("action", "caption"):
            turns[i] = Turn("assistant", describe_unknown(ev), t.train)
        elif t.train and not supported(kind, qa[i].get("label"), conv.turns[i - 1].text, ev):
            turns[i] = Turn("assistant", t.text, False)
    return Conversation(conv.id, turns, conv.motion, conv.video, {**conv.meta, "evidence": ev.text})


def _trained(conv: Conversation) -> int:
    return sum(t.role == "assistant" and t.train for t in conv.turns)


def write_with_evidence(src: str | Path, out: str | Path) -> Written:
    """Copy `src` to `out`, adding evidence to every conversation that has a motion."""
    convs = []
    masked = 0
    cache: dict[str, Evidence] = {}
    for conv in read_jsonl(src):
        if conv.motion:
            if conv.motion not in cache:
                cache[conv.motion] = measure(load_motion(conv.motion))
            before = _trained(conv)
            conv = add_evidence(conv, cache[conv.motion])
            masked += before - _trained(conv)
        convs.append(conv)
    return Written(write_jsonl(out, convs), masked)
