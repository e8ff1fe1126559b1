"""`Store`: the annotation store's public API (thread-safe; one engine per store).

Every public write is one unit of work in one transaction (`BEGIN IMMEDIATE` on SQLite), opened
and committed inside the method, so Gradio handlers on many threads and several processes can
share a store. Methods take model objects or their integer ids and return detached SQLModel
objects (attributes loaded; safe to read after the call) or named rows (`annotations.queries`,
`annotations.export_query`).

    store = Store.open()                                   # LLAMO_DATA_DIR, /data, or ./data
    clip = store.add_clip(motion, "squat.mp4", source="upload")
    coach = store.get_or_create_annotator("ana", role="annotator", auth="hf-oauth")
    conv = store.start_conversation(clip, coach, model_id="ckpt-3", model_sha="ab12", backbone="SmolLM2-135M")
    turn = store.add_turn(conv, "How many squats?")
    store.add_candidate(turn, "Three squats.", partial=False, timings={"ttft_s": 0.3})
    fix = store.add_correction(turn, "Four squats.", rating=2, tags=["wrong count"], annotator=coach)
    store.review(fix, store.get_or_create_annotator("rui", role="reviewer"), accept=True, note="ok")

This file holds opening, the unit of work, clips and people, and the read API. The rest lives by
job: `conversations` (the workflow's writes, mixed into Store), `queries` (typed reads and the
export's rules), `media` (content-addressed files), `maintenance` (check, backup, deletion,
retention), `stats`, `limits` (what text is accepted), `migrations` (the schema's history) and
`db` (the engine).
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from annotations import db, maintenance, queries
from annotations.conversations import ConversationWrites
from annotations.export_query import ExportConversation, ExportFilters, export_rows
from annotations.limits import MAX_NAME, MAX_NOTE, MAX_TAG, MAX_TAGS, MAX_TEXT, check_role, check_text
from annotations.maintenance import CheckReport
from annotations.media import MEDIA_DIR, TMP_DIR, MediaFiles, StoredMedia
from annotations.migrations import ensure_schema
from annotations.models import (
    SCHEMA_VERSION,
    Annotator,
    Candidate,
    Clip,
    Conversation,
    Correction,
    Review,
    Turn,
    row_id,
    utcnow,
)
from annotations.queries import TurnFilter, TurnRow
from annotations.segments import SegmentWrites
from annotations.stats import store_stats
from annotations.teams import TeamStore
from llamo.errors import DISK_FULL, LlamoError, disk_full
from llamo.fileio import sha256_file
from llamo.motion import Motion

T = TypeVar("T")
CONFLICT_ATTEMPTS = 5  # a uniqueness race on a server database: rerun, then it is a real conflict

# Store, and the names that lived here before the split (callers import them from here)
__all__ = ["MAX_NAME", "MAX_NOTE", "MAX_TAG", "MAX_TAGS", "MAX_TEXT", "CheckReport", "Store",
           "StoreBusy", "StoreConflict", "TurnRow", "check_text"]  # fmt: skip


class StoreConflict(LlamoError):
    """A uniqueness or foreign-key refusal (on a server database, a race worth retrying)."""


class StoreBusy(LlamoError):
    """The database's lock was held too long or a server transaction must be rerun; retried."""


class Store(ConversationWrites, TeamStore, SegmentWrites):
    """One data directory's database and media; see the module docstring."""

    def __init__(self, data_dir: Path, url: str, synchronous: str) -> None:
        self.data_dir = data_dir
        self.url = url
        self.synchronous = synchronous
        self.media = MediaFiles(data_dir)
        self.media_dir = self.media.media_dir
        self.engine = db.make_engine(url, synchronous)
        # SQLite has one writer at a time anyway; a server database lets writers run side by side.
        self._writer_lock = threading.RLock() if db.is_sqlite(self.engine) else contextlib.nullcontext()
        self._read_engine = self.engine.execution_options(sqlite_begin="DEFERRED")
        self.migrated = ensure_schema(self.engine, before_migration=self._backup_before_migration)

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
        """One write transaction (BEGIN IMMEDIATE on SQLite), committed on exit; no retry here.

        On SQLite the threads of one process take turns on a lock first, so they queue fairly
        instead of polling SQLite's busy handler; only other processes contend for the file.
        Refusals become one-sentence LlamoErrors: StoreBusy (retried by `_retrying`),
        StoreConflict for constraint races.
        """
        with self._writer_lock:
            try:
                with Session(self.engine, expire_on_commit=False) as session, session.begin():
                    yield session
            except IntegrityError as exc:
                raise StoreConflict(f"the store refused the change ({exc.orig}).") from None
            except DBAPIError as exc:
                if db.is_busy(exc):
                    raise StoreBusy(f"the database stayed busy ({exc.orig}).") from None
                if disk_full(exc):
                    raise LlamoError(DISK_FULL) from None
                raise LlamoError(f"the database could not be written ({exc.orig}).") from None

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    def _retrying(self, fn: Callable[[], T], patience_s: float | None = None) -> T:
        """The single writer path: run one unit of work, retrying it while the database is busy
        with jittered exponential back-off for up to `patience_s` (WRITE_PATIENCE_S) in all, and
        on a server database up to CONFLICT_ATTEMPTS times after a uniqueness race. Only a unit
        still refused after that reaches the user, in one sentence; nothing of it was saved."""
        patience_s = db.WRITE_PATIENCE_S if patience_s is None else patience_s
        deadline = time.monotonic() + patience_s
        delay, conflicts = 0.02, 0
        while True:
            try:
                return fn()
            except StoreBusy as exc:
                if time.monotonic() + delay > deadline:
                    raise LlamoError(
                        f"the database stayed busy for {patience_s:.0f} s; nothing was saved ({exc})."
                    ) from None
            except StoreConflict:
                conflicts += 1
                if db.is_sqlite(self.engine) or conflicts >= CONFLICT_ATTEMPTS:
                    raise
            time.sleep(delay * (0.5 + random.random()))  # jitter: retries of many writers spread out
            delay = min(delay * 2, 2.0)

    def _unit_of_work(self, fn: Callable[[Session], T]) -> T:
        """`fn(session)` in one write transaction, through the retrying writer path."""

        def attempt() -> T:
            with self._write() as s:
                return fn(s)

        return self._retrying(attempt)

    def _add(self, make_row: Callable[[], T]) -> T:
        """Insert one new row (built afresh by `make_row` on each attempt); return it with its id."""

        def insert(s: Session) -> T:
            row = make_row()
            s.add(row)
            s.flush()
            return row

        return self._unit_of_work(insert)

    # --- media -----------------------------------------------------------------------------

    def _write_media(self, motion: Motion, media_path: Path | None) -> StoredMedia:
        return self.media.write(motion, media_path)

    def path(self, rel: str | None) -> Path | None:
        """Absolute path of a stored media file (None stays None)."""
        return self.media.path(rel)

    def load_motion(self, clip: Clip | int) -> Motion:
        with self._read() as s:
            row = s.get(Clip, row_id(clip))
        if row is None or row.motion_path is None:
            raise LlamoError("that clip has no stored motion (deleted or missing).")
        return Motion.load(self.data_dir / row.motion_path)

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
        stored = self._write_media(motion, media_path if keep_video else None)
        sha = sha or Path(stored.motion_path).stem

        def work(s: Session) -> Clip:
            clip = s.exec(select(Clip).where(Clip.sha256 == sha)).first()
            if clip is None:
                clip = Clip(sha256=sha)
            elif clip.deleted_at is None and not clip.media_missing:
                return clip  # another writer stored it meanwhile
            clip.motion_path, clip.video_path = stored.motion_path, stored.video_path
            clip.duration, clip.fps, clip.num_frames = motion.duration, motion.fps, motion.num_frames
            clip.source, clip.meta = source, dict(meta or {})
            clip.deleted_at, clip.media_missing, clip.created_at = None, False, utcnow()
            s.add(clip)
            s.flush()
            return clip

        with maintenance.discarded_on_failure(self, stored.created):  # no row: no new media either
            return self._unit_of_work(work)

    def get_clip(self, sha256: str) -> Clip | None:
        with self._read() as s:
            return s.exec(select(Clip).where(Clip.sha256 == sha256)).first()

    def get_or_create_annotator(self, name: str, role: str = "annotator", auth: str = "none") -> Annotator:
        """The annotator called `name`; a new one gets `role` and `auth`. An existing one keeps its role."""
        check_text(name, "The annotator name", MAX_NAME)
        check_role(role)

        def work(s: Session) -> Annotator:
            found = s.exec(select(Annotator).where(Annotator.name == name)).first()
            if found is not None:
                return found
            person = Annotator(name=name, role=role, auth=auth)
            s.add(person)
            s.flush()
            return person

        return self._unit_of_work(work)

    def set_role(self, annotator: Annotator | int, role: str) -> Annotator:
        check_role(role)

        def work(s: Session) -> Annotator:
            person = s.get(Annotator, row_id(annotator))
            if person is None:
                raise LlamoError(f"annotator {row_id(annotator)} does not exist.")
            person.role = role
            s.add(person)
            return person

        return self._unit_of_work(work)

    # --- reading ---------------------------------------------------------------------------

    def get_turn(self, turn: int) -> Turn | None:
        with self._read() as s:
            return s.get(Turn, turn)

    def _rows_of(self, model, column, value) -> list:
        with self._read() as s:
            return list(s.exec(select(model).where(column == value).order_by(model.id)))

    def corrections(self, turn: Turn | int) -> list[Correction]:
        """All revisions of a turn's correction, oldest first."""
        return self._rows_of(Correction, Correction.turn_id, row_id(turn))

    def candidates(self, turn: Turn | int) -> list[Candidate]:
        return self._rows_of(Candidate, Candidate.turn_id, row_id(turn))

    def reviews(self, correction: Correction | int) -> list[Review]:
        return self._rows_of(Review, Review.correction_id, row_id(correction))

    def has_conversation(self, uid: str) -> bool:
        with self._read() as s:
            return s.exec(select(Conversation.id).where(Conversation.uid == uid)).first() is not None

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
        """Turns of live conversations with their latest answer and correction (three SELECTs).

        order="recent": most recently changed first (a review queue); "position": by
        conversation, then turn position (to replay a conversation).
        """
        cid = None if conversation is None else row_id(conversation)
        f = TurnFilter(status, annotator, clip_sha256, cid, limit, offset, order)
        with self._read() as s:
            return queries.turn_rows(s, f)

    def review_rows(
        self,
        *,
        status: str | Iterable[str] | None = None,
        annotator: str | None = None,
        clip_sha256: str | None = None,
        tag: str | None = None,
        flagged: bool = False,
        limit: int = 200,
    ) -> list[TurnRow]:
        """The review table: the `limit` most recently changed turns (only those whose latest
        answer the measurement contradicts, if `flagged`), then those whose latest correction
        carries `tag`. Everything the table shows in one batch (no read per row)."""
        f = TurnFilter(status or None, annotator or None, clip_sha256 or None, limit=limit, flagged=flagged)
        with self._read() as s:
            return queries.review_rows(s, f, tag or None)

    def export_rows(self, filters: ExportFilters) -> list[ExportConversation]:
        """Every live conversation with what each turn exports as (see `annotations.export_query`)."""
        with self._read() as s:
            return export_rows(s, filters)

    def stats(self) -> dict:
        """Counts by status and annotator, corrections per tag, reviews, and inter-annotator agreement."""
        with self._read() as s:
            return store_stats(s)

    # --- maintenance and privacy (annotations.maintenance) ---------------------------------

    def delete_clip(self, sha256: str) -> int:
        """Privacy deletion of a clip's media; its rows are marked deleted. Returns files removed."""
        return maintenance.delete_clip(self, sha256)

    def apply_retention(self, days: float | None = None) -> int:
        """Remove original videos of uploads older than `days` (LLAMO_RETENTION_DAYS); keep motion and text."""
        return maintenance.apply_retention(self, days)

    def integrity_check(self) -> str:
        return maintenance.integrity_check(self)

    def check(self, repair: bool = True, grace_s: float = 60.0) -> CheckReport:
        """Find (and with `repair`, fix) media without a row and rows without media."""
        return maintenance.check(self, repair, grace_s)

    def backup(self, out: str | Path) -> Path:
        """Online backup of the database to a new file `out` (SQLite only)."""
        return maintenance.backup(self, out)

    def _backup_before_migration(self, old_version: int) -> None:
        maintenance.backup_before_migration(self, old_version)
