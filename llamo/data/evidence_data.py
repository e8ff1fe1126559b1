"""Give a JSONL of conversations the measured evidence (`llamo.evidence`) in its first user turn.

Models trained with `evidence: true` in their config read the same text at inference, built by
the same `llamo.evidence.with_evidence`. Answers that said "I can't tell" about an unfamiliar
movement are rewritten to describe what the body measurably does instead (open-world honesty).
"""

from __future__ import annotations

import re
from pathlib import Path

from llamo.conversation import MOTION_MARKER, Conversation, Turn, read_jsonl, write_jsonl
from llamo.evidence import Evidence, measure, with_evidence
from llamo.importers import load_motion

CANT_NAME = "I can't name this movement."


def describe_unknown(ev: Evidence) -> str:
    """An honest answer about a movement with no label: what moves, how often, where it goes."""
    from llamo.evidence import _most_moving

    parts = [CANT_NAME, f"Most of the movement is in the {_most_moving(ev.limb_activity)}"]
    if ev.rep_count:
        parts[-1] += ", once" if ev.rep_count == 1 else f", repeated {ev.rep_count} times"
    text = parts[0] + " " + parts[1] + "."
    if ev.travel_direction != "none":
        text += f" The person travels {ev.travel_m:.1f} m {ev.travel_direction}."
    return text.replace("in the both", "in both").replace(
        "in the arms and legs alike", "in the arms and legs"
    )


def add_evidence(conv: Conversation, ev: Evidence) -> Conversation:
    turns = list(conv.turns)
    first = next((i for i, t in enumerate(turns) if t.role == "user"), None)
    if first is None:
        return conv
    text = re.sub(r"^\s*" + re.escape(MOTION_MARKER) + r"\s*", "", turns[first].text)
    turns[first] = Turn("user", MOTION_MARKER + "\n" + with_evidence(text, ev.text), turns[first].train)
    kinds = {q["turn"]: q["kind"] for q in conv.meta.get("qa", [])}
    for i, t in enumerate(turns):
        if (
            t.role == "assistant"
            and t.text.startswith("I can't tell: the movement")
            and kinds.get(i) in ("action", "caption")
        ):
            turns[i] = Turn("assistant", describe_unknown(ev), t.train)
    return Conversation(conv.id, turns, conv.motion, conv.video, {**conv.meta, "evidence": ev.text})


def write_with_evidence(src: str | Path, out: str | Path) -> int:
    """Copy `src` to `out`, adding evidence to every conversation that has a motion."""
    convs = []
    cache: dict[str, Evidence] = {}
    for conv in read_jsonl(src):
        if conv.motion:
            if conv.motion not in cache:
                cache[conv.motion] = measure(load_motion(conv.motion))
            conv = add_evidence(conv, cache[conv.motion])
        convs.append(conv)
    return write_jsonl(out, convs)
