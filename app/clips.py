"""Bringing a clip into a tab: refuse bad files early, read the motion, store the clip, draw
the views, and the asked range. A part of `LlamoApp` (see app/core.py)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from app import views_io
from app.config import AppConfig
from app.session import ChatTurn, ClipState, Progress, Session, need_clip, no_progress, scaled
from llamo.errors import LlamoError
from llamo.evidence import measure
from llamo.fileio import sha256_file
from llamo.importers import MOTION_SUFFIXES, VIDEO_SUFFIXES, load_motion
from llamo.motion import Motion
from llamo.video import probe_video


class ClipsMixin:
    """Uses the host's `model`, `store` and `config` (LlamoApp sets them)."""

    model: object
    store: object
    config: AppConfig

    def check_upload(self, path: str | os.PathLike | None) -> str:
        """Refuse a file before any heavy work: missing, too big, wrong type, too long.
        Returns "video" or "motion"."""
        if not path:
            raise LlamoError("no file was given.")
        p = Path(path)
        if not p.is_file():
            raise LlamoError("the uploaded file is gone; upload it again.")
        size = p.stat().st_size
        if size == 0:
            raise LlamoError(f"{p.name} is empty.")
        if size > self.config.max_file_bytes:
            raise LlamoError(f"{p.name} is {size / 2**20:.0f} MB; the limit is {self.config.max_file_mb} MB.")
        suffix = p.suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            self._check_duration(p.name, probe_video(p).duration)
            return "video"
        if suffix in MOTION_SUFFIXES:
            return "motion"
        raise LlamoError(
            f"{p.suffix or 'a file without a suffix'} is not supported; use a video "
            f"({', '.join(VIDEO_SUFFIXES)}) or a motion file ({', '.join(MOTION_SUFFIXES)})."
        )

    def _check_duration(self, name: str, seconds: float, slack: float = 0.0) -> None:
        limit = self.config.max_duration_s
        if seconds > limit + slack:
            raise LlamoError(f"{name} lasts {_span(seconds)}; the limit is {_span(limit)}.")

    def open_file(
        self,
        session: Session,
        path,
        *,
        source: str = "upload",
        title: str | None = None,
        subject: tuple[float, float] | None = None,
        progress: Progress = no_progress,
    ) -> ClipState:
        """Read, check and draw the clip completely, and only then store it: a failed open
        (bad data, a cancelled or timed-out job, a full disk) leaves no row and no media.
        `subject` (x, y in 0-1 of the first frame) picks the person a video follows."""
        kind = self.check_upload(path)
        path = Path(path)
        progress(0.02, "reading the file")
        motion = load_motion(
            path,
            fps=self.config.video_fps if kind == "video" else None,
            max_duration=self.config.max_duration_s,
            progress=scaled(progress, 0.02, 0.75),
            subject=subject if kind == "video" else None,
        )
        if motion.num_frames < 2:
            raise LlamoError(f"{path.name} holds fewer than 2 frames of motion.")
        self._check_duration(path.name, motion.duration, slack=1e-6)
        if kind == "video" and motion.person_fraction == 0.0:
            raise LlamoError(f"no person was found in {path.name}.")
        video = path if kind == "video" else None
        state = ClipState(motion=motion, title=title or path.name, source=source, kind=kind, video=video)
        self._prepare(state, session.workdir, video=video, progress=progress)
        progress(0.99, "saving the clip")
        sha, meta = sha256_file(path), {"title": state.title, "kind": kind}
        if kind == "video" and subject is not None:  # another person of the same video: another clip
            meta["subject"], meta["video_sha256"] = motion.meta.get("subject"), sha
            sha = hashlib.sha256(f"{sha} subject {subject[0]:.4f},{subject[1]:.4f}".encode()).hexdigest()
        clip_row = self.store.add_clip(motion, video, source=source, sha256=sha, meta=meta)
        state.clip_id, state.sha256 = clip_row.id, clip_row.sha256
        if clip_row.video_path:  # the stored copy outlives the upload's temp file
            state.video = self.store.path(clip_row.video_path)
        self._activate(session, state, progress)
        return state

    def people(self, session: Session):
        """The open video's people, numbered on a still (`llamo.capture.people.PeopleStill`): asked
        for with a button, not on every upload (it runs the pose model a few more times)."""
        from llamo.capture.people import people_still

        return people_still(_video_of(need_clip(session)))

    def choose_subject(
        self, session: Session, point: tuple[float, float], progress: Progress = no_progress
    ) -> ClipState:
        """Open the video again following the person at `point` (0-1, of the still); the choice
        is stored with the clip (its motion's meta["subject"] and the row's meta)."""
        clip = need_clip(session)
        x, y = (float(v) for v in point)
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise LlamoError("the chosen point must lie on the still.")
        return self.open_file(
            session, _video_of(clip), source=clip.source, title=clip.title, subject=(x, y), progress=progress
        )

    def open_example(self, session: Session, name: str, progress: Progress = no_progress) -> ClipState:
        examples = self.examples()
        if name not in examples:
            raise LlamoError(f"there is no example called {name!r}.")
        return self.open_file(session, examples[name], source="example", title=name, progress=progress)

    def reopen(
        self, session: Session, conversation_id: int, ident, progress: Progress = no_progress
    ) -> ClipState:
        """Load a stored conversation's clip and turns into this tab, corrections shown: a
        reviewer's reopen, or an annotator's own after a reload (`may_reopen`)."""
        rows = self.store.list_turns(conversation=conversation_id, limit=1000)
        if not rows:
            raise LlamoError(f"conversation {conversation_id} has no turns.")
        self.may_reopen(ident, rows[0].annotator)
        sha = rows[0].clip_sha256
        clip_row = self.store.get_clip(sha) if sha else None
        if clip_row is None:
            raise LlamoError("that conversation's clip is no longer stored.")
        progress(0.1, "loading the stored clip")
        motion = self.store.load_motion(clip_row)
        video = self.store.path(clip_row.video_path) if clip_row.video_path else None
        title = (clip_row.meta or {}).get("title") or sha[:12]
        state = ClipState(
            motion=motion,
            title=title,
            source=clip_row.source,
            clip_id=clip_row.id,
            sha256=sha,
            kind="video" if video else "motion",
        )
        video = video if video and video.is_file() else None
        state.video = video
        self._install(session, state, video=video, progress=progress)
        for row in sorted(rows, key=lambda r: r.position):
            session.turns.append(
                ChatTurn(
                    question=row.question,
                    answer=row.answer or "",
                    turn_id=row.turn_id,
                    corrected=row.correction,
                    correction_id=row.correction_id,
                    check=row.flag,
                    grounded=row.grounded,
                )
            )
        return state

    def _install(self, session: Session, state: ClipState, *, video: Path | None, progress: Progress) -> None:
        self._prepare(state, session.workdir, video=video, progress=progress)
        self._activate(session, state, progress)

    def _prepare(self, state: ClipState, workdir: Path, *, video: Path | None, progress: Progress) -> None:
        """The views, repetitions and summary: everything that can fail, before the tab changes."""
        motion = state.motion
        progress(0.8, "drawing the views")
        state.reps = views_io.repetitions(motion)
        state.views = views_io.render(
            motion,
            video,
            workdir / f"clip{time.monotonic_ns()}",
            progress=scaled(progress, 0.8, 0.99),
            reps=state.reps,
        )
        state.info = {
            "title": state.title,
            "duration": motion.duration,
            "fps": motion.fps,
            "num_frames": motion.num_frames,
            "person_pct": 100.0 * motion.person_fraction,
            "warnings": list(motion.warnings),
            "reps": getattr(state.reps, "count", None),
            "rep_signal": getattr(state.reps, "signal_name", ""),
            "model_reads": self._model_reads(motion),
            # what the model is told about the clip (models with config.evidence read the short
            # form), shown in full so an expert can check what answers rest on
            "measured": measure(motion).report,
        }

    def _activate(self, session: Session, state: ClipState, progress: Progress) -> None:
        session.clip = state
        session.span = (0.0, state.motion.duration)
        session.cursor = 0.0
        session.reset_chat()
        progress(1.0, "ready")

    def _model_reads(self, motion: Motion) -> list[dict]:
        """The model's summary tokens in words (empty for models without them)."""
        if self.model.summary is None:
            return []
        try:
            return self.model.motion_summary(self.model.encode_motion(motion))
        except LlamoError:  # e.g. past the model's length limit: the chat says so when asked
            return []

    def examples(self) -> dict[str, Path]:
        d = self.config.examples_dir
        return {p.stem: p for p in sorted(d.glob("*.npz"))} if d.is_dir() else {}

    def example_questions(self, session: Session) -> list[str]:
        qs = ["What is the person doing?", "Describe the movement step by step."]
        clip = session.clip
        if clip is not None:
            if clip.info.get("reps"):
                qs.insert(1, "How many repetitions does the person do?")
            qs.append("Which body parts move the most?")
            if clip.motion.duration > 4:
                qs.append("What changes between the start and the end of the clip?")
            qs.append("Is the movement done with good form?")
        return qs

    # ---- cursor and span -----------------------------------------------------------------

    def set_span(self, session: Session, start: float, end: float) -> tuple[float, float]:
        clip = need_clip(session)
        start, end = float(start or 0.0), float(end or clip.motion.duration)
        start = max(0.0, min(start, clip.motion.duration))
        end = max(0.0, min(end, clip.motion.duration))
        if end < start:
            start, end = end, start
        if end - start < 2.0 / clip.motion.fps:
            raise LlamoError("the range must cover at least two frames.")
        session.span = (start, end)
        return session.span

    def frame_at(self, session: Session, seconds: float) -> int:
        clip = need_clip(session)
        return int(max(0, min(clip.motion.num_frames - 1, round(float(seconds) * clip.motion.fps))))


def _video_of(clip: ClipState) -> Path:
    if clip.kind != "video" or clip.video is None or not clip.video.is_file():
        raise LlamoError("only a clip opened from a video has people to choose from; upload a video first.")
    return clip.video


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
