"""Questions about real clips, beyond the synthetic templates: style, times, false premises, plain chat.

The answers that need numbers (counts, times) read them from the segment labels, which for real
clips come from `llamo.kinematics`: the same numbers the evidence text gives the model, so the
model learns to ground its answer in what was measured rather than in its action guess.
"""

from __future__ import annotations

import numpy as np

from llamo.data.templates import ACTION_WORDS, SIDED, action_answer, candidate_questions, count_answer
from llamo.data.templates import KIND_WEIGHT as SYNTH_WEIGHT
from llamo.data.templates.paraphrases import PARAPHRASES

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")

STYLE_Q = [
    "Does the person look tired or energetic?",
    "How would you describe the person's energy?",
    "Is this person moving with a lot of energy?",
    "What is the manner of the movement: lively, tired, careful or ordinary?",
]
STYLE_A = {
    "energetic": "Energetic: the movement is brisk and lively.",
    "tired": "Tired: the movement is slow and heavy.",
    "slow": "Slow and careful, like an elderly person.",
    "normal": "Ordinary: neither tired nor especially energetic.",
}
WHEN_REP_Q = [
    "When does the {ordinal} {noun} happen?",
    "At what time is the {ordinal} {noun}?",
    "Give me the time of the {ordinal} {noun}.",
]
WHEN_SEG_Q = [
    "When does the person start {gerund}?",
    "At what time does the {gerund} begin?",
]
# A false premise names an action the clip does not show; the answer says what it does show.
PREMISE_Q = [
    "How many {noun} does the person do?",
    "Count the {noun} in this clip.",
    "Why does the person do {noun}?",
]


def own_or_broad(kind: str, own: list[str], split: str, questions: str) -> list[str]:
    """This module's phrasings of a kind, plus the paraphrase bank's for the broad set (not test)."""
    return own + (PARAPHRASES[kind] if questions == "broad" and split != "test" else [])


def _when_rep(
    seg: dict, fps: float, rng, k: int | None = None, phrasings: list[str] = WHEN_REP_Q
) -> tuple | None:
    words = ACTION_WORDS[seg["action"]][2]
    peaks = seg.get("rep_peaks") or []
    if words is None or len(peaks) < 2:
        return None
    k = int(rng.integers(min(len(peaks), len(ORDINALS)))) if k is None else k
    q = str(rng.choice(phrasings)).format(ordinal=ORDINALS[k], noun=words[1])
    return ("when", q, f"At {peaks[k] / fps:.1f} s.", round(peaks[k] / fps, 1))


def _when_segment(seg: dict, fps: float, rng, phrasings: list[str]) -> tuple:
    gerund = ACTION_WORDS[seg["action"]][0].replace("their", "the")
    q = str(rng.choice(phrasings)).format(gerund=gerund)
    return ("when", q, f"At {seg['start'] / fps:.1f} s.", round(seg["start"] / fps, 1))


def premise_answer(seg: dict, asked: str) -> str:
    """'I see no squats; the person is waving with the left arm 3 times.'"""
    shown = action_answer(seg).removeprefix("The person is ").rstrip(".")
    reps = seg.get("reps") or 0
    counted = ACTION_WORDS[seg["action"]][2] is not None and reps
    times = (", once" if reps == 1 else f", {reps} times") if counted else ""
    return f"I see no {asked}; the person is {shown}{times}."


def _premise(seg: dict, rng, phrasings: list[str]) -> tuple:
    others = [
        a for a, w in ACTION_WORDS.items() if w[2] is not None and a not in (seg["action"], "walk", "run")
    ]
    wrong = str(rng.choice(others))
    noun = ACTION_WORDS[wrong][2][0]
    q = str(rng.choice(phrasings)).format(noun=noun)
    return ("premise", q, premise_answer(seg, noun), "no_" + wrong)


def real_questions(
    segments: list[dict], rng: np.random.Generator, split: str, fps: float, questions: str = "standard"
) -> list[tuple]:
    """(kind, question, answer, label) candidates for a real clip or a sequence of real clips."""
    out = [c for c in candidate_questions(segments, rng, split, questions) if c[0] != "tempo"]
    seg = segments[int(rng.integers(len(segments)))]
    qs = {k: own_or_broad(k, own, split, questions) for k, own in
          (("style", STYLE_Q), ("premise", PREMISE_Q), ("when_seg", WHEN_SEG_Q), ("when_rep", WHEN_REP_Q))}  # fmt: skip
    if len(segments) == 1:
        out.append(("style", str(rng.choice(qs["style"])), STYLE_A[seg["energy"]], seg["energy"]))
        out.append(_premise(seg, rng, qs["premise"]))
    else:
        out.append(_when_segment(segments[int(rng.integers(1, len(segments)))], fps, rng, qs["when_seg"]))
    when = _when_rep(seg, fps, rng, phrasings=qs["when_rep"])
    if when is not None:
        out.append(when)
    if seg["action"] in SIDED and seg["side"] != "both" and seg.get("reps"):
        # Count asked without naming the action: the answer still names what was counted.
        out.append(("count", "How many times does it happen?", count_answer(seg), seg["reps"]))
    return out


# The synthetic weights (tempo is never asked here), a little more off-topic, and the new kinds.
KIND_WEIGHT = {**SYNTH_WEIGHT, "unknown": 0.5, "style": 2.0, "when": 2.5, "premise": 1.5}
