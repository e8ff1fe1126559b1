"""`Store`: the annotation store's public API (thread-safe; one engine per store).

Every public write is one unit of work in one transaction (`BEGIN IMMEDIATE` on SQLite), opened
and committed inside the method, so Gradio handlers on many threads and several processes can
share a store. Methods take model objects or their integer ids and return detached SQLModel
objects (attributes loaded; safe to read after the call).

    store = Store.open()                                   # LLAMO_DATA_DIR, /data, or ./data
    clip = store.add_clip(motion, "squat.mp4", source="upload")
    coach = store.get_or_create_annotator("ana", role="annotator", auth="hf-oauth")
    conv = store.start_conversation(clip, coach, model_id="ckpt-3", model_sha="ab12", backbone="SmolLM2-135M")
    turn = store.add_turn(conv, "How many squats?")
    store.add_candidate(turn, "Three squats.", partial=False, timings={"ttft_s": 0.3})
    fix = store.add_correction(turn, "Four squats.", rating=2, tags=["wrong count"], annotator=coach)
    store.review(fix, store.get_or_create_annotator("rui", role="reviewer"), accept=True, note="ok")
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from annotations import db
from annotations.models import (
    ROLES,
    SCHEMA_VERSION,
    STATUSES,
    Annotator,
    Candidate,
    Clip,
    Conversation,
    Correction,
    QuestionEdit,
    Review,
    Turn,
    utcnow,
)
from llamo.errors import LlamoError
from llamo.fileio import sha256_file
from llamo.motion import Motion

# Documented limits (characters). Longer input is refused with a one-sentence LlamoError.
MAX_TEXT = 16_000  # questions, answers, corrections
MAX_NOTE = 4_000  # review notes
MAX_NAME = 100  # annotator names
MAX_TAG = 64  # one tag
MAX_TAGS = 32  # tags per correction
MEDIA_DIR = "media"
TMP_DIR = ".tmp"


class StoreConflict(LlamoError):
    """A uniqueness or foreign-key refusal (on a server database, a race worth retrying)."""


def check_text(value, what: str, limit: int = MAX_TEXT, allow_empty: bool = False) -> str:
    """Return `value` unchanged (byte for byte) if it is storable text, else raise LlamoError."""
    if not isinstance(value, str):
        raise LlamoError(f"{what} must be text, not {type(value).__name__}.")
    if not allow_empty and not value.strip():
        raise LlamoError(f"{what} is empty.")
    if len(value) > limit:
        raise LlamoError(f"{what} is {len(value):,} characters long; the limit is {limit:,}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LlamoError(f"{what} is not valid Unicode text (it holds a lone surrogate).") from None
    return value


def _id(obj) -> int:
    return int(obj if isinstance(obj, int) else obj.id)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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


@dataclass
class CheckReport:
    integrity: str = ""
    foreign_key_problems: int = 0
    orphan_files: list[str] = field(default_factory=list)  # media without a row (removed when repairing)
    temp_files: list[str] = field(default_factory=list)  # leftovers of interrupted writes
    missing_media: list[str] = field(default_factory=list)  # clip sha256 whose file was gone
    retention_removed: int = 0
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and not self.foreign_key_problems

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


class Store:
    def __init__(self, data_dir: Path, url: str, synchronous: str) -> None:
        self.data_dir = data_dir
        self.url = url
        self.synchronous = synchronous
        self.media_dir = data_dir / MEDIA_DIR
        self.engine = db.make_engine(url, synchronous)
        self._read_engine = self.engine.execution_options(sqlite_begin="DEFERRED")
        self.migrated = db.ensure_schema(self.engine, before_migration=self._backup_before_migration)

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls, data_dir: str | Path | None = None, *, url: str | None = None, announce: bool = True
    ) -> Store:
        """Open (creating or migrating) the store. `url` or LLAMO_DATABASE_URL may name PostgreSQL."""
        data_dir = Path(data_dir) if data_dir is not None else db.default_data_dir()
        try:
            (data_dir / MEDIA_DIR / TMP_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LlamoError(f"cannot create the data directory {data_dir} ({exc.strerror}).") from None
        url = (
            url
            or os.environ.get("LLAMO_DATABASE_URL")
            or f"sqlite:///{(data_dir / 'annotations.sqlite3').resolve()}"
        )
        store = cls(data_dir.resolve(), url, db.synchronous_level())
        if announce:
            import sys

            print(f"annotations: {store.where()}", file=sys.stderr)
        return store

    def where(self) -> str:
        database = self.engine.url.render_as_string(hide_password=True)
        extra = f", synchronous={self.synchronous}, WAL" if db.is_sqlite(self.engine) else ""
        return f"data in {self.data_dir} (database {database}{extra}; schema v{SCHEMA_VERSION})"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- units of work ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction (BEGIN IMMEDIATE on SQLite), committed on exit.

        Database refusals become one-sentence LlamoErrors (StoreConflict for constraint races).
        """
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except IntegrityError as exc:
            raise StoreConflict(f"the store refused the change ({exc.orig}).") from None
        except OperationalError as exc:
            raise LlamoError(f"the database could not be written ({exc.orig}).") from None

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    def _retrying(self, fn, attempts: int = 5):
        """Run one unit of work; on a server database, retry it after a uniqueness race."""
        for attempt in range(attempts):
            try:
                return fn()
            except StoreConflict:
                if db.is_sqlite(self.engine) or attempt == attempts - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))

    # --- media (content-addressed, atomic) -------------------------------------------------

    def _tmp_path(self, suffix: str) -> Path:
        fd, name = tempfile.mkstemp(prefix="w.", suffix=f".part{suffix}", dir=self.media_dir / TMP_DIR)
        os.close(fd)
        return Path(name)

    def _place(self, tmp: Path, suffix: str) -> str:
        """fsync `tmp`, rename it to media/<aa>/<sha256><suffix>; return the path relative to the data dir."""
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        digest = sha256_file(tmp)
        final_dir = self.media_dir / digest[:2]
        final_dir.mkdir(parents=True, exist_ok=True)
        final = final_dir / f"{digest}{suffix}"
        if final.exists():
            tmp.unlink()
            os.utime(final)  # fresh mtime: `check` leaves young files alone while this row commits
        else:
            os.chmod(tmp, 0o444)  # immutable: exports hard-link these files
            os.replace(tmp, final)
            _fsync_dir(final_dir)
        return str(final.relative_to(self.data_dir))

    def _write_media(self, motion: Motion, media_path: Path | None) -> tuple[str, str | None]:
        tmp = self._tmp_path(".npz")
        try:
            motion.save(tmp)
            motion_rel = self._place(tmp, ".npz")
        finally:
            tmp.unlink(missing_ok=True)
        video_rel = None
        if media_path is not None:
            suffix = media_path.suffix.lower()[:8]
            tmp = self._tmp_path(suffix)
            try:
                shutil.copyfile(media_path, tmp)
                video_rel = self._place(tmp, suffix)
            finally:
                tmp.unlink(missing_ok=True)
        return motion_rel, video_rel

    def path(self, rel: str | None) -> Path | None:
        """Absolute path of a stored media file (None stays None)."""
        return None if rel is None else self.data_dir / rel

    # --- clips and people ------------------------------------------------------------------

    def add_clip(
        self,
        motion: Motion,
        media_path: str | Path | None = None,
        source: str = "upload",
        *,
        sha256: str | None = None,
        keep_video: bool = True,
        meta: dict | None = None,
    ) -> Clip:
        """Store a clip's motion (and original video) and its row; idempotent on the upload's sha256.

        The clip's identity is the sha256 of the original upload (`media_path`), else `sha256`,
        else `motion.source_sha256`, else the motion file's own hash. Media are written first
        (atomically), then the row commits; `check` removes media a crash left without a row.
        """
        media_path = Path(media_path) if media_path is not None else None
        if media_path is not None and not media_path.is_file():
            raise LlamoError(f"{media_path} does not exist.")
        sha = sha256 or (sha256_file(media_path) if media_path else None) or motion.source_sha256 or None
        if sha:
            existing = self.get_clip(sha)
            if existing is not None and existing.deleted_at is None and not existing.media_missing:
                return existing
        motion_rel, video_rel = self._write_media(motion, media_path if keep_video else None)
        sha = sha or Path(motion_rel).stem

        def work() -> Clip:
            with self._write() as s:
                clip = s.exec(select(Clip).where(Clip.sha256 == sha)).first()
                if clip is None:
                    clip = Clip(sha256=sha)
                elif clip.deleted_at is None and not clip.media_missing:
                    return clip  # another writer stored it meanwhile
                clip.motion_path, clip.video_path = motion_rel, video_rel
                clip.duration, clip.fps, clip.num_frames = motion.duration, motion.fps, motion.num_frames
                clip.source, clip.meta = source, dict(meta or {})
                clip.deleted_at, clip.media_missing, clip.created_at = None, False, utcnow()
                s.add(clip)
                s.flush()
                return clip

        return self._retrying(work)

    def get_clip(self, sha256: str) -> Clip | None:
        with self._read() as s:
            return s.exec(select(Clip).where(Clip.sha256 == sha256)).first()

    def load_motion(self, clip: Clip | int) -> Motion:
        with self._read() as s:
            row = s.get(Clip, _id(clip))
        if row is None or row.motion_path is None:
            raise LlamoError("that clip has no stored motion (deleted or missing).")
        return Motion.load(self.data_dir / row.motion_path)

    def get_or_create_annotator(self, name: str, role: str = "annotator", auth: str = "none") -> Annotator:
        """The annotator called `name`; a new one gets `role` and `auth`. An existing one keeps its role."""
        check_text(name, "The annotator name", MAX_NAME)
        if role not in ROLES:
            raise LlamoError(f"role must be one of {', '.join(ROLES)}, not {role!r}.")

        def work() -> Annotator:
            with self._write() as s:
                found = s.exec(select(Annotator).where(Annotator.name == name)).first()
                if found is not None:
                    return found
                person = Annotator(name=name, role=role, auth=auth)
                s.add(person)
                s.flush()
                return person

        return self._retrying(work)

    def set_role(self, annotator: Annotator | int, role: str) -> Annotator:
        if role not in ROLES:
            raise LlamoError(f"role must be one of {', '.join(ROLES)}, not {role!r}.")
        with self._write() as s:
            person = s.get(Annotator, _id(annotator))
            if person is None:
                raise LlamoError(f"annotator {_id(annotator)} does not exist.")
            person.role = role
            s.add(person)
            return person

    # --- conversations ---------------------------------------------------------------------

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
        conv = Conversation(
            uid=uid or uuid.uuid4().hex,
            clip_id=None if clip is None else _id(clip),
            annotator_id=_id(annotator),
            model_id=model_id,
            model_sha=model_sha,
            backbone=backbone,
            settings=dict(settings or {}),
        )
        with self._write() as s:
            s.add(conv)
            s.flush()
            return conv

    def add_turn(
        self, conversation: Conversation | int, question: str, *, timings: dict | None = None
    ) -> Turn:
        """Append the next question of a conversation (position = number of turns so far)."""
        check_text(question, "The question")

        def work() -> Turn:
            with self._write() as s:
                cid = _id(conversation)
                position = s.exec(
                    select(func.count()).select_from(Turn).where(Turn.conversation_id == cid)
                ).one()
                turn = Turn(
                    conversation_id=cid, position=position, question=question, timings=dict(timings or {})
                )
                s.add(turn)
                conv = s.get(Conversation, cid)
                conv.updated_at = utcnow()
                s.add(conv)
                s.flush()
                return turn

        return self._retrying(work)

    def add_candidate(
        self,
        turn: Turn | int,
        text: str,
        partial: bool = False,
        timings: dict | None = None,
        settings: dict | None = None,
        *,
        regenerated: bool = False,
    ) -> Candidate:
        """Keep one model generation (Stop -> partial=True; Regenerate -> regenerated=True)."""
        check_text(text, "The model's answer", allow_empty=partial)
        cand = Candidate(
            turn_id=_id(turn),
            text=text,
            partial=partial,
            regenerated=regenerated,
            timings=dict(timings or {}),
            settings=dict(settings or {}),
        )
        with self._write() as s:
            s.add(cand)
            s.flush()
            return cand

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
        tags = [check_text(t, "A tag", MAX_TAG) for t in tags]
        if len(tags) > MAX_TAGS:
            raise LlamoError(f"a correction may carry at most {MAX_TAGS} tags, not {len(tags)}.")
        if rating is not None and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
        ):
            raise LlamoError(f"rating must be an integer from 1 to 5, not {rating!r}.")
        tid = _id(turn)

        def work() -> Correction:
            with self._write() as s:
                row = s.get(Turn, tid)
                if row is None:
                    raise LlamoError(f"turn {tid} does not exist.")
                revision = s.exec(
                    select(func.count()).select_from(Correction).where(Correction.turn_id == tid)
                ).one()
                fix = Correction(
                    turn_id=tid,
                    annotator_id=_id(annotator),
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

        return self._retrying(work)

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
        edit = QuestionEdit(turn_id=_id(turn), annotator_id=_id(annotator), text=text)
        with self._write() as s:
            s.add(edit)
            s.flush()
            return edit

    def review(
        self, correction: Correction | int, reviewer: Annotator | int, accept: bool, note: str = ""
    ) -> Review:
        """Accept or reject one correction revision. The turn's status follows only if it is the latest."""
        check_text(note, "The review note", MAX_NOTE, allow_empty=True)
        with self._write() as s:
            person = s.get(Annotator, _id(reviewer))
            if person is None or person.role != "reviewer":
                raise LlamoError("only an annotator with the reviewer role may accept or reject corrections.")
            fix = s.get(Correction, _id(correction))
            if fix is None:
                raise LlamoError(f"correction {_id(correction)} does not exist.")
            verdict = Review(correction_id=fix.id, reviewer_id=person.id, accept=bool(accept), note=note)
            s.add(verdict)
            latest = s.exec(select(func.max(Correction.id)).where(Correction.turn_id == fix.turn_id)).one()
            if latest == fix.id:
                turn = s.get(Turn, fix.turn_id)
                turn.status, turn.updated_at = ("accepted" if accept else "rejected"), utcnow()
                s.add(turn)
            s.flush()
            return verdict

    def set_trainable(self, turn: Turn | int, value: bool | None) -> Turn:
        """Decide whether the turn's exported answer is a training target (None = derive from status)."""
        with self._write() as s:
            row = s.get(Turn, _id(turn))
            if row is None:
                raise LlamoError(f"turn {_id(turn)} does not exist.")
            row.trainable, row.updated_at = value, utcnow()
            s.add(row)
            return row

    # --- reading ---------------------------------------------------------------------------

    def get_turn(self, turn: int) -> Turn | None:
        with self._read() as s:
            return s.get(Turn, turn)

    def corrections(self, turn: Turn | int) -> list[Correction]:
        """All revisions of a turn's correction, oldest first."""
        with self._read() as s:
            return list(
                s.exec(select(Correction).where(Correction.turn_id == _id(turn)).order_by(Correction.id))
            )

    def candidates(self, turn: Turn | int) -> list[Candidate]:
        with self._read() as s:
            return list(
                s.exec(select(Candidate).where(Candidate.turn_id == _id(turn)).order_by(Candidate.id))
            )

    def reviews(self, correction: Correction | int) -> list[Review]:
        with self._read() as s:
            return list(
                s.exec(select(Review).where(Review.correction_id == _id(correction)).order_by(Review.id))
            )

    def list_turns(
        self,
        *,
        status: str | Iterable[str] | None = None,
        annotator: str | None = None,
        clip_sha256: str | None = None,
        conversation: Conversation | int | None = None,
        limit: int = 200,
        offset: int = 0,
        order: str = "recent",
    ) -> list[TurnRow]:
        """Turns of live conversations with their latest answer and correction.

        order="recent": most recently changed first (a review queue); "position": by
        conversation, then turn position (to replay a conversation).
        """
        if order not in ("recent", "position"):
            raise LlamoError(f"order must be 'recent' or 'position', not {order!r}.")
        statuses = [status] if isinstance(status, str) else list(status or [])
        for st in statuses:
            if st not in STATUSES:
                raise LlamoError(f"status must be one of {', '.join(STATUSES)}, not {st!r}.")
        with self._read() as s:
            q = (
                select(Turn, Conversation, Annotator, Clip)
                .join(Conversation, Turn.conversation_id == Conversation.id)
                .join(Annotator, Conversation.annotator_id == Annotator.id)
                .outerjoin(Clip, Conversation.clip_id == Clip.id)
                .where(Conversation.deleted_at.is_(None))
            )
            if statuses:
                q = q.where(Turn.status.in_(statuses))
            if annotator:
                q = q.where(Annotator.name == annotator)
            if clip_sha256:
                q = q.where(Clip.sha256 == clip_sha256)
            if conversation is not None:
                q = q.where(Conversation.id == _id(conversation))
            if order == "position":
                q = q.order_by(Conversation.id, Turn.position)
            else:
                q = q.order_by(Turn.updated_at.desc(), Turn.id.desc())
            rows = s.exec(q.offset(offset).limit(limit)).all()
            ids = [t.id for t, *_ in rows]
            answers: dict[int, str] = {}
            fixes: dict[int, tuple[int, str]] = {}
            if ids:
                for tid, _cid, txt in s.exec(
                    select(Candidate.turn_id, Candidate.id, Candidate.text)
                    .where(Candidate.turn_id.in_(ids))
                    .order_by(Candidate.id)
                ).all():
                    answers[tid] = txt
                for tid, cid, txt in s.exec(
                    select(Correction.turn_id, Correction.id, Correction.text)
                    .where(Correction.turn_id.in_(ids))
                    .order_by(Correction.id)
                ).all():
                    fixes[tid] = (cid, txt)
        return [
            TurnRow(
                turn_id=t.id,
                conversation_id=c.id,
                conversation_uid=c.uid,
                position=t.position,
                question=t.question,
                answer=answers.get(t.id),
                correction=fixes.get(t.id, (None, None))[1],
                correction_id=fixes.get(t.id, (None, None))[0],
                status=t.status,
                trainable=t.trainable,
                annotator=a.name,
                clip_sha256=clip.sha256 if clip is not None else None,
                updated_at=t.updated_at,
            )
            for t, c, a, clip in rows
        ]

    # --- privacy ---------------------------------------------------------------------------

    def _unlink_unreferenced(self, rels: Iterable[str]) -> int:
        removed = 0
        with self._read() as s:
            for rel in rels:
                used = s.exec(
                    select(func.count())
                    .select_from(Clip)
                    .where((Clip.motion_path == rel) | (Clip.video_path == rel))
                ).one()
                if not used and (self.data_dir / rel).exists():
                    (self.data_dir / rel).unlink()
                    removed += 1
        return removed

    def delete_clip(self, sha256: str) -> int:
        """Privacy deletion: mark the clip and its conversations deleted, then remove its media.

        The rows commit first, so a crash leaves an orphan file (removed by `check`), never a row
        pointing to a missing file. Returns the number of media files removed.
        """
        with self._write() as s:
            clip = s.exec(select(Clip).where(Clip.sha256 == sha256)).first()
            if clip is None:
                raise LlamoError(f"no clip with sha256 {sha256!r} in the store.")
            rels = [r for r in (clip.motion_path, clip.video_path) if r]
            now = utcnow()
            clip.deleted_at, clip.motion_path, clip.video_path = now, None, None
            s.add(clip)
            s.execute(
                text("UPDATE conversation SET deleted_at = :t WHERE clip_id = :c AND deleted_at IS NULL"),
                {"t": now, "c": clip.id},
            )
        return self._unlink_unreferenced(rels)

    def apply_retention(self, days: float | None = None) -> int:
        """Remove original videos of uploads older than `days` (LLAMO_RETENTION_DAYS); keep motion and text."""
        if days is None:
            env = os.environ.get("LLAMO_RETENTION_DAYS")
            if not env:
                return 0
            try:
                days = float(env)
            except ValueError:
                raise LlamoError(f"LLAMO_RETENTION_DAYS must be a number of days, not {env!r}.") from None
        cutoff = utcnow() - timedelta(days=days)
        with self._write() as s:
            clips = s.exec(
                select(Clip).where(
                    Clip.source == "upload", Clip.video_path.is_not(None), Clip.created_at < cutoff
                )
            ).all()
            rels = [c.video_path for c in clips]
            for c in clips:
                c.video_path = None
                s.add(c)
        return self._unlink_unreferenced(rels)

    # --- maintenance -----------------------------------------------------------------------

    def integrity_check(self) -> str:
        if not db.is_sqlite(self.engine):
            return "ok"
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql("PRAGMA integrity_check").fetchall()
            conn.rollback()
        return "; ".join(r[0] for r in rows)

    def check(self, repair: bool = True, grace_s: float = 60.0) -> CheckReport:
        """Find (and with `repair`, fix) orphans both ways: media without a row, rows without media.

        Files younger than `grace_s` are left alone: another process may be about to commit
        their row. Use 0 when no writer is running.
        """
        report = CheckReport(integrity=self.integrity_check(), repaired=repair)
        if db.is_sqlite(self.engine):
            with self.engine.connect() as conn:
                report.foreign_key_problems = len(conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall())
                conn.rollback()
        now = time.time()
        with self._read() as s:
            referenced = {
                p
                for pair in s.exec(select(Clip.motion_path, Clip.video_path)).all()
                for p in pair
                if p is not None
            }
        for path in sorted(self.media_dir.rglob("*")):
            if not path.is_file() or now - path.stat().st_mtime < grace_s:
                continue
            rel = str(path.relative_to(self.data_dir))
            if path.parent.name == TMP_DIR:
                report.temp_files.append(rel)
            elif rel not in referenced:
                report.orphan_files.append(rel)
        if repair:
            for rel in report.temp_files + report.orphan_files:
                (self.data_dir / rel).unlink(missing_ok=True)
        # Rows whose file is gone: clear the path (export skips them) and flag the clip.
        with self._write() if repair else self._read() as s:
            for clip in s.exec(select(Clip).where(Clip.deleted_at.is_(None))).all():
                gone = [
                    r for r in (clip.motion_path, clip.video_path) if r and not (self.data_dir / r).exists()
                ]
                if not gone:
                    continue
                report.missing_media.append(clip.sha256)
                if repair:
                    if clip.motion_path in gone:
                        clip.motion_path = None
                    if clip.video_path in gone:
                        clip.video_path = None
                    clip.media_missing = True
                    s.add(clip)
        if repair:
            report.retention_removed = self.apply_retention()
        return report

    def backup(self, out: str | Path) -> Path:
        """Online backup of the database through SQLite's backup API (consistent while writers run).

        Written to a temporary file and renamed, so `out` is never half a database. Media files
        are immutable and content-addressed: copy `media/` with any file tool.
        """
        if not db.is_sqlite(self.engine):
            raise LlamoError("backup works on SQLite stores; use pg_dump for a server database.")
        out = Path(out)
        if out.exists():
            raise LlamoError(f"{out} already exists; choose a new backup file.")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        except OSError as exc:
            raise LlamoError(f"cannot write the backup at {out} ({exc.strerror}).") from None
        os.close(fd)
        try:
            raw = self.engine.raw_connection()
            try:
                dst = sqlite3.connect(tmp)
                try:
                    raw.driver_connection.backup(dst, pages=1024)
                finally:
                    dst.close()
            finally:
                raw.close()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, out)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return out

    def _backup_before_migration(self, old_version: int) -> None:
        if db.is_sqlite(self.engine):
            stamp = utcnow().strftime("%Y%m%dT%H%M%S")
            self.backup(
                self.data_dir / "backups" / f"before-v{old_version}-to-v{SCHEMA_VERSION}-{stamp}.sqlite3"
            )

    # --- statistics ------------------------------------------------------------------------

    def stats(self) -> dict:
        """Counts by status and annotator, corrections per tag, reviews, and inter-annotator agreement."""
        with self._read() as s:
            live = select(Turn.id).join(Conversation).where(Conversation.deleted_at.is_(None))
            by_status = dict.fromkeys(STATUSES, 0)
            for st, n in s.exec(
                select(Turn.status, func.count()).where(Turn.id.in_(live)).group_by(Turn.status)
            ).all():
                by_status[st] = n
            names = dict(s.exec(select(Annotator.id, Annotator.name)).all())
            fixes = s.exec(
                select(
                    Correction.turn_id,
                    Correction.annotator_id,
                    Correction.text,
                    Correction.rating,
                    Correction.tags,
                )
                .where(Correction.turn_id.in_(live))
                .order_by(Correction.id)
            ).all()
            reviews = dict.fromkeys(("accepted", "rejected"), 0)
            for accept, n in s.exec(select(Review.accept, func.count()).group_by(Review.accept)).all():
                reviews["accepted" if accept else "rejected"] = n
            conversations = s.exec(
                select(func.count()).select_from(Conversation).where(Conversation.deleted_at.is_(None))
            ).one()
            clips = s.exec(select(func.count()).select_from(Clip).where(Clip.deleted_at.is_(None))).one()
        per_annotator: Counter = Counter()
        per_tag: Counter = Counter()
        latest: dict[tuple[int, int], tuple[str, int | None]] = {}
        for tid, aid, txt, rating, tags in fixes:
            per_annotator[names.get(aid, str(aid))] += 1
            per_tag.update(tags or [])
            latest[(tid, aid)] = (txt, rating)
        by_turn: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
        for (tid, _aid), value in latest.items():
            by_turn[tid].append(value)
        pairs = exact = 0
        jaccard = 0.0
        rating_gaps: list[int] = []
        for values in by_turn.values():
            for i in range(len(values)):
                for j in range(i + 1, len(values)):
                    (a, ra), (b, rb) = values[i], values[j]
                    pairs += 1
                    exact += _norm(a) == _norm(b)
                    wa, wb = set(_norm(a).split()), set(_norm(b).split())
                    jaccard += len(wa & wb) / max(1, len(wa | wb))
                    if ra is not None and rb is not None:
                        rating_gaps.append(abs(ra - rb))
        return {
            "clips": clips,
            "conversations": conversations,
            "turns": sum(by_status.values()),
            "turns_by_status": by_status,
            "corrections": len(fixes),
            "corrections_by_annotator": dict(per_annotator.most_common()),
            "corrections_by_tag": dict(per_tag.most_common()),
            "reviews": reviews,
            "agreement": {
                "turns_with_several_annotators": sum(1 for v in by_turn.values() if len(v) > 1),
                "pairs": pairs,
                "exact_agreement": exact / pairs if pairs else None,
                "mean_token_jaccard": jaccard / pairs if pairs else None,
                "mean_rating_difference": sum(rating_gaps) / len(rating_gaps) if rating_gaps else None,
            },
        }


def _norm(value: str) -> str:
    return re.sub(r"\s+", " ", value.casefold()).strip(" .")
