"""Building a clip's conversation: every askable question, then a few of distinct kinds.

Which questions a clip allows follows from its labels (a count only for counted actions, a side
only for sided ones, before/after only in sequences). The generator's random draws happen in a
fixed order, so a clip seed always gives the same conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np

from llamo.conversation import MOTION_MARKER, Conversation, Turn
from llamo.data.synth import SIDED
from llamo.data.templates.answers import (
    ACTION_WORDS,
    CANT_TELL_OTHER,
    CANT_TELL_UNKNOWN,
    DIRECTION_ANSWER,
    SIDE_ANSWER,
    SIDE_ANSWER_BOTH_TOGETHER,
    TEMPO_ANSWER,
    action_answer,
    caption,
    count_answer,
    segment_ref,
    tempo_label,
)
from llamo.data.templates.phrasings import QUESTION_SETS, phrasings
from llamo.errors import LlamoError
from llamo.labels import OTHER


class QA(NamedTuple):
    """One question of a conversation, with its answer and the label evaluation compares."""

    kind: str
    question: str
    answer: str
    label: object  # an action, side, direction, count, yes/no, tempo, caption or "cant_tell"


# a question kind (and a slot the phrasing must name, if any) -> one of its phrasings for this split
Pick = Callable[..., str]


def _single_questions(seg: dict, pick: Pick) -> list[QA]:
    """What one action alone allows: the action, its count and its tempo."""
    a = seg["action"]
    out = [QA("action", pick("action"), action_answer(seg), a)]
    if a == OTHER:
        return out
    if ACTION_WORDS[a][2] is not None:
        noun = ACTION_WORDS[a][2][0]
        out.append(QA("count", pick("count").format(noun=noun), count_answer(seg), seg["reps"]))
    if a not in ("idle", "sit_down", "stand_up"):
        t = tempo_label(seg["tempo"])
        out.append(QA("tempo", pick("tempo"), TEMPO_ANSWER[t], t))
    return out


def _neighbour_questions(segments: list[dict], pick: Pick) -> list[QA]:
    """What comes after and before each segment of a sequence."""
    out = []
    for i, seg in enumerate(segments):
        if seg["action"] == OTHER:
            continue
        ref = segment_ref(seg)
        if i + 1 < len(segments) and segments[i + 1]["action"] != OTHER:
            nxt = segments[i + 1]
            out.append(QA("after", pick("after").format(x=ref), action_answer(nxt), nxt["action"]))
        if i > 0 and segments[i - 1]["action"] != OTHER:
            prv = segments[i - 1]
            out.append(QA("before", pick("before").format(x=ref), action_answer(prv), prv["action"]))
    return out


def _sequence_questions(segments: list[dict], pick: Pick, rng, split: str, questions: str) -> list[QA]:
    """Before, after, the order of two segments, and one count that names its action."""
    out = _neighbour_questions(segments, pick)
    a, b = rng.choice(len(segments), size=2, replace=False)
    sa, sb = segments[a], segments[b]
    if OTHER not in (sa["action"], sb["action"]):
        q = pick("order").format(x=segment_ref(sa), y=segment_ref(sb))
        out.append(QA("order", q, *_order_answer(sa, sb, a < b)))
    for seg in segments:  # counting inside a sequence names the action
        if seg["action"] != OTHER and ACTION_WORDS[seg["action"]][2] is not None and rng.random() < 0.5:
            noun = ACTION_WORDS[seg["action"]][2][0]
            q = str(rng.choice([p for p in phrasings("count", split, questions) if "{noun}" in p])).format(
                noun=noun
            )
            out.append(QA("count", q, count_answer(seg), seg["reps"]))
            break
    return out


def _side_and_direction_questions(segments: list[dict], pick: Pick) -> list[QA]:
    """In a sequence the question names the action ("the kicks"), else it would be ambiguous."""
    out = []
    named = len(segments) > 1
    for seg in segments:
        a = seg["action"]
        if a in SIDED:
            limb = SIDED[a]
            q = pick("side", "{nouns}" if named else None).format(limb=limb, nouns=ACTION_WORDS[a][2][0])
            together = seg["side"] == "both" and a in ("arm_raise", "wave")
            template = SIDE_ANSWER_BOTH_TOGETHER if together else SIDE_ANSWER[seg["side"]]
            out.append(QA("side", q, template.format(limb=limb, limbs=limb + "s"), seg["side"]))
        if a in ("walk", "run", "jump"):
            verb = {"walk": "walking", "run": "running", "jump": "jumping"}[a]
            ans = DIRECTION_ANSWER[seg["direction"]]
            q = pick("direction", "{verb}" if named else None).format(verb=verb)
            out.append(QA("direction", q, ans, seg["direction"]))
    return out


def candidate_questions(
    segments: list[dict], rng: np.random.Generator, split: str, questions: str = "standard"
) -> list[QA]:
    """Everything askable about this clip."""

    def pick(kind: str, needs: str | None = None) -> str:
        options = phrasings(kind, split, questions)
        return str(rng.choice([p for p in options if needs in p] if needs else options))

    if len(segments) == 1:
        out = _single_questions(segments[0], pick)
        if segments[0]["action"] == OTHER:
            return out + [QA("caption", pick("caption"), CANT_TELL_OTHER, OTHER)]
    else:
        out = _sequence_questions(segments, pick, rng, split, questions)
    out += _side_and_direction_questions(segments, pick)
    out.append(QA("caption", pick("caption"), caption(segments), caption(segments)))
    out.append(QA("unknown", pick("unknown"), CANT_TELL_UNKNOWN, "cant_tell"))
    return out


def _order_answer(x: dict, y: dict, yes: bool) -> tuple[str, str]:
    """Answer and label of "did x happen before y?"; the answer names the segment that came first."""
    first = segment_ref(x if yes else y)
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


KIND_WEIGHT_EXTENDED = {
    **KIND_WEIGHT,
    "before": 3.0,
    "after": 3.0,
    "order": 3.0,
    "tempo": 1.5,
    "unknown": 1.0,
}


def choose_by_kind(cands: list[QA], weights: Mapping[str, float], rng, max_turns: int) -> list[QA]:
    """1..max_turns questions of distinct kinds: a kind drawn by weight (1 if unlisted), then one of its
    candidates."""
    by_kind: dict[str, list[QA]] = {}
    for c in cands:
        by_kind.setdefault(c[0], []).append(c)
    kinds = list(by_kind)
    w = np.array([weights.get(k, 1.0) for k in kinds])
    n = int(min(len(kinds), rng.integers(1, max_turns + 1)))
    chosen = rng.choice(len(kinds), size=n, replace=False, p=w / w.sum())
    return [by_kind[kinds[i]][int(rng.integers(len(by_kind[kinds[i]])))] for i in chosen]


def make_qas(
    segments: list[dict],
    rng: np.random.Generator,
    split: str,
    max_turns: int = 3,
    questions: str = "standard",
) -> list[QA]:
    """1..max_turns distinct-kind questions for one clip, weighted towards the benchmark kinds."""
    if questions not in QUESTION_SETS:
        raise LlamoError(f"the question set must be one of {', '.join(QUESTION_SETS)}, not {questions!r}.")
    wider = questions != "standard"  # extended and broad: its weights and the mirrored questions
    weights = KIND_WEIGHT_EXTENDED if wider else KIND_WEIGHT
    qas = choose_by_kind(candidate_questions(segments, rng, split, questions), weights, rng, max_turns)
    return _with_mirrors(qas, segments, rng, split, questions) if wider else qas


def _with_mirrors(qas: list[QA], segments: list[dict], rng, split: str, questions: str) -> list[QA]:
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
            if 0 <= j < len(segments) and segments[j]["action"] == label and segment_ref(seg) in question:
                mirror = "before" if kind == "after" else "after"
                q = str(rng.choice(phrasings(mirror, split, questions))).format(x=segment_ref(segments[j]))
                out.append(QA(mirror, q, action_answer(seg), seg["action"]))
                break
    return out


def _order_mirror(question: str, segments: list[dict], rng, split: str, questions: str) -> list[QA]:
    """The order question with its two segments swapped (none when they are not both found)."""
    refs_of = {i: segment_ref(s) for i, s in enumerate(segments) if s["action"] != OTHER}
    found = sorted((question.find(r), i) for i, r in refs_of.items() if r in question)
    if len(found) != 2 or len({refs_of[i] for _, i in found}) != 2:  # a repeated action: ambiguous
        return []
    (_, x), (_, y) = found  # every order phrasing names x before y
    q = str(rng.choice(phrasings("order", split, questions))).format(x=refs_of[y], y=refs_of[x])
    return [QA("order", q, *_order_answer(segments[y], segments[x], y < x))]


def qa_conversation(conv_id: str, qas: list[QA], meta: dict, motion: str | None = None) -> Conversation:
    """The questions as user turns (the motion marker before the first) and the answers as assistant
    turns; each question's kind and label go into meta["qa"], first among the meta keys."""
    turns: list[Turn] = []
    qa_meta = []
    for j, (kind, question, answer, label) in enumerate(qas):
        turns.append(Turn("user", (f"{MOTION_MARKER}\n" if j == 0 else "") + question))
        qa_meta.append({"turn": len(turns), "kind": kind, "label": label})
        turns.append(Turn("assistant", answer))
    return Conversation(id=conv_id, turns=turns, motion=motion, meta={"qa": qa_meta, **meta})
