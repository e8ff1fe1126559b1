"""Ask which arm or which leg moves, and answer with the side the joints measured.

The side questions of the synthetic templates name the action ("which leg does the kicks?") and
take their answer from the generator's label; the model then learns the side from its action
tokens. On a real kick those tokens read "jumping jacks" and the side is lost, although the
evidence line says "leg used: right". These extra turns ask about whichever limbs move most,
without naming an action, and answer with `Evidence.arm_side` / `Evidence.leg_side`: the same
measurement the evaluation takes as its truth, so the model learns to read the side from the
measured facts. Mostly the limbs that move most are asked about (either, when arms and legs move
alike): asking every walker about the arms made "Both arms." a habit in an earlier trial
(docs/training.md). A pair that stays still (a waver's legs) is asked about a quarter of the
time, answered "Neither leg". One-sided legs (kicks, lunges) are rare, so every such clip is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llamo.conversation import Conversation, Turn, read_jsonl, write_jsonl
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
STILL_ANSWER = "Neither {limb}: the {limbs} stay still."
STILL_ASKED = 0.25  # of the asked clips with a still pair of limbs, the share asked about that pair


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
    template = {"both": BOTH_ANSWER, "none": STILL_ANSWER}.get(side) or SIDE_ANSWER[side]
    question = str(rng.choice(LIMB_QUESTIONS)).format(limb=limb)
    return LimbQA(limb, question, template.format(limb=limb, limbs=limb + "s"), side)


def single_clip(conv: Conversation) -> bool:
    """One action in the clip: a side asked of the whole clip is then about that action."""
    kinds = {q.get("kind") for q in conv.meta.get("qa", [])}
    return bool(conv.motion) and len(conv.meta.get("segments", [])) == 1 and "plain" not in kinds


def with_limb_question(conv: Conversation, qa: LimbQA) -> Conversation:
    turn = len(conv.turns)
    meta = {**conv.meta, "qa": [*conv.meta.get("qa", []), {"turn": turn + 1, "kind": "side", "label": qa.side}]}
    turns = [*conv.turns, Turn("user", qa.question), Turn("assistant", qa.answer)]
    return Conversation(conv.id, turns, conv.motion, conv.video, meta)


@dataclass(frozen=True)
class LimbWritten:
    conversations: int
    asked: dict[str, int]  # "leg left": n, ...


def write_limb_questions(src: str | Path, out: str | Path, share: float, seed: int = 0) -> LimbWritten:
    """Copy `src` to `out`, adding a measured-side limb question to `share` of its single-action
    clips' conversations, and to every one whose moving legs measure one-sided."""
    rng = np.random.default_rng(seed)
    convs, asked = [], {}
    cache: dict[str, Evidence] = {}
    for conv in read_jsonl(src):
        if single_clip(conv):
            if conv.motion not in cache:
                cache[conv.motion] = measure(load_motion(conv.motion))
            ev = cache[conv.motion]
            limbs = tuple(lb for lb in moving_limbs(ev) if getattr(ev, f"{lb}_side") != "none")
            still = tuple(lb for lb in ("arm", "leg") if getattr(ev, f"{lb}_side") == "none")
            if "leg" in limbs and ev.leg_side != "both":
                limbs = ("leg",)  # rare and the point of the exercise: always asked
            elif rng.random() >= share:
                limbs = ()
            elif still and (not limbs or rng.random() < STILL_ASKED):
                limbs = still
            if limbs:
                qa = limb_question(ev, str(rng.choice(limbs)), rng)
                conv = with_limb_question(conv, qa)
                key = f"{qa.limb} {qa.side}"
                asked[key] = asked.get(key, 0) + 1
        convs.append(conv)
    return LimbWritten(write_jsonl(out, convs), dict(sorted(asked.items())))
