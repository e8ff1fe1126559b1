"""Keeping a store healthy: integrity check and repair, online backup, privacy deletion, retention.

Each function takes the `Store` and runs inside its units of work; the Store exposes them as
methods (`store.check()`, `store.backup(out)`, ...), which is what callers use.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, text
from sqlmodel import select

from annotations import db
from annotations.models import SCHEMA_VERSION, Clip, utcnow
from llamo.errors import LlamoError

if TYPE_CHECKING:
    from annotations.store import Store


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


# --- check and repair -----------------------------------------------------------------------


def integrity_check(store: Store) -> str:
    if not db.is_sqlite(store.engine):
        return "ok"
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("PRAGMA integrity_check").fetchall()
        conn.rollback()
    return "; ".join(r[0] for r in rows)


def _foreign_key_problems(store: Store) -> int:
    if not db.is_sqlite(store.engine):
        return 0
    with store.engine.connect() as conn:
        n = len(conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall())
        conn.rollback()
    return n


def _find_orphans(store: Store, report: CheckReport, grace_s: float) -> None:
    """Media without a row, and temp files; both only when older than `grace_s`."""
    now = time.time()
    with store._read() as s:
        referenced = {
            p
            for pair in s.exec(select(Clip.motion_path, Clip.video_path)).all()
            for p in pair
            if p is not None
        }
    found = store.media.scan(grace_s, now)
    report.temp_files.extend(found.temp_files)
    report.orphan_files.extend(rel for rel in found.files if rel not in referenced)


def _find_missing_media(store: Store, report: CheckReport, repair: bool) -> None:
    """Rows whose file is gone: clear the path (export skips them) and flag the clip."""
    with store._write() if repair else store._read() as s:
        for clip in s.exec(select(Clip).where(Clip.deleted_at.is_(None))).all():
            gone = [r for r in (clip.motion_path, clip.video_path) if r and not (store.data_dir / r).exists()]
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


def check(store: Store, repair: bool = True, grace_s: float = 60.0) -> CheckReport:
    """Find (and with `repair`, fix) orphans both ways: media without a row, rows without media.

    Files younger than `grace_s` are left alone: another process may be about to commit
    their row. Use 0 when no writer is running.
    """
    report = CheckReport(integrity=integrity_check(store), repaired=repair)
    report.foreign_key_problems = _foreign_key_problems(store)
    _find_orphans(store, report, grace_s)
    if repair:
        for rel in report.temp_files + report.orphan_files:
            (store.data_dir / rel).unlink(missing_ok=True)
    _find_missing_media(store, report, repair)
    if repair:
        report.retention_removed = apply_retention(store)
    return report


# --- backup ---------------------------------------------------------------------------------


def _copy_database(store: Store, tmp: str) -> None:
    raw = store.engine.raw_connection()
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


def backup(store: Store, out: str | Path) -> Path:
    """Online backup of the database through SQLite's backup API (consistent while writers run).

    Written to a temporary file and renamed, so `out` is never half a database. Media files
    are immutable and content-addressed: copy `media/` with any file tool.
    """
    if not db.is_sqlite(store.engine):
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
        _copy_database(store, tmp)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out


def backup_before_migration(store: Store, old_version: int) -> None:
    if db.is_sqlite(store.engine):
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        backup(
            store, store.data_dir / "backups" / f"before-v{old_version}-to-v{SCHEMA_VERSION}-{stamp}.sqlite3"
        )


# --- privacy: deletion and retention --------------------------------------------------------


def _unlink_unreferenced(store: Store, rels: Iterable[str]) -> int:
    removed = 0
    with store._read() as s:
        for rel in rels:
            used = s.exec(
                select(func.count())
                .select_from(Clip)
                .where((Clip.motion_path == rel) | (Clip.video_path == rel))
            ).one()
            if not used and (store.data_dir / rel).exists():
                (store.data_dir / rel).unlink()
                removed += 1
    return removed


@contextlib.contextmanager
def discarded_on_failure(store: Store, rels: Iterable[str]) -> Iterator[None]:
    """If the block fails, remove a failed add_clip's new media files, unless a row took them
    meanwhile (the same content from another writer); when the database can't say, `check`
    removes them later. The block's own error is the one raised."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            _unlink_unreferenced(store, rels)
        raise


def delete_clip(store: Store, sha256: str) -> int:
    """Privacy deletion: mark the clip and its conversations deleted, then remove its media.

    The rows commit first, so a crash leaves an orphan file (removed by `check`), never a row
    pointing to a missing file. Returns the number of media files removed.
    """

    def mark_deleted(s) -> list[str]:
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
        return rels

    return _unlink_unreferenced(store, store._unit_of_work(mark_deleted))


def _retention_days() -> float | None:
    env = os.environ.get("LLAMO_RETENTION_DAYS")
    if not env:
        return None
    try:
        return float(env)
    except ValueError:
        raise LlamoError(f"LLAMO_RETENTION_DAYS must be a number of days, not {env!r}.") from None


def apply_retention(store: Store, days: float | None = None) -> int:
    """Remove original videos of uploads older than `days` (LLAMO_RETENTION_DAYS); keep motion and text."""
    if days is None:
        days = _retention_days()
        if days is None:
            return 0
    cutoff = utcnow() - timedelta(days=days)

    def forget_videos(s) -> list[str]:
        clips = s.exec(
            select(Clip).where(
                Clip.source == "upload", Clip.video_path.is_not(None), Clip.created_at < cutoff
            )
        ).all()
        rels = [c.video_path for c in clips]
        for c in clips:
            c.video_path = None
            s.add(c)
        return rels

    return _unlink_unreferenced(store, store._unit_of_work(forget_videos))
