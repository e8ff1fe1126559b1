"""Corrections, ratings and question edits from annotators; the reviewers' queue; export and
statistics. A part of `LlamoApp` (see app/core.py)."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path

from app import views_io
from app.config import TAGS, AppConfig
from app.identity import Identity, need_reviewer
from app.session import ChatTurn, Session
from llamo.errors import LlamoError


@dataclass(frozen=True)
class ReviewRow:
    """One line of the review table (the columns are the fields before `correction_id`)."""

    turn: int
    conversation: int
    status: str
    annotator: str
    clip: str  # the clip's sha256, shortened
    tags: str  # the latest correction's tags, comma-separated
    flag: str  # "⚠" where the measured joints contradict the latest model answer
    question: str
    answer: str
    correction: str
    correction_id: int | None

    def cells(self) -> list:
        return [getattr(self, name) for name in REVIEW_COLUMNS]

    def queue_cells(self) -> list:
        """The queue's short cells: the texts are read beside the record, not in the table."""
        return [_short(getattr(self, name)) for name in QUEUE_COLUMNS]


REVIEW_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ReviewRow))[:-1]
QUEUE_COLUMNS: tuple[str, ...] = REVIEW_COLUMNS[:8]  # turn ... question


def _short(value, limit: int = 70):
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


@dataclass(frozen=True)
class MyConversation:
    """One of an annotator's stored conversations, as "My conversations" lists it."""

    conversation: int
    clip: str  # the clip's title, else its sha256 shortened
    turns: int
    corrected: int  # turns with a correction
    first_question: str

    def label(self) -> str:
        fixed = f", {self.corrected} corrected" if self.corrected else ""
        turns = f"{self.turns} turn" + ("s" if self.turns != 1 else "")
        return f"#{self.conversation} · {self.clip} · {turns}{fixed} · {self.first_question[:50]}"


@dataclass(frozen=True)
class Exported:
    """An export as the user downloads it: the zip, and what went into it."""

    archive: Path
    counts: dict  # the export summary's numbers (no server paths)


class AnnotatingMixin:
    """Uses the host's `store`, `config` and `annotator()` (LlamoApp sets them)."""

    store: object
    config: AppConfig

    # ---- correcting ----------------------------------------------------------------------

    def correct(
        self,
        session: Session,
        index: int,
        text: str,
        ident: Identity | None,
        *,
        rating: int | None = None,
        tags=(),
    ) -> ChatTurn:
        """Save a correction of answer `index` (0-based; -1 = the last) at once."""
        turn = self._turn(session, index)
        ident = self._can_correct(ident)
        text = (text or "").strip()
        if not text:
            raise LlamoError("the correction is empty; write the right answer.")
        bad = [t for t in tags if t not in TAGS]
        if bad:
            raise LlamoError(f"unknown tag {bad[0]!r}; use one of: {', '.join(TAGS)}.")
        fix = self.store.add_correction(
            turn.turn_id,
            text,
            annotator=self.annotator(ident),
            rating=int(rating) if rating else None,
            tags=list(tags),
        )
        turn.corrected, turn.correction_id = text, fix.id
        return turn

    def rate(self, session: Session, index: int, liked: bool, ident: Identity | None) -> ChatTurn | None:
        """Thumbs up = the answer is right as it is (a correction equal to it, rating 5).
        Thumbs down saves nothing by itself: the editor opens for the right answer."""
        turn = self._turn(session, index)
        if not liked:
            return None
        ident = self._can_correct(ident)
        fix = self.store.confirm_answer(turn.turn_id, annotator=self.annotator(ident), rating=5)
        turn.corrected, turn.correction_id = fix.text, fix.id
        return turn

    def edit_question(self, session: Session, index: int, text: str, ident: Identity | None) -> str:
        """A question edited in the chat: the asked question stays (the model answered it); the
        edit is recorded apart, and the chat shows the original again."""
        turn = self._turn(session, index)
        text = (text or "").strip()
        if not text or text == turn.question:
            return "The question is unchanged."
        ident = self._can_correct(ident)
        self.store.edit_question(turn.turn_id, text, annotator=self.annotator(ident))
        return (
            "Questions can't be changed after they were answered; your edit was recorded as a "
            "suggestion and the asked question is shown again."
        )

    def _turn(self, session: Session, index: int) -> ChatTurn:
        if not session.turns:
            raise LlamoError("there is no answer to correct yet.")
        try:
            turn = session.turns[int(index)]
        except (IndexError, ValueError, TypeError):
            raise LlamoError(f"there is no answer number {index}.") from None
        if turn.turn_id is None:
            raise LlamoError("that answer is still being written.")
        return turn

    def _can_correct(self, ident: Identity | None) -> Identity:
        if ident is None:
            if self.config.on_spaces:
                raise LlamoError("sign in with Hugging Face to save corrections.")
            raise LlamoError("type your name (top of the page) to save corrections.")
        return ident

    # ---- one's own conversations ---------------------------------------------------------

    def my_conversations(self, ident: Identity | None, limit: int = 50) -> list[MyConversation]:
        """The annotator's own stored conversations, most recently changed first: what a reload
        (or another day) reopens with `reopen`."""
        ident = self._can_correct(ident)
        rows = self.store.list_turns(annotator=self.annotator(ident).name, limit=20 * limit)
        by_conv: dict[int, list] = {}
        for r in rows:  # most recent first: dicts keep that order
            by_conv.setdefault(r.conversation_id, []).append(r)
        out = []
        for cid, turns in list(by_conv.items())[:limit]:
            sha = turns[0].clip_sha256 or ""
            clip = self.store.get_clip(sha) if sha else None
            title = (clip.meta or {}).get("title") if clip is not None else None
            first = min(turns, key=lambda r: r.position)
            out.append(
                MyConversation(
                    conversation=cid,
                    clip=title or sha[:12],
                    turns=len(turns),
                    corrected=sum(r.correction is not None for r in turns),
                    first_question=first.question,
                )
            )
        return out

    def may_reopen(self, ident: Identity | None, owner: str) -> None:
        """Reviewers reopen any conversation; an annotator only their own."""
        if ident is None or not (ident.is_reviewer or ident.name == owner):
            raise LlamoError("only reviewers can reopen other annotators' conversations.")

    # ---- review --------------------------------------------------------------------------

    def review_rows(
        self,
        ident: Identity | None,
        *,
        status: str = "",
        annotator: str = "",
        tag: str = "",
        clip: str = "",
        flagged: bool = False,
        limit: int = 200,
    ) -> list[ReviewRow]:
        """The queue; `flagged`: only turns whose latest answer the measured joints contradict."""
        need_reviewer(ident)
        rows = self.store.review_rows(  # one batch for the whole table, tags included
            status=status or None,
            annotator=annotator or None,
            clip_sha256=clip or None,
            tag=tag or None,
            flagged=bool(flagged),
            limit=limit,
        )
        return [
            ReviewRow(
                turn=r.turn_id,
                conversation=r.conversation_id,
                status=r.status,
                annotator=r.annotator,
                clip=(r.clip_sha256 or "")[:12],
                tags=", ".join(r.tags),
                flag="⚠" if r.flag else "",
                question=r.question,
                answer=r.answer or "",
                correction=r.correction or "",
                correction_id=r.correction_id,
            )
            for r in rows
        ]

    def review(
        self, ident: Identity | None, turn_id: int, action: str, text: str = "", note: str = ""
    ) -> str:
        """accept | reject the turn's latest correction, or edit (save the reviewer's own
        revision and accept it)."""
        ident = need_reviewer(ident)
        turn_id = int(turn_id)
        who = self.annotator(ident)
        fixes = self.store.corrections(turn_id)
        if action == "edit":
            text = (text or "").strip()
            if not text:
                raise LlamoError("the edited answer is empty.")
            fix = self.store.add_correction(turn_id, text, annotator=who)
            self.store.review(fix, who, accept=True, note=note or "edited by reviewer")
            return f"Turn {turn_id}: saved your revision #{fix.revision} and accepted it."
        if not fixes:
            raise LlamoError(f"turn {turn_id} has no correction to {action}.")
        if action not in ("accept", "reject"):
            raise LlamoError(f"unknown review action {action!r}.")
        self.store.review(fixes[-1], who, accept=action == "accept", note=note)
        return f"Turn {turn_id}: correction #{fixes[-1].id} {action}ed."

    # ---- export and statistics -----------------------------------------------------------

    def export(
        self,
        ident: Identity | None,
        fmt: str,
        *,
        status: str = "",
        annotator: str = "",
        out_root: Path | None = None,
    ) -> Exported:
        """Write the store's export into a fresh folder and zip it; the audit log records it."""
        chosen = views_io.statuses(status) or ("accepted",)
        self.may_export(ident, chosen)
        out_root = Path(out_root or tempfile.mkdtemp(prefix="llamo-export-"))
        folder = out_root / f"llamo-{fmt}-{time.strftime('%Y%m%d-%H%M%S')}"
        summary = views_io.export(self.store, folder, fmt, status=status, annotator=annotator)
        archive = shutil.make_archive(str(folder), "zip", root_dir=folder)
        shutil.rmtree(folder, ignore_errors=True)  # the zip is what the user downloads
        counts = summary.as_dict()
        counts.pop("out_dir", None)  # a server path: not the user's business
        self.store.log_export(
            self.annotator(ident) if ident is not None else None,
            fmt,
            {"status": list(chosen), "annotator": annotator or None},
            rows=int(counts.get("rows", 0)),
            conversations=int(counts.get("conversations", 0)),
        )
        return Exported(Path(archive), counts)

    def stats(self, ident: Identity | None = None) -> dict:
        """Counts by annotator name: data, so the same rule as export (and none in blind mode)."""
        self._may_take_data_out(ident)
        if self.blind(ident):
            raise LlamoError("in blind mode only reviewers see the statistics.")
        return self.store.stats()

    def _may_take_data_out(self, ident: Identity | None) -> None:
        """On a shared deployment (sign-in or a Space) only reviewers export or read the
        statistics; locally (bound to localhost, see app/__main__.py) the user owns the data."""
        if self.config.users or self.config.on_spaces:
            need_reviewer(ident)
