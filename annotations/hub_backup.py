"""Backups of the store as a private Hugging Face dataset, so a Space without a storage
bucket loses nothing on a restart: on demand (`HubBackup.run_once`, the admin's "Back up"),
and every `every_s` seconds on a thread while the app runs (LLAMO_BACKUP_REPO set).

The target is a Hub repo `ORG/NAME` (pushed private, `annotations.push.push_dataset`), or a
local folder (a path: `/backups/llamo`, `./backups`), where each backup is a new
`save_to_disk` folder named by time: the same dataset, testable without a hub."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from llamo.errors import LlamoError

log = logging.getLogger("annotations.backup")


@dataclass
class BackupResult:
    """One finished backup: where it went, how many rows, when (Unix time)."""

    target: str
    rows: int
    at: float


@dataclass
class HubBackup:
    store: object
    target: str  # ORG/NAME, or a local folder path
    every_s: float = 3600.0
    last: BackupResult | None = None
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, store, env=None) -> HubBackup | None:
        """LLAMO_BACKUP_REPO (and LLAMO_BACKUP_EVERY_S, default 3600), or None when unset."""
        env = os.environ if env is None else env
        target = (env.get("LLAMO_BACKUP_REPO") or "").strip()
        if not target:
            return None
        every = float(env.get("LLAMO_BACKUP_EVERY_S") or 3600)
        if every < 60:
            raise LlamoError(f"LLAMO_BACKUP_EVERY_S must be at least 60 seconds, not {every:g}.")
        return cls(store, target, every)

    @property
    def is_local(self) -> bool:
        return self.target.startswith(("/", ".", "~")) or self.target.count("/") != 1

    def run_once(self) -> BackupResult:
        """One backup now (one at a time; a second caller waits for the first)."""
        from annotations.push import push_dataset

        with self._lock:
            if self.is_local:
                folder = Path(self.target).expanduser()
                folder.mkdir(parents=True, exist_ok=True)
                stamp = time.strftime("llamo-%Y%m%d-%H%M%S", time.gmtime())
                out, n = folder / stamp, 0
                while out.exists():  # two backups in one second
                    n += 1
                    out = folder / f"{stamp}.{n}"
                summary = push_dataset(self.store, out=out, private=True)
                where = str(out)
            else:
                summary = push_dataset(self.store, self.target, private=True)
                where = f"hf://datasets/{self.target} (private)"
            self.last = BackupResult(where, summary.rows, time.time())
            return self.last

    def start(self) -> None:
        """Back up every `every_s` seconds on a daemon thread (a failure is logged and retried
        at the next tick), and once more when stopped."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="llamo-backup", daemon=True)
        self._thread.start()

    def stop(self, final: bool = True, timeout: float = 120.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if final:
            self._safe_once()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self._safe_once()

    def _safe_once(self) -> None:
        try:
            done = self.run_once()
            log.info("backed up %d rows to %s", done.rows, done.target)
        except Exception as exc:  # noqa: BLE001 - a backup thread must survive a bad push
            self.errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            log.warning("backup to %s failed: %s", self.target, self.errors[-1])
