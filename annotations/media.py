"""Content-addressed, immutable media files under DATA_DIR/media (motions and original videos).

A file is written to media/.tmp, fsynced, hashed and renamed to media/<aa>/<sha256><suffix>, then
made read-only: the same content is stored once, a crash leaves a temp file (never half a file
under its final name), and exports may hard-link the files. Rows point to these paths relative
to the data directory; `maintenance.check` removes files that no row references.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from llamo.errors import DISK_FULL, LlamoError, disk_full
from llamo.fileio import sha256_file
from llamo.motion import Motion

MEDIA_DIR = "media"
TMP_DIR = ".tmp"


class StoredMedia(NamedTuple):
    """Where a clip's files landed, relative to the data directory."""

    motion_path: str
    video_path: str | None
    created: tuple[str, ...] = ()  # the files this write added (the others were stored already)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class MediaScan(NamedTuple):
    """Files in media/ past the grace period, relative to the data directory, sorted."""

    temp_files: list[str]  # leftovers of interrupted writes (media/.tmp)
    files: list[str]  # stored media


class MediaFiles:
    """The media folder of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.media_dir = data_dir / MEDIA_DIR

    def _tmp_path(self, suffix: str) -> Path:
        fd, name = tempfile.mkstemp(prefix="w.", suffix=f".part{suffix}", dir=self.media_dir / TMP_DIR)
        os.close(fd)
        return Path(name)

    def _place(self, tmp: Path, suffix: str, created: list[str]) -> str:
        """fsync `tmp`, rename it to media/<aa>/<sha256><suffix>; return the path relative to the
        data dir, also appended to `created` when the file is new."""
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
            created.append(str(final.relative_to(self.data_dir)))
        return str(final.relative_to(self.data_dir))

    def _store(self, suffix: str, write, created: list[str]) -> str:
        tmp = self._tmp_path(suffix)
        try:
            write(tmp)
            return self._place(tmp, suffix, created)
        finally:
            tmp.unlink(missing_ok=True)

    def write(self, motion: Motion, media_path: Path | None) -> StoredMedia:
        """Store the motion (as .npz) and, when given, the original video file: both or none
        (a failure removes what this call added). A full disk is one sentence."""
        created: list[str] = []
        try:
            motion_rel = self._store(".npz", motion.save, created)
            video_rel = None
            if media_path is not None:
                video_rel = self._store(
                    media_path.suffix.lower()[:8], lambda tmp: shutil.copyfile(media_path, tmp), created
                )
        except BaseException as exc:
            self.discard(created)
            if disk_full(exc):
                raise LlamoError(DISK_FULL) from None
            raise
        return StoredMedia(motion_rel, video_rel, tuple(created))

    def discard(self, rels) -> None:
        """Remove files a failed write added (read-only files: the folder's permission rules)."""
        for rel in rels:
            with contextlib.suppress(OSError):
                (self.data_dir / rel).unlink()

    def path(self, rel: str | None) -> Path | None:
        """Absolute path of a stored media file (None stays None)."""
        return None if rel is None else self.data_dir / rel

    def scan(self, grace_s: float, now: float) -> MediaScan:
        """Files older than `grace_s` seconds: younger ones may belong to a row about to commit."""
        found = MediaScan([], [])
        for path in sorted(self.media_dir.rglob("*")):
            if not path.is_file() or now - path.stat().st_mtime < grace_s:
                continue
            rel = str(path.relative_to(self.data_dir))
            (found.temp_files if path.parent.name == TMP_DIR else found.files).append(rel)
        return found
