"""What the store holds: counts by status, annotator and tag, reviews, and inter-annotator agreement.

Agreement compares, per turn, the latest correction of each annotator who corrected it: exact
agreement after normalising case, spaces and a final full stop; the token Jaccard overlap; and
the mean difference of their ratings of the model's answer; and, per kind of question,
Krippendorff's alpha over units of one question about one clip (`annotations.agreement`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import NamedTuple

from sqlalchemy import func
from sqlmodel import Session, select

from annotations.agreement import Judgement, agreement_by_kind, normalise, span_overlap
from annotations.models import STATUSES, Annotator, Clip, Conversation, Correction, Review, Segment, Turn
from annotations.queries import flagged_turns


class _Fix(NamedTuple):
    turn_id: int
    annotator_id: int
    text: str
    rating: int | None
    tags: list | None
    question: str
    clip_id: int | None


_norm = normalise


def _agreement(by_turn: dict[int, list[_Fix]]) -> dict:
    pairs = exact = 0
    jaccard = 0.0
    rating_gaps: list[int] = []
    for values in by_turn.values():
        for i in range(len(values)):
            for b in values[i + 1 :]:
                a = values[i]
                pairs += 1
                exact += _norm(a.text) == _norm(b.text)
                wa, wb = set(_norm(a.text).split()), set(_norm(b.text).split())
                jaccard += len(wa & wb) / max(1, len(wa | wb))
                if a.rating is not None and b.rating is not None:
                    rating_gaps.append(abs(a.rating - b.rating))
    return {
        "turns_with_several_annotators": sum(1 for v in by_turn.values() if len(v) > 1),
        "pairs": pairs,
        "exact_agreement": exact / pairs if pairs else None,
        "mean_token_jaccard": jaccard / pairs if pairs else None,
        "mean_rating_difference": sum(rating_gaps) / len(rating_gaps) if rating_gaps else None,
    }


def _counts(s: Session, live) -> dict:
    by_status = dict.fromkeys(STATUSES, 0)
    for st, n in s.exec(
        select(Turn.status, func.count()).where(Turn.id.in_(live)).group_by(Turn.status)
    ).all():
        by_status[st] = n
    conversations = s.exec(
        select(func.count()).select_from(Conversation).where(Conversation.deleted_at.is_(None))
    ).one()
    clips = s.exec(select(func.count()).select_from(Clip).where(Clip.deleted_at.is_(None))).one()
    return {
        "clips": clips,
        "conversations": conversations,
        "turns": sum(by_status.values()),
        "turns_by_status": by_status,
    }


def _measured_otherwise(s: Session, live) -> dict[str, int]:
    """Turns whose latest model answer the measured joints contradict, by the turn's status: the
    answers most worth an expert's correction (the model's known blind spots)."""
    by_status = dict.fromkeys(STATUSES, 0)
    for st, n in s.exec(
        select(Turn.status, func.count())
        .where(Turn.id.in_(live), Turn.id.in_(flagged_turns()))
        .group_by(Turn.status)
    ).all():
        by_status[st] = n
    return by_status


def _reviews(s: Session) -> dict[str, int]:
    reviews = dict.fromkeys(("accepted", "rejected"), 0)
    for accept, n in s.exec(select(Review.accept, func.count()).group_by(Review.accept)).all():
        reviews["accepted" if accept else "rejected"] = n
    return reviews


def store_stats(s: Session) -> dict:
    """Counts by status and annotator, corrections per tag, reviews, and inter-annotator agreement."""
    live = select(Turn.id).join(Conversation).where(Conversation.deleted_at.is_(None))
    names = dict(s.exec(select(Annotator.id, Annotator.name)).all())
    fixes = [
        _Fix(*row)
        for row in s.exec(
            select(
                Correction.turn_id,
                Correction.annotator_id,
                Correction.text,
                Correction.rating,
                Correction.tags,
                Turn.question,
                Conversation.clip_id,
            )
            .join(Turn, Correction.turn_id == Turn.id)
            .join(Conversation, Turn.conversation_id == Conversation.id)
            .where(Correction.turn_id.in_(live))
            .order_by(Correction.id)
        ).all()
    ]
    per_annotator: Counter = Counter()
    per_tag: Counter = Counter()
    latest: dict[tuple[int, int], _Fix] = {}
    for fix in fixes:
        per_annotator[names.get(fix.annotator_id, str(fix.annotator_id))] += 1
        per_tag.update(fix.tags or [])
        latest[(fix.turn_id, fix.annotator_id)] = fix
    by_turn: dict[int, list[_Fix]] = defaultdict(list)
    for (tid, _aid), fix in latest.items():
        by_turn[tid].append(fix)
    return {
        **_counts(s, live),
        "corrections": len(fixes),
        "corrections_by_annotator": dict(per_annotator.most_common()),
        "corrections_by_tag": dict(per_tag.most_common()),
        "measured_otherwise_by_status": _measured_otherwise(s, live),
        "reviews": _reviews(s),
        "agreement": {**_agreement(by_turn), "by_kind": _by_kind(s, latest.values())},
    }


def _by_kind(s: Session, latest) -> dict:
    kinds = agreement_by_kind(_judgements(latest))
    kinds["segments"] = span_overlap(_segment_spans(s)).as_dict()
    return kinds


def _segment_spans(s: Session) -> dict[int, dict[int, list[tuple[float, float]]]]:
    """spans[clip][annotator]: the live segments of live clips, each by its latest revision's author."""
    latest: dict[tuple[int, int], Segment] = {}
    for seg in s.exec(select(Segment).order_by(Segment.id)):
        latest[(seg.clip_id, seg.number)] = seg
    fps = dict(s.exec(select(Clip.id, Clip.fps).where(Clip.deleted_at.is_(None))).all())
    spans: dict = defaultdict(lambda: defaultdict(list))
    for seg in latest.values():
        rate = fps.get(seg.clip_id)
        if not seg.deleted and rate:
            spans[seg.clip_id][seg.annotator_id].append((seg.start_frame / rate, seg.end_frame / rate))
    return spans


def _judgements(latest) -> list[Judgement]:
    """Each annotator's latest correction per unit (one question about one clip)."""
    by_unit: dict = {}
    for fix in latest:  # in correction order: a later turn's correction wins
        unit = (fix.clip_id if fix.clip_id is not None else f"turn{fix.turn_id}", _norm(fix.question))
        by_unit[(unit, fix.annotator_id)] = Judgement(
            unit, fix.annotator_id, fix.text, fix.rating, tuple(fix.tags or ())
        )
    return list(by_unit.values())
