"""The training paraphrase bank: every kind present and big enough, right slots, nothing copied."""

import re
import string

import pytest

from llamo.data import real_questions
from llamo.data.templates.paraphrases import PARAPHRASES
from llamo.data.templates.phrasings import Q_EXTENDED, Q

# kind: (allowed slots, minimum phrasings, minimum slot-free phrasings)
SPEC = {
    "action": (set(), 45, 45),
    "side": ({"limb", "nouns"}, 30, 5),
    "direction": ({"verb"}, 35, 15),
    "count": ({"noun"}, 50, 25),
    "tempo": (set(), 20, 20),
    "caption": (set(), 20, 20),
    "before": ({"x"}, 20, 0),
    "after": ({"x"}, 20, 0),
    "order": ({"x", "y"}, 14, 0),
    "unknown": (set(), 35, 35),
    "style": (set(), 15, 15),
    "when_rep": ({"ordinal", "noun"}, 15, 0),
    "when_seg": ({"gerund"}, 10, 0),
    "premise": ({"noun"}, 12, 0),
}
# Kinds whose every phrasing must name all its slots (the question is meaningless without them).
ALL_SLOTS = ("before", "after", "order", "when_rep", "when_seg")


def _slots(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s{}]", "", text.lower()).split())


def _existing() -> set[str]:
    lists = [*Q.values(), *Q_EXTENDED.values()]
    lists += [real_questions.STYLE_Q, real_questions.WHEN_REP_Q, real_questions.WHEN_SEG_Q]
    lists.append(real_questions.PREMISE_Q)
    return {_norm(p) for items in lists for p in items}


def _word_edits(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, wa in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, wb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (wa != wb))
    return row[-1]


def test_every_kind_present_and_big_enough():
    assert set(PARAPHRASES) == set(SPEC)
    for kind, (_, minimum, _) in SPEC.items():
        assert len(PARAPHRASES[kind]) >= minimum, kind


@pytest.mark.parametrize("kind", sorted(SPEC))
def test_slots_are_the_kinds_own(kind):
    allowed, _, min_free = SPEC[kind]
    for p in PARAPHRASES[kind]:
        assert _slots(p) <= allowed, p
        if kind in ALL_SLOTS:
            assert _slots(p) == allowed, p
        p.format(**{s: "X" for s in allowed})  # formats cleanly with the kind's slots
        assert "\n" not in p and len(p) < 110, p
    assert sum(not _slots(p) for p in PARAPHRASES[kind]) >= min_free


def test_side_has_limb_only_and_slot_free_questions():
    side = PARAPHRASES["side"]
    assert sum(_slots(p) == {"limb"} for p in side) >= 10
    assert sum(not _slots(p) for p in side) >= 5


def test_no_duplicates_within_a_kind():
    for kind, items in PARAPHRASES.items():
        normed = [_norm(p) for p in items]
        assert len(normed) == len(set(normed)), kind


def test_nothing_equals_or_nearly_copies_an_existing_phrasing():
    existing = _existing()
    for kind, items in PARAPHRASES.items():
        for p in items:
            words = _norm(p).split()
            assert _norm(p) not in existing, (kind, p)
            near = [e for e in existing if _word_edits(words, e.split()) <= 1]
            assert not near, (kind, p, near)
