"""Free answers -> labels, so evaluation compares labels, not strings (one normaliser per kind)."""

from __future__ import annotations

import re

from llamo.labels import OTHER

NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]

_ACTION_PATTERNS: list[tuple[str, str]] = [
    ("jumping_jack", r"jumping[ -]?jacks?|star jumps?"),
    (
        "arm_raise",
        r"rais(e|es|ing) (their |his |her |the |both |one )?(left |right )?arms?|arm raises?|lifts? .*arms?",
    ),
    ("torso_twist", r"twist"),
    ("bend_forward", r"bend(s|ing)? (forward|over|down)|forward bends?|touch(es|ing)? .*toes"),
    ("sit_down", r"sit(s|ting)? down|sits\b|sitting\b"),
    ("stand_up", r"stand(s|ing)? up|gets? up|rises?\b"),
    ("idle", r"stand(s|ing)? still|idle|not moving|stays? still|standing\b|does nothing"),
    ("squat", r"squat"),
    ("lunge", r"lunge"),
    ("wave", r"wav(e|es|ing)"),
    ("punch", r"punch|box(es|ing)?\b|strik"),
    ("kick", r"kick"),
    ("bow", r"\bbow(s|ing|ed)?\b"),
    ("run", r"\brun(s|ning)?\b|jog|sprint|dash"),
    ("walk", r"\bwalk|stroll|step(s|ping)? (forward|back|sideways|to)"),
    ("jump", r"\bjump|\bhop"),
    # "can't name": the evidence-trained answer for unfamiliar movement (llamo.data.evidence_data)
    (OTHER, r"can'?t tell|cannot tell|can'?t name|cannot name|not sure|unusual|don'?t know"),
]


def normalise_action(text: str) -> str | None:
    t = text.lower()
    best = None
    for label, pat in _ACTION_PATTERNS:
        m = re.search(pat, t)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), label)
    return best[1] if best else None


def normalise_side(text: str) -> str | None:
    t = text.lower()
    if re.search(r"\bboth\b|alternat|each", t):
        return "both"
    left, right = "left" in t, "right" in t
    if left and not right:
        return "left"
    if right and not left:
        return "right"
    return None


def normalise_direction(text: str) -> str | None:
    t = text.lower()
    if "turn" in t:
        if "left" in t:
            return "turn_left"
        if "right" in t:
            return "turn_right"
    if re.search(r"in place|stays?|on the spot|straight up|nowhere", t):
        return "none"
    if "backward" in t or "back" in t:
        return "backward"
    if "left" in t:
        return "left"
    if "right" in t:
        return "right"
    if "forward" in t or "ahead" in t:
        return "forward"
    return None


# A number with a fraction, a clock colon or a time unit is a time or a measure, not a count:
# "3.1 s." answers "when", and must not score as 3 repetitions.
_NUMBER = re.compile(r"\d+(?:[.:]\d+)?(?:\s*(?:s|secs?|seconds?|m|metres?|meters?|%|°)(?![a-z]))?")


_NUMBER_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b")


def normalise_count(text: str) -> int | None:
    """The first count in the answer, in digits or in words, whichever comes first."""
    t = text.lower()
    digits = next((m for m in _NUMBER.finditer(t) if m.group().isdigit()), None)
    word = _NUMBER_WORD.search(t)
    if digits and (word is None or digits.start() <= word.start()):
        return int(digits.group())
    if word:
        return NUMBER_WORDS.index(word.group())
    if re.search(r"\bonce\b", t):
        return 1
    if re.search(r"\btwice\b", t):
        return 2
    return None


def normalise_tempo(text: str) -> str | None:
    t = text.lower()
    if re.search(r"moderate|medium|normal|steady|average", t):
        return "moderate"
    if re.search(r"slow", t):
        return "slow"
    if re.search(r"fast|quick|rapid|brisk", t):
        return "fast"
    return None


def normalise_yes_no(text: str) -> str | None:
    t = text.strip().lower()
    if t.startswith("yes"):
        return "yes"
    if t.startswith("no"):
        return "no"
    return None


def normalise_cant_tell(text: str) -> str | None:
    t = text.lower()
    return (
        "cant_tell"
        if re.search(r"can'?t tell|cannot tell|not possible to|no way to|don'?t know|unable", t)
        else None
    )


NORMALISERS = {
    "action": normalise_action,
    "before": normalise_action,
    "after": normalise_action,
    "side": normalise_side,
    "direction": normalise_direction,
    "count": normalise_count,
    "tempo": normalise_tempo,
    "order": normalise_yes_no,
    "unknown": normalise_cant_tell,
}


def normalise(kind: str, text: str):
    fn = NORMALISERS.get(kind)
    return fn(text) if fn else text.strip()
