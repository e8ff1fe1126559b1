"""Does an answer say what the joints measured? A check an expert reads beside each answer.

The model reads the measured facts (`llamo.evidence`) but does not always answer from them: on
real clips it has named the moving arm's side when asked about the legs, and guessed times. For
the question kinds the measurement answers (which arm or leg, how many, which way, when the k-th
repetition is), this reads the answer the way the evaluation does and says so when the two differ.

It only flags; it never changes an answer. The measurement can be the one that is wrong (it
counts one signal over the whole clip, so a clip of squats then jumps has one count), which is
why an expert, not this code, decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llamo.data.templates import normalise
from llamo.evidence import SIGNAL_WORDS, Evidence

LIMB_WORDS = {"arm": r"\b(arms?|hands?|upper limbs?)\b", "leg": r"\b(legs?|foot|feet|lower limbs?)\b"}
TIME = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)\b")  # "6.7 s", "7.2 seconds"
TIME_TOLERANCE_S = 0.5  # as the evaluation reads "when" answers (llamo.eval_dev)
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
# "At what second is the 3rd rep?": a "second" after "what" or "which" is the unit, not the rank
ORDINAL = re.compile(r"(?<!what )(?<!which )\b(" + "|".join(ORDINALS) + r"|(\d+)(?:st|nd|rd|th))\b", re.I)
ASKS_TIME = re.compile(
    r"\b(when|what time|what second|timestamp|moment|at (what|which) point|time window|time of)\b", re.I
)
ASKS_COUNT = re.compile(r"\b(how many|count|number of|how often|total)\b", re.I)
ASKS_SIDE = re.compile(r"\b(which|left|right|side)\b", re.I)
ASKS_WAY = re.compile(r"\b(which way|direction|travel\w*|heading|forwards?|backwards?)\b", re.I)
DENIES = re.compile(r"^\s*I see no\b", re.I)  # the false-premise form: "I see no second rep; ..."
# a count or time question is about the clip when it names an action, a repetition or the person
# in it ("How many days are in a leap year?", "When was the first moon landing?" are not)
ABOUT_CLIP = re.compile(
    r"\b(reps?|repetitions?|times|sets?|cycles?|strides?|steps?|person|s?he|her|him|they|them|"
    r"subject|athlete|patient|client|clip|video|recording|motion|movements?|exercises?)\b",
    re.I,
)
# a question about people in general, not this clip ("Which hand do most people write
# with?"): unless it also names the person or the clip
GENERAL = re.compile(
    r"\b(people|usually|typically|generally|in general|normally|dominant|should|humans?|everyone|"
    r"anyone|on average)\b",
    re.I,
)


def about_clip(question: str) -> bool:
    """A count or time question is about the clip when it names an action or ABOUT_CLIP's words."""
    return bool(ABOUT_CLIP.search(question)) or normalise("action", question) is not None


def in_general(question: str) -> bool:
    """A side question about people in general, not the clip ("Which hand do most people write with?")."""
    return bool(GENERAL.search(question)) and not ABOUT_CLIP.search(question)


def side_answer(answer: str, limb: str) -> str | None:
    """The side an answer gives about `limb`; None when it names only the other limb ("Both
    arms." to a question about the legs is not an answer about the legs)."""
    other = "arm" if limb == "leg" else "leg"
    if re.search(LIMB_WORDS[other], answer, re.I) and not re.search(LIMB_WORDS[limb], answer, re.I):
        return None
    return normalise("side", answer)


def answer_times(text: str) -> list[float]:
    """Every time an answer gives, in seconds, in order ("From 4.2 s to 5.0 s" -> [4.2, 5.0])."""
    return [float(x) for x in TIME.findall(text or "")]


def answer_time(text: str) -> float | None:
    """The first time an answer gives, in seconds ("At 6.7 s." -> 6.7)."""
    return next(iter(answer_times(text)), None)


@dataclass(frozen=True)
class Mismatch:
    """An answer and the measurement disagree about `kind` (side, count, direction, time)."""

    kind: str
    said: str  # what the answer says, in words
    measured: str  # what the joints show, in words

    def sentence(self) -> str:
        return f"The answer says {self.said}; the joints show {self.measured}."


def asked_limb(question: str) -> str | None:
    """ "arm" or "leg" when the question is about exactly one of them, else None."""
    arm = re.search(LIMB_WORDS["arm"], question, re.I)
    leg = re.search(LIMB_WORDS["leg"], question, re.I)
    return None if bool(arm) == bool(leg) else ("arm" if arm else "leg")


def _side_words(side: str, limb: str) -> str:
    return f"both {limb}s" if side == "both" else f"the {side} {limb}"


def nth(k: int) -> str:
    """The k-th (from 0) in words: "first", ..., "tenth", then "11th", "21st", "22nd"."""
    if k < len(ORDINALS):
        return ORDINALS[k]
    n = k + 1
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def asked_ordinal(question: str) -> int | None:
    """The repetition a question asks about, from 0 ("the second rep" -> 1), or None."""
    m = ORDINAL.search(question)
    if m is None:
        return None
    return int(m.group(2)) - 1 if m.group(2) else ORDINALS.index(m.group(1).lower())


def _time(question: str, answer: str, ev: Evidence) -> Mismatch | None:
    k, said = asked_ordinal(question), answer_time(answer)
    if k is None:
        return None
    kth = nth(k)
    if said is None:  # only a denial is read: "I see no second rep" where the joints show one
        if DENIES.match(answer) and k < len(ev.rep_times):
            return Mismatch(
                "time", f"there is no {kth} repetition", f"the {kth} repetition at {ev.rep_times[k]:.1f} s"
            )
        return None
    if k >= len(ev.rep_times):
        reps = "no repetitions" if not ev.rep_times else f"only {len(ev.rep_times)} repetitions"
        return Mismatch("time", f"{said:.1f} s", reps)
    if abs(said - ev.rep_times[k]) > TIME_TOLERANCE_S:
        return Mismatch("time", f"{said:.1f} s", f"the {kth} repetition at {ev.rep_times[k]:.1f} s")
    return None


def _count(answer: str, ev: Evidence) -> Mismatch | None:
    said, time = normalise("count", answer), answer_time(answer)
    if said == ev.rep_count or (said is None and time is None):
        return None
    what = SIGNAL_WORDS.get(ev.rep_signal, ev.rep_signal)
    shown = "no repetitions" if ev.rep_count == 0 else f"{ev.rep_count} repetitions ({what})"
    # "3.9 s." to "how many?" gives a time where a count was asked
    return Mismatch("count", str(said) if said is not None else f"a time ({time:.1f} s), not a count", shown)


def _other_limb(limb: str, answer: str) -> str | None:
    """ "both arms (not a leg)" for "Both arms." to a question about the legs, else None."""
    other = "arm" if limb == "leg" else "leg"
    side = normalise("side", answer) if re.search(LIMB_WORDS[other], answer, re.I) else None
    return f"{_side_words(side, other)} (not {'an' if limb == 'arm' else 'a'} {limb})" if side else None


def _side(limb: str, answer: str, ev: Evidence) -> Mismatch | None:
    said, measured = side_answer(answer, limb), ev.arm_side if limb == "arm" else ev.leg_side
    if measured not in ("left", "right", "both") or said == measured:
        return None
    said_words = _side_words(said, limb) if said else _other_limb(limb, answer)
    if said_words is None:
        return None
    # "both" is the measurement's word for two limbs alike, also two still legs under a wave
    shown = (
        f"the {measured} {limb} moving most"
        if measured != "both"
        else f"neither {limb} moving more than the other"
    )
    return Mismatch("side", said_words, shown)


def _direction(answer: str, ev: Evidence) -> Mismatch | None:
    said, measured = normalise("direction", answer), ev.travel_direction
    if said is None or said.startswith("turn") or said == measured:
        return None
    shown = "the person staying in place" if measured == "none" else f"{ev.travel_m:.1f} m {measured}"
    return Mismatch("direction", "in place" if said == "none" else said, shown)


def check_answer(question: str, answer: str, ev: Evidence) -> Mismatch | None:
    """The first way `answer` to `question` disagrees with the measurement `ev`, or None (also
    for questions the measurement does not answer)."""
    if ASKS_TIME.search(question) or ASKS_COUNT.search(question):
        if not about_clip(question):  # "How many days are in a leap year?"
            return None
        return _time(question, answer, ev) if ASKS_TIME.search(question) else _count(answer, ev)
    limb = asked_limb(question)
    if limb and ASKS_SIDE.search(question):
        return None if in_general(question) else _side(limb, answer, ev)
    if ASKS_WAY.search(question):
        return _direction(answer, ev)
    return None


def flag_of(question: str, answer: str, ev: Evidence) -> str:
    """`check_answer`'s sentence, or "" (an evaluation row's "flag")."""
    found = check_answer(question, answer, ev)
    return found.sentence() if found else ""


@dataclass(frozen=True)
class FlagTally:
    """How the check reads an evaluation's answers: flags on the wrong ones and on the right ones."""

    wrong_flagged: int
    wrong: int
    right_flagged: int
    right: int

    @classmethod
    def of(cls, rows: list[dict]) -> FlagTally:
        wrong, right = [r for r in rows if not r["ok"]], [r for r in rows if r["ok"]]
        return cls(
            sum(bool(r["flag"]) for r in wrong), len(wrong), sum(bool(r["flag"]) for r in right), len(right)
        )

    def words(self) -> str:
        return f"{self.wrong_flagged} of {self.wrong} wrong answers flagged, {self.right_flagged} of {self.right} right ones"
