"""What each turn exports as (`export_rows`), read in a fixed number of SELECTs.

Which answer a turn exports with and whether it trains:
- a turn is *eligible* when its status is in `statuses` (default: accepted), it was updated at
  or after `since`, and (with `annotator`) its correction was written by that annotator;
- its answer is the latest accepted correction revision, else the latest revision (`latest=True`
  always takes the latest revision); without any correction, the model's last answer;
- it trains when eligible and its own `trainable` decision allows: an explicit True/False wins,
  otherwise it trains exactly when the answer is an expert's correction.
A turn that is not eligible stays in the conversation as context with its latest accepted
correction (else the model's last answer) and never trains, so one accepted turn never turns
the model's unreviewed answers into training targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from annotations.models import Annotator, Candidate, Clip, Conversation, Correction, Review, Turn
from annotations.queries import CANDIDATE_ANSWER, ModelAnswer, check_statuses


@dataclass(frozen=True)
class ExportFilters:
    """Which turns train in an export (see the module docstring)."""

    statuses: str | Iterable[str] = ("accepted",)  # normalised to a checked tuple
    annotator: str | None = None
    since: datetime | None = None
    latest: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "statuses", check_statuses(self.statuses))


@dataclass(frozen=True)
class ExportTurn:
    """One turn as it is exported: the answer it carries, whether it trains, and its provenance."""

    position: int
    question: str
    status: str
    trainable_decision: bool | None  # the turn's own decision (None: derived)
    answer: str
    train: bool
    model_answers: tuple[ModelAnswer, ...]  # every model candidate with its check, oldest first
    correction: str | None  # the correction revision the answer comes from (or the context's)
    corrected_by: str | None
    rating: int | None
    tags: tuple[str, ...]
    reviewed_by: str | None  # who accepted that revision
    # A reviewer's revision rates and tags nothing by itself: the rating and tags are the latest
    # set up to that revision (an annotator's), each named with its author.
    rated_by: str | None = None
    tagged_by: str | None = None
    segments: tuple[dict, ...] = ()  # a segment question's time segments (annotations.segment_qa)


@dataclass(frozen=True)
class ExportConversation:
    """A live conversation with its clip's media and its turns in order."""

    uid: str
    annotator: str | None  # who held it
    model_id: str
    model_sha: str
    backbone: str
    clip_sha256: str | None
    motion_path: str | None  # relative to the data dir; None when deleted or missing
    video_path: str | None
    turns: tuple[ExportTurn, ...]
    kind: str = "chat"  # "segments": the clip's time segments as questions (annotations.segment_qa)


# The export reads every row of the store, so it selects plain columns rather than model objects.
_CONVERSATION_COLUMNS = (
    Conversation.id,
    Conversation.uid,
    Conversation.annotator_id,
    Conversation.model_id,
    Conversation.model_sha,
    Conversation.backbone,
    Clip.sha256,
    Clip.motion_path,
    Clip.video_path,
)
_TURN_COLUMNS = (
    Turn.id,
    Turn.conversation_id,
    Turn.position,
    Turn.question,
    Turn.status,
    Turn.trainable,
    Turn.updated_at,
)
_REVISION_COLUMNS = (
    Correction.id,
    Correction.turn_id,
    Correction.annotator_id,
    Correction.text,
    Correction.rating,
    Correction.tags,
)


@dataclass(frozen=True)
class _Revision:
    id: int
    author: str | None
    text: str
    rating: int | None
    tags: tuple[str, ...]
    accepted: bool  # its latest review accepted it
    reviewed_by: str | None  # that reviewer, when it accepted


def _pick(revs: list[_Revision], latest: bool) -> tuple[_Revision | None, _Revision | None]:
    """(the revision an eligible turn carries, the latest accepted one)."""
    accepted = [r for r in revs if r.accepted]
    last_accepted = accepted[-1] if accepted else None
    last = revs[-1] if revs else None
    return (last if latest else (last_accepted or last)), last_accepted


def _carried(revs: list[_Revision], chosen: _Revision | None, attr: str) -> tuple:
    """(the latest rating or tags set up to the chosen revision, its author): a revision that
    sets none keeps the earlier author's."""
    if chosen is None:
        return None, None
    for rev in reversed(revs[: revs.index(chosen) + 1]):
        if getattr(rev, attr):
            return getattr(rev, attr), rev.author
    return None, None


def _export_turn(
    t,  # a row of _TURN_COLUMNS
    owner: str | None,
    revs: list[_Revision],
    cands: tuple[ModelAnswer, ...],
    f: ExportFilters,
) -> ExportTurn:
    model_answers = tuple(cands)
    chosen, context = _pick(revs, f.latest)
    eligible = t.status in f.statuses and (f.since is None or t.updated_at >= f.since)
    author = chosen.author if chosen else owner
    if f.annotator and author != f.annotator:
        eligible = False
    if eligible:
        train = bool(t.trainable) if t.trainable is not None else chosen is not None
    else:
        chosen, train = context, False
    answer = chosen.text if chosen else (model_answers[-1].text if model_answers else "")
    rating, rated_by = _carried(revs, chosen, "rating")
    tags, tagged_by = _carried(revs, chosen, "tags")
    return ExportTurn(
        position=t.position,
        question=t.question,
        status=t.status,
        trainable_decision=t.trainable,
        answer=answer,
        train=train and bool(answer),
        model_answers=model_answers,
        correction=chosen.text if chosen else None,
        corrected_by=chosen.author if chosen else None,
        rating=rating,
        tags=tags or (),
        reviewed_by=chosen.reviewed_by if chosen else None,
        rated_by=rated_by,
        tagged_by=tagged_by,
    )


def _revisions(s: Session, names: dict[int, str]) -> dict[int, list[_Revision]]:
    """Every turn's correction revisions, oldest first, each with its latest review's verdict."""
    verdict = {}  # correction id -> its latest review
    for review in s.exec(select(Review.correction_id, Review.accept, Review.reviewer_id).order_by(Review.id)):
        verdict[review.correction_id] = review
    revs: dict[int, list[_Revision]] = {}
    for fix in s.exec(select(*_REVISION_COLUMNS).order_by(Correction.id)):
        v = verdict.get(fix.id)
        accepted = bool(v is not None and v.accept)
        revs.setdefault(fix.turn_id, []).append(
            _Revision(
                id=fix.id,
                author=names.get(fix.annotator_id),
                text=fix.text,
                rating=fix.rating,
                tags=tuple(fix.tags or ()),
                accepted=accepted,
                reviewed_by=names.get(v.reviewer_id) if accepted else None,
            )
        )
    return revs


def _model_answers(s: Session) -> dict[int, tuple[ModelAnswer, ...]]:
    cands: dict[int, list[ModelAnswer]] = {}
    for c in s.exec(select(Candidate.turn_id, *CANDIDATE_ANSWER).order_by(Candidate.id)):
        cands.setdefault(c.turn_id, []).append(ModelAnswer.of(c))
    return {tid: tuple(answers) for tid, answers in cands.items()}


def export_rows(s: Session, f: ExportFilters) -> list[ExportConversation]:
    """Every live conversation (also those without turns), oldest first: five SELECTs in all."""
    names = dict(s.exec(select(Annotator.id, Annotator.name)).all())
    convs = s.exec(
        select(*_CONVERSATION_COLUMNS)
        .join(Clip, Conversation.clip_id == Clip.id, isouter=True)
        .where(Conversation.deleted_at.is_(None))
        .order_by(Conversation.id)
    ).all()
    turns: dict[int, list] = {}
    for t in s.exec(select(*_TURN_COLUMNS).order_by(Turn.conversation_id, Turn.position)):
        turns.setdefault(t.conversation_id, []).append(t)
    answers = _model_answers(s)
    revs = _revisions(s, names)
    out = []
    for c in convs:
        owner = names.get(c.annotator_id)
        out.append(
            ExportConversation(
                uid=c.uid,
                annotator=owner,
                model_id=c.model_id,
                model_sha=c.model_sha,
                backbone=c.backbone,
                clip_sha256=c.sha256,
                motion_path=c.motion_path,
                video_path=c.video_path,
                turns=tuple(
                    _export_turn(t, owner, revs.get(t.id, []), answers.get(t.id, ()), f)
                    for t in turns.get(c.id, [])
                ),
            )
        )
    return out
