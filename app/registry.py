"""The open tabs, bounded: `SessionRegistry` caps how many sessions hold a clip and how much
memory they hold, evicts the oldest idle ones first, frees a session the moment its tab closes,
and runs each user's heavy job (opening a clip) one at a time, under a time limit, cancelled
when the tab closes. A public Space can't be filled by opening sessions, and one user's big
upload can't hold the others' slots.

Plain Python (no Gradio): app/ui/context.py feeds it session hashes and user names.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from app.session import Session
from llamo.errors import LlamoError, clock


def footprint(session: Session) -> int:
    """Bytes a session holds, estimated: its clip's arrays (the views grow with them) and the
    files in its temp folder."""
    clip = session.clip
    held = 0
    if clip is not None:
        arrays = [v for v in vars(clip.motion).values() if isinstance(v, np.ndarray)]
        held += sum(a.nbytes for a in arrays)
    with contextlib.suppress(OSError):  # the folder is being removed
        held += sum(p.stat().st_size for p in session.workdir.rglob("*") if p.is_file())
    return held + 4096 * len(session.turns)


def free(session: Session) -> None:
    """Stop its work, drop its clip, chat and temp folder; the object itself may live on in a
    gr.State, small, and its next request asks for a clip again."""
    session.close()
    session.clip, session.span = None, None
    session.reset_chat()


@dataclass
class Job:
    """One heavy job: `check()` raises once its tab is closed or its time is up."""

    key: str
    deadline: float
    limit_s: float
    closed: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        if self.closed.is_set():
            raise LlamoError("the tab was closed; the job was cancelled.")
        if time.monotonic() > self.deadline:
            raise LlamoError(f"this took longer than the {clock(self.limit_s)} limit; try a shorter clip.")

    def progress(self, report: Callable[..., None]) -> Callable[..., None]:
        """`report` that checks the job first: every progress step is a cancellation point."""

        def inner(fraction: float, message: str = "") -> None:
            self.check()
            report(fraction, message)

        return inner


class SessionRegistry:
    """session hash -> Session, least recently used first. `on_evict(key)` lets the UI drop
    its own per-session state (Gradio's) alongside."""

    def __init__(
        self,
        max_sessions: int = 100,
        max_bytes: int = 2 * 2**30,
        job_time_limit_s: float = 300.0,
        on_evict: Callable[[str], None] | None = None,
    ) -> None:
        self.max_sessions, self.max_bytes, self.job_time_limit_s = max_sessions, max_bytes, job_time_limit_s
        self.on_evict = on_evict
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._jobs: dict[str, Job] = {}  # user -> their running heavy job
        self._job_keys: dict[str, set[str]] = {}  # session hash -> users with a job from it
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, key: str) -> bool:
        return key in self._sessions

    def get(self, key: str) -> Session | None:
        return self._sessions.get(key)

    def held_bytes(self) -> int:
        with self._lock:
            sessions = list(self._sessions.values())
        return sum(footprint(s) for s in sessions)

    def touch(self, key: str | None, session: Session) -> None:
        """A request of this tab: it becomes the most recently used; the cap is enforced."""
        if not key:
            return
        with self._lock:
            self._sessions[key] = session
            self._sessions.move_to_end(key)
        self._enforce(keep=key)

    def close(self, key: str | None) -> bool:
        """The tab closed: cancel its jobs, free its state. True when it was known."""
        with self._lock:
            session = self._sessions.pop(key, None) if key else None
            for user in self._job_keys.pop(key, set()) if key else ():
                job = self._jobs.get(user)
                if job is not None and job.key == key:
                    job.closed.set()
        if session is not None:
            free(session)
        if key and self.on_evict is not None:
            self.on_evict(key)
        return session is not None

    def _idle(self, key: str, session: Session) -> bool:
        return not session.busy.locked() and key not in self._job_keys

    def _enforce(self, keep: str) -> None:
        """Evict the oldest idle sessions until both caps hold (busy ones and `keep` stay)."""
        while True:
            with self._lock:
                over_count = len(self._sessions) > self.max_sessions
                candidates = [k for k, s in self._sessions.items() if k != keep and self._idle(k, s)]
            if not candidates:
                return
            if not over_count and self.held_bytes() <= self.max_bytes:
                return
            self.close(candidates[0])

    @contextmanager
    def heavy(self, user: str, key: str | None) -> Iterator[Job]:
        """One heavy job per user at a time (a second is refused with a sentence), with a
        deadline, cancelled when the tab `key` closes."""
        job = Job(key or "", time.monotonic() + self.job_time_limit_s, self.job_time_limit_s)
        with self._lock:
            if user in self._jobs:
                raise LlamoError("your earlier clip is still being opened; wait for it to finish.")
            self._jobs[user] = job
            self._job_keys.setdefault(job.key, set()).add(user)
        try:
            yield job
        finally:
            with self._lock:
                self._jobs.pop(user, None)
                users = self._job_keys.get(job.key, set())
                users.discard(user)
                if not users:
                    self._job_keys.pop(job.key, None)
