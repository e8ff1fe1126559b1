"""Question-answer templates over synthetic labels (BABEL-QA and Mo-RepCount style), and the
answer normaliser the evaluator uses.

Every question kind has several phrasings. The LAST phrasing of each kind is held out: the test
split asks only held-out phrasings, train and validation never see them, so test accuracy is not
phrase memorisation. Answers are short and regular (the model is small); each QA carries a
normalised label in the conversation's meta so evaluation compares labels, not strings.

Kinds: action, side (body part), direction, before, after, order (yes/no), count, tempo, caption,
unknown (an honest "I can't tell" for questions motion cannot answer, and for unfamiliar motion).
"""

from __future__ import annotations

import re

import numpy as np

from llamo.data.synth import OTHER, SIDED
from llamo.errors import LlamoError

KINDS = ("action", "side", "direction", "before", "after", "order", "count", "tempo", "caption", "unknown")

# gerund, third-person phrase, counted noun (plural, singular) or None
ACTION_WORDS: dict[str, tuple[str, str, tuple[str, str] | None]] = {
    "walk": ("walking", "walks", ("steps", "step")),
    "run": ("running", "runs", ("steps", "step")),
    "jump": ("jumping", "jumps", ("jumps", "jump")),
    "squat": ("doing squats", "squats", ("squats", "squat")),
    "lunge": ("doing lunges", "lunges", ("lunges", "lunge")),
    "jumping_jack": ("doing jumping jacks", "does jumping jacks", ("jumping jacks", "jumping jack")),
    "arm_raise": ("raising their arms", "raises their arms", ("arm raises", "arm raise")),
    "wave": ("waving", "waves", ("waves", "wave")),
    "punch": ("punching", "punches", ("punches", "punch")),
    "kick": ("kicking", "kicks", ("kicks", "kick")),
    "bow": ("bowing", "bows", ("bows", "bow")),
    "bend_forward": ("bending forward", "bends forward", ("forward bends", "forward bend")),
    "torso_twist": ("twisting their torso", "twists their torso", ("twists", "twist")),
    "sit_down": ("sitting down", "sits down", None),
    "stand_up": ("standing up", "stands up", None),
    "idle": ("standing still", "stands still", None),
}
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

# ---------------------------------------------------------------- phrasings (last = held out)
Q: dict[str, list[str]] = {
    "action": [
        "What is the person doing?",
        "What action is this?",
        "Which movement does the person perform?",
        "Describe the action in a few words.",
        "What kind of exercise or movement is shown?",
        "Can you tell what this person is doing?",
        "Tell me what the person is doing.",
        "What movement do you see?",
        "What exercise is this?",
        "Identify the action.",
        "What is going on in this motion?",
        "Which activity is this person busy with?",
        "Say what the person does here.",
        "What is this motion?",
        "Name the activity in this clip.",
    ],
    "side": [
        "Which {limb} does the person use for the {nouns}?",
        "Are the {nouns} done with the left or the right {limb}?",
        "Which {limb} performs the {nouns}?",
        "Which side of the body do the {nouns} come from?",
        "Left {limb} or right {limb} for the {nouns}?",
        "With which {limb} are the {nouns} performed?",
        "Do the {nouns} use the left {limb}, the right {limb} or both?",
        "Is it the left or the right {limb} doing the {nouns}?",
        "Which {limb} is used for the {nouns}?",
        "For the {nouns}, which {limb} moves?",
        "On which side are the {nouns}?",
        "Say which {limb} the person uses for the {nouns}.",
        "The {nouns}: left {limb} or right {limb}?",
        "Tell me which {limb} does the {nouns}.",
    ],
    "direction": [
        "Which direction is the person {verb}?",
        "In which direction does the person go while {verb}?",
        "Is the person {verb} forward, backward or sideways?",
        "Relative to their own body, which way are they {verb}?",
        "Where is the person {verb} to?",
        "Tell me the direction the person is {verb} in.",
        "Is the person {verb} forward, backward, to the left or to the right?",
        "Which way does the person head while {verb}?",
        "Seen from the person, in which direction are they {verb}?",
        "What direction of travel do you see while the person is {verb}?",
        "Towards which side is the person {verb}?",
        "Say which direction the person is {verb}.",
        "Which way is the person {verb}?",
    ],
    "before": [
        "What does the person do before {x}?",
        "What happens right before {x}?",
        "Before {x}, what is the person doing?",
        "Which action comes just before {x}?",
        "Tell me what the person does before {x}.",
        "What did the person do prior to {x}?",
        "What is the person doing just before {x} starts?",
        "Which movement leads into {x}?",
        "Right before {x}, what action do you see?",
        "What precedes {x}?",
    ],
    "after": [
        "What does the person do after {x}?",
        "What happens right after {x}?",
        "After {x}, what does the person do?",
        "Which action follows {x}?",
        "Tell me what the person does after {x}.",
        "What does the person do once {x} is over?",
        "What is the next action after {x}?",
        "Following {x}, what happens?",
        "Which movement comes after {x}?",
        "What comes next after {x}?",
    ],
    "order": [
        "Does the person do {x} before {y}?",
        "Do {x} happen before {y}?",
        "Does {x} come earlier than {y}?",
        "Is {x} earlier than {y}?",
        "Tell me whether {x} happen before {y}.",
        "Do we see {x} first and then {y}?",
        "Did {x} happen before {y}?",
    ],
    "count": [
        "How many {noun} does the person do?",
        "Count the {noun}.",
        "How many {noun} are there?",
        "How many times does the person repeat the movement?",
        "What is the number of {noun}?",
        "How many {noun} can you count in this clip?",
        "Tell me how many {noun} the person does.",
        "How many {noun} in total?",
        "Count how many {noun} you see.",
        "What is the total number of {noun}?",
        "How many repetitions are there?",
        "Give me the count of {noun}.",
    ],
    "tempo": [
        "How fast is the person moving?",
        "Is the movement slow or fast?",
        "What is the pace of the movement?",
        "Describe the speed of the motion.",
        "Tell me how quick the movement is.",
        "Is the person moving slowly, at a moderate pace or quickly?",
        "How quick is the motion?",
        "What speed does the person move at?",
        "At what tempo does the person move?",
    ],
    "caption": [
        "Describe the motion.",
        "Give a short caption for this motion.",
        "Summarise what happens in the clip.",
        "What happens in this motion sequence?",
        "Tell me what happens in this clip.",
        "Describe the movement in one sentence.",
        "Caption this motion.",
        "Write one sentence describing the movement.",
    ],
    "unknown": [
        "What color is the person's shirt?",
        "How old is the person?",
        "What is the person's name?",
        "What music is playing?",
        "Is the person indoors or outdoors?",
        "What is the person thinking about?",
        "Tell me the colour of the person's hair.",
        "What is the person wearing?",
        "Where does this take place?",
        "What time of day is it?",
        "Is the person happy or sad?",
        "What language does the person speak?",
        "How tall is the person in centimetres?",
        "What is in the background?",
        "Is anyone else in the room?",
        "What is the person's job?",
        "What is the weather like?",
        "What brand of shoes is the person wearing?",
    ],
}
HELD_OUT = {k: 1 for k in Q}  # the last phrasing of each kind
HELD_OUT["unknown"] = 2


# The "extended" question set adds these training phrasings (never a held-out one) and asks tempo
# and off-topic questions more often. The default checkpoint's second instruct pass trains on it:
# after the first pass alone, unfamiliar tempo words and off-topic questions got motion answers.
Q_EXTENDED: dict[str, list[str]] = {
    "before": [  # "precede" was in no training phrasing: "What precedes X?" got "The right leg."
        "Which action preceded {x}?",
        "Name the movement that preceded {x}.",
        "Tell me the action preceding {x}.",
    ],
    "tempo": [
        "Is the tempo slow, moderate or fast?",
        "What is the rhythm of the movement like?",
        "Does the person keep a slow or a quick rhythm?",
        "Describe the tempo of the repetitions.",
        "How rapid are the movements?",
        "Is this done at a leisurely or a brisk pace?",
    ],
    "unknown": [
        "What colour are the walls?",
        "What does the person's face look like?",
        "Which city is this in?",
        "What is the person holding?",
        "What is the person saying?",
        "Is the person married?",
        "What kind of floor is it?",
        "What is the person's favourite food?",
        "Which sport team does the person support?",
        "What colour are the person's trousers?",
        "Is there a dog nearby?",
        "What is written on the wall?",
    ],
}
QUESTION_SETS = ("standard", "extended")


def phrasings(kind: str, split: str, questions: str = "standard") -> list[str]:
    items = Q[kind]
    n = HELD_OUT[kind]
    if split == "test":
        return items[-n:]
    return items[:-n] + (Q_EXTENDED.get(kind, []) if questions == "extended" else [])


CANT_TELL_UNKNOWN = "I can't tell from the motion: it only shows how the body moves, not that."
CANT_TELL_OTHER = "I can't tell: the movement does not look like an action I know."

SIDE_ANSWER = {"left": "The left {limb}.", "right": "The right {limb}.", "both": "Both {limbs}, alternating."}
SIDE_ANSWER_BOTH_TOGETHER = "Both {limbs}."
DIRECTION_ANSWER = {
    "forward": "Forward.",
    "backward": "Backward.",
    "left": "To their left.",
    "right": "To their right.",
    "turn_left": "Forward, turning to their left.",
    "turn_right": "Forward, turning to their right.",
    "none": "They stay in place.",
}


def tempo_label(tempo: float) -> str:
    return "slow" if tempo < 0.8 else ("fast" if tempo > 1.3 else "moderate")


TEMPO_ANSWER = {"slow": "Slowly.", "moderate": "At a moderate pace.", "fast": "Quickly."}


def _gerund(seg: dict) -> str:
    return ACTION_WORDS[seg["action"]][0]


def action_answer(seg: dict) -> str:
    a = seg["action"]
    if a == OTHER:
        return CANT_TELL_OTHER
    text = ACTION_WORDS[a][0]
    if a in ("walk", "run") and seg["direction"] not in ("forward", "none"):
        text += {"backward": " backward", "left": " to their left", "right": " to their right"}.get(
            seg["direction"], " and turning"
        )
    if a in SIDED and seg["side"] in ("left", "right"):
        text += f" with the {seg['side']} {SIDED[a]}"
    return f"The person is {text}."


def _segment_ref(seg: dict) -> str:
    """How a question names a segment: 'the squats', 'walking'."""
    a = seg["action"]
    words = ACTION_WORDS[a]
    if words[2] is not None and a not in ("walk", "run"):
        return f"the {words[2][0]}"
    return words[0].replace("their", "the")


def _segment_phrase(seg: dict) -> str:
    """A segment in a caption: 'does 5 squats', 'walks forward', 'waves 4 times with the left arm'."""
    a = seg["action"]
    if a == OTHER:
        return "moves in an unusual way"
    words = ACTION_WORDS[a]
    reps = seg["reps"]
    if a in ("walk", "run"):
        d = {
            "forward": " forward",
            "backward": " backward",
            "left": " to their left",
            "right": " to their right",
        }
        d.update({"turn_left": ", turning left,", "turn_right": ", turning right,"})
        return f"{words[1]}{d.get(seg['direction'], '')} for {reps} steps".replace(",  for", " for").replace(
            ", for", " for"
        )
    if words[2] is None:
        return words[1]
    noun = words[2][0] if reps != 1 else words[2][1]
    phrase = f"does {reps} {noun}"
    if a == "jump" and seg["direction"] != "none":
        phrase += f" {DIRECTION_ANSWER[seg['direction']].rstrip('.').lower().replace('to their', 'to the')}"
    if a in SIDED and seg["side"] in ("left", "right"):
        phrase += f" with the {seg['side']} {SIDED[a]}"
    return phrase


def caption(segments: list[dict]) -> str:
    parts = [_segment_phrase(s) for s in segments]
    if len(parts) == 1:
        return f"A person {parts[0]}."
    if len(parts) == 2:
        return f"A person {parts[0]}, then {parts[1]}."
    return f"A person {parts[0]}, then {parts[1]}, and finally {parts[2]}."


def count_answer(seg: dict) -> str:
    words = ACTION_WORDS[seg["action"]][2]
    reps = seg["reps"]
    return f"{reps} {words[0] if reps != 1 else words[1]}."


# ---------------------------------------------------------------- building conversations


def candidate_questions(
    segments: list[dict], rng: np.random.Generator, split: str, questions: str = "standard"
) -> list[tuple]:
    """(kind, question, answer, label) for everything askable about this clip."""
    out: list[tuple] = []
    pick = lambda kind: str(rng.choice(phrasings(kind, split, questions)))  # noqa: E731
    if len(segments) == 1:
        seg = segments[0]
        a = seg["action"]
        out.append(("action", pick("action"), action_answer(seg), a))
        if a == OTHER:
            return out + [("caption", pick("caption"), CANT_TELL_OTHER, OTHER)]
        if ACTION_WORDS[a][2] is not None:
            noun = ACTION_WORDS[a][2][0]
            out.append(("count", pick("count").format(noun=noun), count_answer(seg), seg["reps"]))
        if a not in ("idle", "sit_down", "stand_up"):
            t = tempo_label(seg["tempo"])
            out.append(("tempo", pick("tempo"), TEMPO_ANSWER[t], t))
    else:
        for i, seg in enumerate(segments):
            if seg["action"] == OTHER:
                continue
            ref = _segment_ref(seg)
            if i + 1 < len(segments) and segments[i + 1]["action"] != OTHER:
                nxt = segments[i + 1]
                out.append(("after", pick("after").format(x=ref), action_answer(nxt), nxt["action"]))
            if i > 0 and segments[i - 1]["action"] != OTHER:
                prv = segments[i - 1]
                out.append(("before", pick("before").format(x=ref), action_answer(prv), prv["action"]))
        a, b = rng.choice(len(segments), size=2, replace=False)
        sa, sb = segments[a], segments[b]
        if OTHER not in (sa["action"], sb["action"]):
            q = pick("order").format(x=_segment_ref(sa), y=_segment_ref(sb))
            out.append(("order", q, *_order_answer(sa, sb, a < b)))
        for seg in segments:  # counting inside a sequence names the action
            if seg["action"] != OTHER and ACTION_WORDS[seg["action"]][2] is not None and rng.random() < 0.5:
                noun = ACTION_WORDS[seg["action"]][2][0]
                q = str(
                    rng.choice([p for p in phrasings("count", split, questions) if "{noun}" in p])
                ).format(noun=noun)
                out.append(("count", q, count_answer(seg), seg["reps"]))
                break
    for seg in segments:
        a = seg["action"]
        if a in SIDED:
            limb = SIDED[a]
            q = pick("side").format(limb=limb, nouns=ACTION_WORDS[a][2][0])
            together = seg["side"] == "both" and a in ("arm_raise", "wave")
            template = SIDE_ANSWER_BOTH_TOGETHER if together else SIDE_ANSWER[seg["side"]]
            out.append(("side", q, template.format(limb=limb, limbs=limb + "s"), seg["side"]))
        if a in ("walk", "run", "jump"):
            verb = {"walk": "walking", "run": "running", "jump": "jumping"}[a]
            ans = DIRECTION_ANSWER[seg["direction"]]
            out.append(("direction", pick("direction").format(verb=verb), ans, seg["direction"]))
    out.append(("caption", pick("caption"), caption(segments), caption(segments)))
    out.append(("unknown", pick("unknown"), CANT_TELL_UNKNOWN, "cant_tell"))
    return out


def _order_answer(x: dict, y: dict, yes: bool) -> tuple[str, str]:
    """Answer and label of "did x happen before y?"; the answer names the segment that came first."""
    first = _segment_ref(x if yes else y)
    verb = "come" if first.endswith("s") else "comes"
    return (f"Yes, {first} {verb} first." if yes else f"No, {first} {verb} first."), ("yes" if yes else "no")


KIND_WEIGHT = {
    "action": 3.0,
    "side": 4.0,
    "direction": 4.0,
    "before": 2.0,
    "after": 2.0,
    "order": 1.5,
    "count": 3.0,
    "tempo": 1.0,
    "caption": 1.0,
    "unknown": 0.3,
}


KIND_WEIGHT_EXTENDED = {**KIND_WEIGHT, "before": 3.0, "after": 3.0, "order": 3.0, "tempo": 1.5, "unknown": 1.0}


def make_qas(
    segments: list[dict],
    rng: np.random.Generator,
    split: str,
    max_turns: int = 3,
    questions: str = "standard",
) -> list[tuple]:
    """1..max_turns distinct-kind questions for one clip, weighted towards the benchmark kinds."""
    if questions not in QUESTION_SETS:
        raise LlamoError(f"the question set must be standard or extended, not {questions!r}.")
    weights = KIND_WEIGHT_EXTENDED if questions == "extended" else KIND_WEIGHT
    cands = candidate_questions(segments, rng, split, questions)
    by_kind: dict[str, list] = {}
    for c in cands:
        by_kind.setdefault(c[0], []).append(c)
    kinds = list(by_kind)
    w = np.array([weights[k] for k in kinds])
    n = int(min(len(kinds), rng.integers(1, max_turns + 1)))
    chosen = rng.choice(len(kinds), size=n, replace=False, p=w / w.sum())
    qas = [by_kind[kinds[i]][int(rng.integers(len(by_kind[kinds[i]])))] for i in chosen]
    return _with_mirrors(qas, segments, rng, split, questions) if questions == "extended" else qas


def _with_mirrors(qas: list[tuple], segments: list[dict], rng, split: str, questions: str) -> list[tuple]:
    """Half the time, follow "what comes after X?" (answer Y) with "what comes before Y?" (answer
    X), and the other way round; and "did X happen before Y?" with "did Y happen before X?". The
    same pair asked both ways, so that the words and their order, not a habit of answering one
    neighbour or one of yes/no, decide the answer."""
    out = []
    for qa in qas:
        out.append(qa)
        kind, question, _, label = qa
        if kind not in ("before", "after", "order") or rng.random() >= 0.5:
            continue
        if kind == "order":
            out.extend(_order_mirror(question, segments, rng, split, questions))
            continue
        step = 1 if kind == "after" else -1  # where the answer lies from the asked segment
        for i, seg in enumerate(segments):
            j = i + step
            if 0 <= j < len(segments) and segments[j]["action"] == label and _segment_ref(seg) in question:
                mirror = "before" if kind == "after" else "after"
                q = str(rng.choice(phrasings(mirror, split, questions))).format(x=_segment_ref(segments[j]))
                out.append((mirror, q, action_answer(seg), seg["action"]))
                break
    return out


def _order_mirror(question: str, segments: list[dict], rng, split: str, questions: str) -> list[tuple]:
    """The order question with its two segments swapped (none when they are not both found)."""
    refs_of = {i: _segment_ref(s) for i, s in enumerate(segments) if s["action"] != OTHER}
    found = sorted((question.find(r), i) for i, r in refs_of.items() if r in question)
    if len(found) != 2 or len({refs_of[i] for _, i in found}) != 2:  # a repeated action: ambiguous
        return []
    (_, x), (_, y) = found  # every order phrasing names x before y
    q = str(rng.choice(phrasings("order", split, questions))).format(x=refs_of[y], y=refs_of[x])
    return [("order", q, *_order_answer(segments[y], segments[x], y < x))]


# ---------------------------------------------------------------- normalising free answers

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
    (OTHER, r"can'?t tell|cannot tell|not sure|unusual|don'?t know"),
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


def normalise_count(text: str) -> int | None:
    t = text.lower()
    m = re.search(r"\d+", t)
    words = re.findall(r"[a-z]+", t)
    first_word = next(((i, NUMBER_WORDS.index(w)) for i, w in enumerate(words) if w in NUMBER_WORDS), None)
    if m and (first_word is None or t.find(m.group()) <= t.find(words[first_word[0]])):
        return int(m.group())
    if first_word is not None:
        return first_word[1]
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
