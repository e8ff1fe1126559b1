"""Question-answer templates over synthetic labels (BABEL-QA and Mo-RepCount style), and the
answer normaliser the evaluator uses.

- `phrasings`: the phrasings of each question kind, and which are held out for the test split;
- `answers`: short, regular answers from segment labels, and captions;
- `questions`: every askable question of a clip, and the few a conversation asks;
- `normalise`: free answers back to labels, so evaluation compares labels, not strings.

Kinds: action, side (body part), direction, before, after, order (yes/no), count, tempo, caption,
unknown (an honest "I can't tell" for questions motion cannot answer, and for unfamiliar motion).
"""

from llamo.data.synth import SIDED
from llamo.data.templates.answers import (
    ACTION_WORDS,
    CANT_TELL_OTHER,
    CANT_TELL_UNKNOWN,
    action_answer,
    caption,
    count_answer,
    segment_ref,
    tempo_label,
)
from llamo.data.templates.normalise import (
    NORMALISERS,
    NUMBER_WORDS,
    normalise,
    normalise_action,
    normalise_cant_tell,
    normalise_count,
    normalise_direction,
    normalise_side,
    normalise_tempo,
    normalise_yes_no,
)
from llamo.data.templates.phrasings import HELD_OUT, KINDS, Q_EXTENDED, QUESTION_SETS, Q, phrasings
from llamo.data.templates.questions import (
    KIND_WEIGHT,
    KIND_WEIGHT_EXTENDED,
    QA,
    candidate_questions,
    choose_by_kind,
    make_qas,
    qa_conversation,
)

__all__ = [
    "ACTION_WORDS",
    "CANT_TELL_OTHER",
    "CANT_TELL_UNKNOWN",
    "HELD_OUT",
    "KINDS",
    "KIND_WEIGHT",
    "KIND_WEIGHT_EXTENDED",
    "NORMALISERS",
    "NUMBER_WORDS",
    "QA",
    "QUESTION_SETS",
    "Q",
    "Q_EXTENDED",
    "SIDED",
    "action_answer",
    "candidate_questions",
    "caption",
    "choose_by_kind",
    "count_answer",
    "make_qas",
    "normalise",
    "normalise_action",
    "normalise_cant_tell",
    "normalise_count",
    "normalise_direction",
    "normalise_side",
    "normalise_tempo",
    "normalise_yes_no",
    "phrasings",
    "qa_conversation",
    "segment_ref",
    "tempo_label",
]
