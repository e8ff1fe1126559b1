"""Inter-annotator agreement per kind of question, with Krippendorff's alpha (the `krippendorff`
package, not hand-written statistics).

A *unit* is one question about one clip: the same turn corrected by several people, or the same
question (normalised) asked about the same clip in the conversations of several annotators, as
assignment with overlap produces. Each annotator's latest correction in a unit is their value.

- rating: the 1-5 rating of the model's answer, ordinal alpha;
- labels: each tag as a present/absent decision per unit, nominal alpha over (unit, tag);
- answer: the corrected answer text after normalising case, spaces and a final full stop,
  nominal alpha (do they write the same answer?);
- segments: time segments on a clip, the mean best-match IoU between two annotators' spans of
  the clip (`span_overlap`; not an alpha: `level` says "iou").

Alpha is None when it is undefined: fewer than two annotators on any unit, or a single value in
the whole domain (everyone said the same thing; `observed` then says whether they agreed).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass

import krippendorff
import numpy as np


@dataclass(frozen=True)
class Judgement:
    """One annotator's latest correction of one unit."""

    unit: Hashable  # (clip id, normalised question)
    coder: int  # annotator id
    text: str
    rating: int | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class KindAgreement:
    """Agreement on one kind of question."""

    alpha: float | None
    level: str  # ordinal | nominal | iou
    units: int  # units with values from at least two annotators
    coders: int  # annotators with a value in such a unit
    observed: float | None = None  # share of annotator pairs with equal values (None: no pairs)

    def as_dict(self) -> dict:
        return asdict(self)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.casefold()).strip(" .")


def _alpha(values: Mapping[Hashable, Mapping[int, float]], level: str) -> KindAgreement:
    """values[unit][coder] -> alpha over the units that at least two coders valued."""
    units = [u for u, by in values.items() if len(by) >= 2]
    coders = sorted({c for u in units for c in values[u]})
    if not units:
        return KindAgreement(None, level, 0, 0)
    data = np.full((len(coders), len(units)), np.nan)
    pairs = same = 0
    for j, u in enumerate(units):
        by = values[u]
        for i, c in enumerate(coders):
            if c in by:
                data[i, j] = by[c]
        vs = list(by.values())
        for a in range(len(vs)):
            for b in vs[a + 1 :]:
                pairs, same = pairs + 1, same + (vs[a] == b)
    observed = same / pairs if pairs else None
    try:
        alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    except ValueError:  # one value in the whole domain: alpha is undefined
        alpha = None
    return KindAgreement(alpha, level, len(units), len(coders), observed)


def agreement_by_kind(judgements: Iterable[Judgement]) -> dict[str, dict]:
    """{"rating", "labels", "answer"} -> KindAgreement as a dict (segments: `span_overlap`)."""
    judgements = list(judgements)
    ratings: dict = defaultdict(dict)
    answers: dict = defaultdict(dict)
    codes: dict[str, int] = {}
    for j in judgements:
        if j.rating is not None:
            ratings[j.unit][j.coder] = float(j.rating)
        answers[j.unit][j.coder] = float(codes.setdefault(normalise(j.text), len(codes)))
    # labels: only units with two or more annotators, every tag any of them used there
    by_unit: dict = defaultdict(list)
    for j in judgements:
        by_unit[j.unit].append(j)
    labels: dict = {}
    for unit, js in by_unit.items():
        for tag in sorted({t for j in js for t in j.tags}):
            labels[(unit, tag)] = {j.coder: float(tag in j.tags) for j in js}
    return {
        "rating": _alpha(ratings, "ordinal").as_dict(),
        "labels": _alpha(labels, "nominal").as_dict(),
        "answer": _alpha(answers, "nominal").as_dict(),
    }


def _iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else float(a == b)


def span_overlap(spans: Mapping[Hashable, Mapping[int, list[tuple[float, float]]]]) -> KindAgreement:
    """spans[clip][coder] -> [(start_s, end_s), ...]: per pair of annotators of a clip, each
    span's best IoU with the other's spans, averaged both ways; then the mean over pairs."""
    scores: list[float] = []
    coders: set[int] = set()
    units = 0
    for by in spans.values():
        who = [c for c, s in by.items() if s]
        if len(who) < 2:
            continue
        units += 1
        coders.update(who)
        for i, a in enumerate(who):
            for b in who[i + 1 :]:
                one = [max(_iou(x, y) for y in by[b]) for x in by[a]]
                two = [max(_iou(y, x) for x in by[a]) for y in by[b]]
                scores.append((sum(one) + sum(two)) / (len(one) + len(two)))
    mean = sum(scores) / len(scores) if scores else None
    return KindAgreement(mean, "iou", units, len(coders), mean)
