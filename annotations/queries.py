"""Typed reads: the review queue and replay rows (`TurnRow`), and what each turn exports as.

Every query here is a fixed number of SELECTs whatever the number of rows (no per-row reads),
and returns named rows. The Store opens the read transaction and calls these with its session.

Which answer a turn exports with and whether it trains (`export_rows`):
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
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, func, select

from annotations.models import STATUSES, Annotator, Candidate, Clip, Conversation, Correction, Review, Turn
from llamo.errors import LlamoError


def check_statuses(status: str | Iterable[str] | None) -> tuple[str, ...]:
    """The statuses asked for, as a tuple; an unknown one is a one-sentence LlamoError."""
    statuses = (status,) if isinstance(status, str) else tuple(status or ())
    for st in statuses:
        if st not in STATUSES:
            raise LlamoError(f"status must be one of {', '.join(STATUSES)}, not {st!r}.")
    return statuses


# --- turns: the review queue and conversation replay ---------------------------------------


@dataclass
class TurnRow:
    """One turn as the review table shows it."""

    turn_id: int
    conversation_id: int
    conversation_uid: str
    position: int
    question: str
    answer: str | None  # the latest model candidate
    correction: str | None  # the latest correction revision
    correction_id: int | None
    status: str
    trainable: bool | None
    annotator: str  # who held the conversation
    clip_sha256: str | None
    updated_at: datetime
    tags: list[str] = field(default_factory=list)  # the latest correction revision's tags
    flag: str = ""  # the latest candidate's measurement check ("" = no disagreement found)
    grounded: str = ""  # where its grounded value was measured (llamo.grounding; "" = none)


@dataclass(frozen=True)
class TurnFilter:
    """Which turns of live conversations `turn_rows` returns, and in which order."""

    statuses: str | Iterable[str] | None = ()  # normalised to a checked tuple
    annotator: str | None = None
    clip_sha256: str | None = None
    conversation_id: int | None = None
    limit: int = 200
    offset: int = 0
    order: str = "recent"  # "recent": most recently changed first; "position": replay order
    flagged: bool = False  # only turns whose latest model answer the measured joints contradict

    def __post_init__(self) -> None:
        if self.order not in ("recent", "position"):
            raise LlamoError(f"order must be 'recent' or 'position', not {self.order!r}.")
        object.__setattr__(self, "statuses", check_statuses(self.statuses))


def flagged_turns():
    """The ids of turns whose latest model answer the measured joints contradict (a subquery)."""
    latest = select(func.max(Candidate.id)).group_by(Candidate.turn_id)
    return select(Candidate.turn_id).where(Candidate.id.in_(latest), Candidate.measured_flag != "")


def _turn_query(f: TurnFilter):
    q = (
        select(Turn, Conversation, Annotator, Clip)
        .join(Conversation, Turn.conversation_id == Conversation.id)
        .join(Annotator, Conversation.annotator_id == Annotator.id)
        .outerjoin(Clip, Conversation.clip_id == Clip.id)
        .where(Conversation.deleted_at.is_(None))
    )
    if f.statuses:
        q = q.where(Turn.status.in_(f.statuses))
    if f.annotator:
        q = q.where(Annotator.name == f.annotator)
    if f.clip_sha256:
        q = q.where(Clip.sha256 == f.clip_sha256)
    if f.conversation_id is not None:
        q = q.where(Conversation.id == f.conversation_id)
    if f.flagged:
        q = q.where(Turn.id.in_(flagged_turns()))
    if f.order == "position":
        q = q.order_by(Conversation.id, Turn.position)
    else:
        q = q.order_by(Turn.updated_at.desc(), Turn.id.desc())
    return q.offset(f.offset).limit(f.limit)


def turn_rows(s: Session, f: TurnFilter) -> list[TurnRow]:
    """Turns with their latest answer and latest correction: three SELECTs in all."""
    rows = s.exec(_turn_query(f)).all()
    ids = [t.id for t, *_ in rows]
    answers: dict[int, ModelAnswer] = {}  # turn id -> its latest candidate
    fixes = {}  # turn id -> its latest correction (id, text, tags)
    if ids:
        for cand in s.exec(
            select(Candidate.turn_id, *CANDIDATE_ANSWER)
            .where(Candidate.turn_id.in_(ids))
            .order_by(Candidate.id)
        ):
            answers[cand.turn_id] = ModelAnswer.of(cand)
        for fix in s.exec(
            select(Correction.turn_id, Correction.id, Correction.text, Correction.tags)
            .where(Correction.turn_id.in_(ids))
            .order_by(Correction.id)
        ):
            fixes[fix.turn_id] = fix
    out = []
    for t, c, a, clip in rows:
        fix, cand = fixes.get(t.id), answers.get(t.id)
        out.append(
            TurnRow(
                turn_id=t.id,
                conversation_id=c.id,
                conversation_uid=c.uid,
                position=t.position,
                question=t.question,
                answer=cand.text if cand else None,
                correction=fix.text if fix else None,
                correction_id=fix.id if fix else None,
                status=t.status,
                trainable=t.trainable,
                annotator=a.name,
                clip_sha256=clip.sha256 if clip is not None else None,
                updated_at=t.updated_at,
                tags=list(fix.tags or []) if fix else [],
                flag=cand.measured_flag if cand else "",
                grounded=cand.grounded if cand else "",
            )
        )
    return out


def review_rows(s: Session, f: TurnFilter, tag: str | None = None) -> list[TurnRow]:
    """`turn_rows`, then those whose latest correction carries `tag` (within the page, as the table did)."""
    return [r for r in turn_rows(s, f) if not tag or tag in r.tags]


# --- export ---------------------------------------------------------------------------------


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


class ModelAnswer(NamedTuple):
    """One model candidate, the measurement's check of it ("" where none disagreed) and where its
    grounded value was measured ("" where none was held, llamo.grounding)."""

    text: str
    measured_flag: str = ""
    grounded: str = ""

    @classmethod
    def of(cls, row) -> ModelAnswer:
        """From a candidate row (text, measured_flag, timings)."""
        return cls(row.text, row.measured_flag or "", str((row.timings or {}).get("grounded", "")))


CANDIDATE_ANSWER = (Candidate.text, Candidate.measured_flag, Candidate.timings)  # ModelAnswer.of's columns


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
