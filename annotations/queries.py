"""Typed reads: the review queue and replay rows (`TurnRow`), and a model answer as the record
and the export read it (`ModelAnswer`). What each turn exports as is `annotations.export_query`.

Every query here is a fixed number of SELECTs whatever the number of rows (no per-row reads),
and returns named rows. The Store opens the read transaction and calls these with its session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, func, select

from annotations.models import STATUSES, Annotator, Candidate, Clip, Conversation, Correction, Turn
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
