"""Teams: settings an admin changes, clips assigned with overlap, the export audit log, and the
reads the review workspace needs (the clip picker, one record with every revision).

`TeamStore` is part of `Store` (mixed in; use it through a Store). Settings are appended rows
(the latest per key wins), so a change of guidelines keeps who wrote the earlier ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from annotations.limits import MAX_TEXT, check_text
from annotations.models import (
    Annotator,
    Assignment,
    Candidate,
    Clip,
    Conversation,
    Correction,
    ExportAudit,
    Review,
    Setting,
    Turn,
    row_id,
)
from annotations.queries import CANDIDATE_ANSWER, ModelAnswer
from llamo.errors import LlamoError

# key -> (default, check): what an admin may set
MAX_OVERLAP = 20


def _check_guidelines(v) -> str:
    return check_text(v, "The guidelines", MAX_TEXT, allow_empty=True)


def _check_blind(v) -> bool:
    if not isinstance(v, bool):
        raise LlamoError(f"blind must be true or false, not {v!r}.")
    return v


def _check_overlap(v) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_OVERLAP:
        raise LlamoError(f"overlap must be a whole number from 1 to {MAX_OVERLAP}, not {v!r}.")
    return v


SETTINGS = {
    "guidelines": ("", _check_guidelines),  # Markdown beside the annotation and review forms
    "blind": (False, _check_blind),  # annotators see only their own work
    "overlap": (1, _check_overlap),  # annotators per clip when assigning
}


@dataclass(frozen=True)
class ClipChoice:
    """A clip as the pickers list it: by title and date, not by hash."""

    clip_id: int
    sha256: str
    title: str
    created_at: datetime
    conversations: int

    def label(self) -> str:
        return f"{self.title} · {self.created_at:%Y-%m-%d %H:%M} · {self.sha256[:8]}"


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str


@dataclass(frozen=True)
class ExportLogRow:
    when: datetime
    who: str | None
    what: str
    filters: dict
    rows: int
    conversations: int


@dataclass(frozen=True)
class RevisionView:
    """One correction revision with its author and the reviews it got."""

    correction_id: int
    revision: int
    author: str
    text: str
    rating: int | None
    tags: tuple[str, ...]
    created_at: datetime
    reviews: tuple[str, ...]  # "accepted by rui: ok", oldest first


@dataclass(frozen=True)
class TurnRecord:
    """Everything the review workspace shows beside one turn."""

    turn_id: int
    conversation_id: int
    owner: str
    position: int
    question: str
    status: str
    clip_id: int | None
    clip_sha256: str | None
    model_answers: tuple[ModelAnswer, ...]  # each with the measurement's check, oldest first
    revisions: tuple[RevisionView, ...]  # oldest first


class TeamStore:
    """Uses the host's `_read`, `_unit_of_work` and `_add` (Store sets them)."""

    # --- settings --------------------------------------------------------------------------

    def set_setting(self, key: str, value, by: Annotator | int | None = None) -> None:
        if key not in SETTINGS:
            raise LlamoError(f"unknown setting {key!r}; the settings are {', '.join(SETTINGS)}.")
        value = SETTINGS[key][1](value)
        who = None if by is None else row_id(by)
        self._add(lambda: Setting(key=key, value={"value": value}, annotator_id=who))

    def settings(self) -> dict:
        """Every setting's current value (defaults for those never set)."""
        out = {k: default for k, (default, _check) in SETTINGS.items()}
        with self._read() as s:
            for row in s.exec(select(Setting.key, Setting.value).order_by(Setting.id)):
                if row.key in out:
                    out[row.key] = row.value.get("value")
        return out

    def setting(self, key: str):
        return self.settings()[key]

    # --- assignment ------------------------------------------------------------------------

    def assign(self, annotators: Iterable[Annotator | int], overlap: int, clips=None) -> int:
        """Give each live clip (or each of `clips`) to `overlap` annotators, the least loaded
        first; assignments already made count. Returns the number of new assignments."""
        people = sorted({row_id(a) for a in annotators})
        _check_overlap(overlap)
        if overlap > len(people):
            raise LlamoError(
                f"an overlap of {overlap} needs at least {overlap} annotators, not {len(people)}."
            )
        wanted = None if clips is None else {row_id(c) for c in clips}

        def work(s: Session) -> int:
            q = select(Clip.id).where(Clip.deleted_at.is_(None)).order_by(Clip.id)
            ids = [c for c in s.exec(q) if wanted is None or c in wanted]
            have: dict[int, set[int]] = {}
            load: Counter = Counter()
            for a in s.exec(select(Assignment.clip_id, Assignment.annotator_id)):
                have.setdefault(a.clip_id, set()).add(a.annotator_id)
                load[a.annotator_id] += 1
            made = 0
            for cid in ids:
                got = have.get(cid, set())
                free = sorted((p for p in people if p not in got), key=lambda p: (load[p], p))
                for p in free[: max(0, overlap - len(got))]:
                    s.add(Assignment(clip_id=cid, annotator_id=p))
                    load[p] += 1
                    made += 1
            return made

        return self._unit_of_work(work)

    def clip_choices(self, annotator: Annotator | int | None = None, limit: int = 500) -> list[ClipChoice]:
        """Live clips, newest first, with their conversation counts; with `annotator`, only the
        clips assigned to them."""
        convs = (
            select(Conversation.clip_id, func.count().label("n"))
            .where(Conversation.deleted_at.is_(None))
            .group_by(Conversation.clip_id)
            .subquery()
        )
        q = (
            select(Clip, convs.c.n)
            .outerjoin(convs, convs.c.clip_id == Clip.id)
            .where(Clip.deleted_at.is_(None))
            .order_by(Clip.created_at.desc(), Clip.id.desc())
            .limit(limit)
        )
        if annotator is not None:
            q = q.join(Assignment, Assignment.clip_id == Clip.id).where(
                Assignment.annotator_id == row_id(annotator)
            )
        with self._read() as s:
            return [
                ClipChoice(c.id, c.sha256, (c.meta or {}).get("title") or c.sha256[:12], c.created_at, n or 0)
                for c, n in s.exec(q)
            ]

    def people(self) -> list[Person]:
        """Every annotator with their role, by name."""
        with self._read() as s:
            q = select(Annotator.id, Annotator.name, Annotator.role).order_by(Annotator.name)
            return [Person(a.id, a.name, a.role) for a in s.exec(q)]

    # --- export audit ----------------------------------------------------------------------

    def log_export(
        self, who: Annotator | int | None, what: str, filters: dict, rows: int, conversations: int
    ):
        who_id = None if who is None else row_id(who)
        self._add(
            lambda: ExportAudit(
                annotator_id=who_id, what=what, filters=dict(filters), rows=rows, conversations=conversations
            )
        )

    def export_log(self, limit: int = 200) -> list[ExportLogRow]:
        """The latest exports first."""
        q = (
            select(ExportAudit, Annotator.name)
            .outerjoin(Annotator, ExportAudit.annotator_id == Annotator.id)
            .order_by(ExportAudit.id.desc())
            .limit(limit)
        )
        with self._read() as s:
            return [
                ExportLogRow(a.created_at, name, a.what, dict(a.filters), a.rows, a.conversations)
                for a, name in s.exec(q)
            ]

    # --- one record of the review queue ----------------------------------------------------

    def turn_record(self, turn: Turn | int) -> TurnRecord:
        """A turn with every model answer and every revision, its author and reviews (5 SELECTs)."""
        tid = row_id(turn)
        with self._read() as s:
            found = s.exec(
                select(Turn, Conversation, Annotator, Clip)
                .join(Conversation, Turn.conversation_id == Conversation.id)
                .join(Annotator, Conversation.annotator_id == Annotator.id)
                .outerjoin(Clip, Conversation.clip_id == Clip.id)
                .where(Turn.id == tid, Conversation.deleted_at.is_(None))
            ).first()
            if found is None:
                raise LlamoError(f"turn {tid} does not exist.")
            t, c, owner, clip = found
            names = dict(s.exec(select(Annotator.id, Annotator.name)).all())
            cands = s.exec(
                select(*CANDIDATE_ANSWER).where(Candidate.turn_id == tid).order_by(Candidate.id)
            ).all()
            fixes = list(s.exec(select(Correction).where(Correction.turn_id == tid).order_by(Correction.id)))
            reviews: dict[int, list[str]] = {}
            for r in s.exec(
                select(Review).where(Review.correction_id.in_([f.id for f in fixes])).order_by(Review.id)
            ):
                verdict = "accepted" if r.accept else "rejected"
                note = f": {r.note}" if r.note else ""
                reviews.setdefault(r.correction_id, []).append(
                    f"{verdict} by {names.get(r.reviewer_id)}{note}"
                )
        revisions = tuple(
            RevisionView(
                f.id,
                f.revision,
                names.get(f.annotator_id, "?"),
                f.text,
                f.rating,
                tuple(f.tags or ()),
                f.created_at,
                tuple(reviews.get(f.id, ())),
            )  # fmt: skip
            for f in fixes
        )
        return TurnRecord(t.id, c.id, owner.name, t.position, t.question, t.status,
                          clip.id if clip else None, clip.sha256 if clip else None,
                          tuple(ModelAnswer.of(c) for c in cands), revisions)  # fmt: skip
