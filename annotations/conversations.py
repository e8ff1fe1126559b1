"""The workflow's writes: conversations, turns, model candidates, corrections, reviews, merges.

`ConversationWrites` is part of `Store` (the Store class mixes it in; use it through a Store).
Each method is one unit of work. Everything appends: a correction is a new revision, a review
names the revision it judged, a regeneration is a new candidate, a question edit is recorded
beside the asked question.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields

from sqlalchemy import func
from sqlmodel import Session, select

from annotations.limits import MAX_NOTE, check_rating, check_tags, check_text
from annotations.models import (
    Annotator,
    Candidate,
    Clip,
    Conversation,
    Correction,
    QuestionEdit,
    Review,
    Turn,
    row_id,
    utcnow,
)
from llamo.errors import LlamoError


@dataclass(frozen=True)
class ImportedTurn:
    """One turn merged from another store's export (its people already resolved to ids)."""

    question: str
    status: str  # unreviewed | corrected | accepted
    trainable: bool | None
    candidate: str | None  # the model's answer, when the export had one
    correction: str | None = None
    corrected_by: int | None = None
    rating: int | None = None
    tags: tuple[str, ...] = ()
    reviewer: int | None = None  # who accepted the correction, when the export says one did
    candidate_flag: str = ""  # the measurement check of that answer, when the export had one


@dataclass(frozen=True)
class ImportedConversation:
    uid: str
    clip_id: int | None
    annotator_id: int
    model_id: str
    model_sha: str
    backbone: str
    turns: tuple[ImportedTurn, ...]


class ConversationWrites:
    """Writes of the annotation workflow. Needs the Store's `_unit_of_work`, `_add` and `candidates`.

    Where a write numbers something (a turn's position, a correction's revision) it first locks
    the row it numbers under (`with_for_update`: a row lock on PostgreSQL; on SQLite the
    `BEGIN IMMEDIATE` write lock already serialises), so concurrent writers never race max()+1.
    """

    def start_conversation(
        self,
        clip: Clip | int | None,
        annotator: Annotator | int,
        *,
        model_id: str = "",
        model_sha: str = "",
        backbone: str = "",
        settings: dict | None = None,
        uid: str | None = None,
    ) -> Conversation:
        uid = uid or uuid.uuid4().hex
        return self._add(
            lambda: Conversation(
                uid=uid,
                clip_id=None if clip is None else row_id(clip),
                annotator_id=row_id(annotator),
                model_id=model_id,
                model_sha=model_sha,
                backbone=backbone,
                settings=dict(settings or {}),
            )
        )

    def add_turn(
        self, conversation: Conversation | int, question: str, *, timings: dict | None = None
    ) -> Turn:
        """Append the next question of a conversation (position = number of turns so far)."""
        check_text(question, "The question")

        def work(s: Session) -> Turn:
            cid = row_id(conversation)
            conv = s.get(
                Conversation, cid, with_for_update=True
            )  # PostgreSQL: positions numbered one at a time
            position = s.exec(select(func.count()).select_from(Turn).where(Turn.conversation_id == cid)).one()
            turn = Turn(
                conversation_id=cid, position=position, question=question, timings=dict(timings or {})
            )
            s.add(turn)
            if conv is not None:  # else the insert's foreign key refuses the turn
                conv.updated_at = utcnow()
                s.add(conv)
            s.flush()
            return turn

        return self._unit_of_work(work)

    def add_candidate(
        self,
        turn: Turn | int,
        text: str,
        partial: bool = False,
        timings: dict | None = None,
        settings: dict | None = None,
        *,
        regenerated: bool = False,
        measured_flag: str = "",
    ) -> Candidate:
        """Keep one model generation (Stop -> partial=True; Regenerate -> regenerated=True), with
        the measurement check's sentence where the clip's joints contradict it."""
        check_text(text, "The model's answer", allow_empty=partial)
        check_text(measured_flag, "The measurement check", allow_empty=True)
        return self._add(
            lambda: Candidate(
                turn_id=row_id(turn),
                text=text,
                partial=partial,
                regenerated=regenerated,
                timings=dict(timings or {}),
                settings=dict(settings or {}),
                measured_flag=measured_flag,
            )
        )

    # --- expert work -----------------------------------------------------------------------

    def add_correction(
        self,
        turn: Turn | int,
        text: str,
        rating: int | None = None,
        tags: Iterable[str] = (),
        annotator: Annotator | int | None = None,
    ) -> Correction:
        """Append a correction revision; the turn becomes "corrected" (also after an acceptance)."""
        if annotator is None:
            raise LlamoError("a correction needs the annotator who wrote it.")
        check_text(text, "The correction")
        tags = check_tags(tags)
        check_rating(rating)
        tid = row_id(turn)

        def work(s: Session) -> Correction:
            row = s.get(Turn, tid, with_for_update=True)  # PostgreSQL: revisions numbered one at a time
            if row is None:
                raise LlamoError(f"turn {tid} does not exist.")
            revision = s.exec(
                select(func.count()).select_from(Correction).where(Correction.turn_id == tid)
            ).one()
            fix = Correction(
                turn_id=tid,
                annotator_id=row_id(annotator),
                revision=revision + 1,
                text=text,
                rating=rating,
                tags=tags,
            )
            s.add(fix)
            row.status, row.updated_at = "corrected", utcnow()
            s.add(row)
            s.flush()
            return fix

        return self._unit_of_work(work)

    def confirm_answer(
        self,
        turn: Turn | int,
        *,
        annotator: Annotator | int,
        rating: int | None = 5,
        tags: Iterable[str] = (),
    ) -> Correction:
        """ "The model was right": the latest model answer becomes a correction revision (to review)."""
        cands = self.candidates(turn)
        if not cands or not cands[-1].text.strip():
            raise LlamoError("this turn has no model answer to confirm.")
        return self.add_correction(turn, cands[-1].text, annotator=annotator, rating=rating, tags=tags)

    def edit_question(self, turn: Turn | int, text: str, *, annotator: Annotator | int) -> QuestionEdit:
        """Record an edit of the user's question. The asked question (what the model answered) stays."""
        check_text(text, "The question")
        return self._add(
            lambda: QuestionEdit(turn_id=row_id(turn), annotator_id=row_id(annotator), text=text)
        )

    def review(
        self, correction: Correction | int, reviewer: Annotator | int, accept: bool, note: str = ""
    ) -> Review:
        """Accept or reject one correction revision. The turn's status follows only if it is the latest."""
        check_text(note, "The review note", MAX_NOTE, allow_empty=True)

        def work(s: Session) -> Review:
            person = s.get(Annotator, row_id(reviewer))
            if person is None or person.role not in ("reviewer", "admin"):
                raise LlamoError("only an annotator with the reviewer role may accept or reject corrections.")
            fix = s.get(Correction, row_id(correction))
            if fix is None:
                raise LlamoError(f"correction {row_id(correction)} does not exist.")
            turn = s.get(Turn, fix.turn_id, with_for_update=True)  # "latest" stays latest until commit
            verdict = Review(correction_id=fix.id, reviewer_id=person.id, accept=bool(accept), note=note)
            s.add(verdict)
            latest = s.exec(select(func.max(Correction.id)).where(Correction.turn_id == fix.turn_id)).one()
            if latest == fix.id:
                turn.status, turn.updated_at = ("accepted" if accept else "rejected"), utcnow()
                s.add(turn)
            s.flush()
            return verdict

        return self._unit_of_work(work)

    def set_trainable(self, turn: Turn | int, value: bool | None) -> Turn:
        """Decide whether the turn's exported answer is a training target (None = derive from status)."""

        def work(s: Session) -> Turn:
            row = s.get(Turn, row_id(turn))
            if row is None:
                raise LlamoError(f"turn {row_id(turn)} does not exist.")
            row.trainable, row.updated_at = value, utcnow()
            s.add(row)
            return row

        return self._unit_of_work(work)

    # --- merging another store's export ----------------------------------------------------

    def merge_conversation(self, conv: ImportedConversation) -> Conversation:
        """Write an imported conversation with its turns, answers and corrections in one unit of work."""

        def work(s: Session) -> Conversation:
            c = Conversation(**{f.name: getattr(conv, f.name) for f in fields(conv) if f.name != "turns"})
            s.add(c)
            s.flush()
            for i, t in enumerate(conv.turns):
                turn = Turn(
                    conversation_id=c.id,
                    position=i,
                    question=t.question,
                    status=t.status,
                    trainable=t.trainable,
                )
                s.add(turn)
                s.flush()
                if t.candidate:
                    s.add(Candidate(turn_id=turn.id, text=t.candidate, measured_flag=t.candidate_flag))
                if t.correction is None:
                    continue
                fix = Correction(
                    turn_id=turn.id,
                    annotator_id=t.corrected_by,
                    revision=1,
                    text=t.correction,
                    rating=t.rating,
                    tags=list(t.tags),
                )
                s.add(fix)
                s.flush()
                if t.reviewer is not None:
                    s.add(Review(correction_id=fix.id, reviewer_id=t.reviewer, accept=True, note="imported"))
            return c

        return self._unit_of_work(work)
