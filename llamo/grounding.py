"""Grounded answers: the count, time or side an answer may give, measured instead of guessed.

The model words the answer; decoding keeps its number to the measured count or time and its side
to the measured side (`llamo.serving.constrain`). On the shared squat video the model said "3.9 s." and
"1 arm raise" to "Give me the rep total for this set." while `llamo.kinematics` counted 3.

When the measurement is trusted (set on the synthetic validation split against the generator's
labels, docs/evaluation.md, "Counts from the joints"):
- Counts: the whole clip's count (the number the kinematics view shows) when the question names
  no action or the encoder's summary shows one action; the named action's own signal inside the
  summary's spans of it when the summary shows several.
- Times, for "when is the k-th repetition?": the first time the answer gives is that peak, from
  the same signal and spans as the count; later times stay the model's.
- Sides, for "which arm / which leg": only where one limb end travels at least twice as far as
  the other (`SIDE_MARGIN`), over the same spans.
- Nothing is grounded when the question names an action the summary does not show, so that a
  false premise ("how many squats?" about punches) stays the model's to correct; nor for a count
  or time question that is not about the clip ("How many days are in a leap year?"), nor for a
  side question about people in general ("Which hand do most people write with?").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from llamo.answer_check import (
    ASKS_COUNT,
    ASKS_SIDE,
    ASKS_TIME,
    about_clip,
    asked_limb,
    asked_ordinal,
    in_general,
    nth,
)
from llamo.data.templates import normalise
from llamo.data.templates.answers import ACTION_WORDS
from llamo.evidence import SIDE_ENDS, SIGNAL_WORDS, limb_paths
from llamo.kinematics import count_repetitions
from llamo.labels import OTHER, REST
from llamo.motion import Motion
from llamo.skeleton import JOINT_INDEX as J

# the signal that counts one repetition of each action (as the synthetic labels count them)
ACTION_SIGNALS = {
    "squat": "pelvis_height", "lunge": "pelvis_height", "sit_down": "pelvis_height",
    "stand_up": "pelvis_height", "jump": "jump_height", "jumping_jack": "airborne",
    "wave": "wrist_sway", "arm_raise": "wrist_height", "punch": "wrist_reach", "kick": "foot_height",
    "bow": "trunk_lean", "bend_forward": "trunk_lean", "walk": "ankle_gap", "run": "ankle_gap",
    "torso_twist": "torso_twist",
}  # fmt: skip
NOT_ACTIONS = ("idle", OTHER, REST)
# what a grounded count may count: every action's noun (singular and plural) and the generic ones
COUNT_UNITS = tuple(
    sorted(
        {n for _, _, nouns in ACTION_WORDS.values() if nouns for n in nouns}
        | {"reps", "rep", "repetitions", "repetition", "times", "steps", "strides"}
    )
)
SIDE_MARGIN = 0.5  # the other limb end's path is at most this share of the moving one's
OTHER_LIMB_WORDS = {"arm": ("leg", "legs", "foot", "feet"), "leg": ("arm", "arms", "hand", "hands")}
Spans = list[tuple[float, float]]  # seconds


@dataclass(frozen=True)
class Grounded:
    """What an answer is held to, and where it was measured (the sentence the expert sees)."""

    kind: str  # count | time | side
    value: str  # "3"; "6.7"; "right"
    detail: str  # "pelvis up-down"; "the right leg's end travels 3.2 times as far as the left's"
    start_s: float
    end_s: float

    def sentence(self) -> str:
        span = f"{self.start_s:.1f}-{self.end_s:.1f} s"
        if self.kind == "count":
            return f"The number is counted from the joints: {self.value} ({self.detail}, {span})."
        if self.kind == "time":
            return f"The time is measured from the joints: {self.value} s, the {self.detail} ({span})."
        return f"The side is measured from the joints: {self.detail} ({span})."


def _scope(question: str, summary: list[dict], duration: float) -> tuple[str | None, Spans] | None:
    """The action the question names and the spans to measure it in, or None (a false premise)."""
    named = normalise("action", question)
    shown = [r for r in summary if r["action"] not in NOT_ACTIONS]
    actions = {r["action"] for r in shown}
    if named is not None and summary and named not in actions:
        return None
    if named is None or len(actions) <= 1:
        return named, [(0.0, duration)]
    return named, sorted((r["start_s"], r["end_s"]) for r in shown if r["action"] == named)


def _frames(motion: Motion, span: tuple[float, float]) -> slice:
    return slice(int(span[0] * motion.fps), min(int(span[1] * motion.fps) + 1, motion.num_frames))


class _Peaks(NamedTuple):
    times: list[float]  # seconds into the clip, in order
    words: str  # the signal that was counted, in words ("pelvis up-down")
    start_s: float  # the spans it was measured in
    end_s: float


def _clip_peaks(question: str, motion: Motion, summary: list[dict]) -> _Peaks | None:
    """The repetitions' peak times a count or time question is answered from: the whole clip's
    signal, or the named action's own signal inside its summary spans. None for a false premise,
    a question not about the clip, or a named action without a signal."""
    scope = _scope(question, summary, motion.duration)
    if scope is None or not about_clip(question):
        return None
    named, spans = scope
    if len(spans) == 1 and spans[0] == (0.0, motion.duration):
        reps = count_repetitions(motion)
        signal, times = reps.signal_name, [float(t) for t in reps.peak_times]
    elif named in ACTION_SIGNALS:
        signal, times = ACTION_SIGNALS[named], []
        for span in spans:
            part = _frames(motion, span)
            if part.stop - part.start >= 3:
                reps = count_repetitions(motion.slice(part.start, part.stop), signal=signal)
                times += [part.start / motion.fps + float(t) for t in reps.peak_times]
    else:
        return None
    return _Peaks(times, SIGNAL_WORDS.get(signal, signal), spans[0][0], spans[-1][1])


def grounded_count(question: str, motion: Motion | None, summary: list[dict]) -> Grounded | None:
    """The measured count for a count question about `motion`, or None. `summary`: the encoder's
    rows (`Llamo.motion_summary`), empty for models without summary tokens."""
    if motion is None or not ASKS_COUNT.search(question) or ASKS_TIME.search(question):
        return None
    peaks = _clip_peaks(question, motion, summary)
    if not peaks or not peaks.times:
        return None
    return Grounded("count", str(len(peaks.times)), peaks.words, peaks.start_s, peaks.end_s)


def grounded_time(question: str, motion: Motion | None, summary: list[dict]) -> Grounded | None:
    """The k-th repetition's peak (0.1 s) for "when is the k-th rep?" about `motion`, or None
    (no ordinal, or no k-th repetition: "I see no third rep" stays the model's to say)."""
    k = asked_ordinal(question)
    if motion is None or k is None or not ASKS_TIME.search(question):
        return None
    peaks = _clip_peaks(question, motion, summary)
    if not peaks or k >= len(peaks.times):
        return None
    words = f"{nth(k)} peak of the {peaks.words}"
    return Grounded("time", f"{peaks.times[k]:.1f}", words, peaks.start_s, peaks.end_s)


def grounded_side(question: str, motion: Motion | None, summary: list[dict]) -> Grounded | None:
    """The measured side for "which arm / which leg" about `motion` where it is clear, or None."""
    limb = asked_limb(question)
    if motion is None or limb is None or not ASKS_SIDE.search(question):
        return None
    if ASKS_TIME.search(question) or ASKS_COUNT.search(question):  # read as those kinds
        return None
    if in_general(question):
        return None
    scope = _scope(question, summary, motion.duration)
    if scope is None:
        return None
    ends = J[SIDE_ENDS[limb][0]], J[SIDE_ENDS[limb][1]]
    path = sum((limb_paths(motion.joints[_frames(motion, span)], *ends) for span in scope[1]), np.zeros(2))
    if path.max() <= 0 or path.min() > SIDE_MARGIN * path.max():
        return None
    side, other = ("left", "right") if path[0] > path[1] else ("right", "left")
    far = (
        f"travels {path.max() / path.min():.1f} times as far as the {other}'s"
        if path.min() > 0.01 * path.max()
        else f"moves while the {other}'s stays put"
    )
    detail = f"the {side} {limb}'s end {far}"
    return Grounded("side", side, detail, scope[1][0][0], scope[1][-1][1])


def banned_words(found: Grounded, question: str) -> tuple[str, ...]:
    """For a grounded side: the other side, "both", "neither" and the other limb's words."""
    other = "left" if found.value == "right" else "right"
    return (other, "both", "neither") + OTHER_LIMB_WORDS[asked_limb(question) or "arm"]
