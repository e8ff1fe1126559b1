"""Ask which arm or which leg moves, and answer with the side the joints measured.

The side questions of the synthetic templates name the action ("which leg does the kicks?") and
take their answer from the generator's label; the model then learns the side from its action
tokens. On a real kick those tokens read "jumping jacks" and the side is lost, although the
evidence line says "leg used: right". These extra turns ask about whichever limbs move most,
without naming an action, and answer with `Evidence.arm_side` / `Evidence.leg_side`: the same
measurement the evaluation takes as its truth, so the model learns to read the side from the
measured facts. Only the limbs that move most are asked about (either, when arms and legs move
alike): asking every walker about the arms made "Both arms." a habit in an earlier trial
(docs/training.md). One-sided legs (kicks, lunges) are rare, so every such clip is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llamo.conversation import MOTION_MARKER, Conversation, Turn, read_jsonl, write_jsonl
from llamo.data.evidence_data import add_evidence
from llamo.data.templates.answers import SIDE_ANSWER
from llamo.evidence import Evidence, measure, most_moving
from llamo.importers import load_motion

# Training wordings only: written apart from the development and test phrasings
# (tests/test_eval_dev.py keeps them apart from both).
LIMB_QUESTIONS = [
    "Which {limb} moves more, the left or the right?",
    "Is there one {limb} doing most of the moving? Which?",
    "Left {limb}, right {limb} or both of them: which one is busy?",
    "Tell me the side: which {limb} is in motion here?",
    "Does this movement favour the left {limb} or the right {limb}, or neither?",
    "What side is the working {limb} on?",
    "Is the {limb} movement one-sided? If so, on which side?",
    "Which of the two {limb}s carries the movement?",
]
BOTH_ANSWER = "Both {limbs}, about equally."


@dataclass(frozen=True)
class LimbQA:
    limb: str  # arm | leg
    question: str
    answer: str
    side: str  # left | right | both, as measured


def moving_limbs(ev: Evidence) -> tuple[str, ...]:
    """The limb groups that move most: ("arm",), ("leg",), both when alike, none when still."""
    group = most_moving(ev.limb_activity)
    if group == "nothing":
        return ()
    if "alike" in group:
        return ("arm", "leg")
    return ("leg",) if "leg" in group else ("arm",)


def limb_question(ev: Evidence, limb: str, rng: np.random.Generator) -> LimbQA:
    """Which `limb` moves, answered with the measured side."""
    side = ev.leg_side if limb == "leg" else ev.arm_side
    template = BOTH_ANSWER if side == "both" else SIDE_ANSWER[side]
    question = str(rng.choice(LIMB_QUESTIONS)).format(limb=limb)
    return LimbQA(limb, question, template.format(limb=limb, limbs=limb + "s"), side)


def single_clip(conv: Conversation) -> bool:
    """One action in the clip: a side asked of the whole clip is then about that action."""
    kinds = {q.get("kind") for q in conv.meta.get("qa", [])}
    return bool(conv.motion) and len(conv.meta.get("segments", [])) == 1 and "plain" not in kinds


def limb_conversation(conv: Conversation, qa: LimbQA, ev: Evidence) -> Conversation:
    """A new one-question conversation about `conv`'s clip: asked first, right after the
    evidence line, as both evaluations ask it (a later turn did not carry over, docs/training.md)."""
    meta = {"qa": [{"turn": 1, "kind": "side", "label": qa.side}], "segments": conv.meta.get("segments", [])}
    first = Conversation(
        f"{conv.id}-limb",
        [Turn("user", MOTION_MARKER + "\n" + qa.question), Turn("assistant", qa.answer)],
        conv.motion,
        meta=meta,
    )
    return add_evidence(first, ev)


@dataclass(frozen=True)
class LimbWritten:
    conversations: int
    asked: dict[str, int]  # "leg left": n, ...


def write_limb_questions(src: str | Path, out: str | Path, share: float, seed: int = 0) -> LimbWritten:
    """Copy `src` to `out`, with a measured-side limb question about `share` of its single-action
    clips, and about every one whose moving legs measure one-sided, each its own conversation."""
    rng = np.random.default_rng(seed)
    convs, asked = [], {}
    cache: dict[str, Evidence] = {}
    for conv in read_jsonl(src):
        if single_clip(conv):
            if conv.motion not in cache:
                cache[conv.motion] = measure(load_motion(conv.motion))
            ev = cache[conv.motion]
            limbs = moving_limbs(ev)
            if "leg" in limbs and ev.leg_side != "both":
                limbs = ("leg",)  # rare and the point of the exercise: always asked
            elif rng.random() >= share:
                limbs = ()
            if limbs:
                qa = limb_question(ev, str(rng.choice(limbs)), rng)
                convs.append(limb_conversation(conv, qa, ev))
                key = f"{qa.limb} {qa.side}"
                asked[key] = asked.get(key, 0) + 1
        convs.append(conv)
    return LimbWritten(write_jsonl(out, convs), dict(sorted(asked.items())))
