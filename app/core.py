"""The app's behaviour without the UI: `LlamoApp` wires the motion pipeline, the views, the model
and the annotation store; `Session` is one browser tab's state. Tests drive these directly.

No model, capture or SQL logic lives here: each step is a library call (llamo.importers,
llamo.views, llamo.chat, annotations.store/export), plus the checks and bookkeeping a
multi-user web app needs (limits, identity, which store row a chat message belongs to).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app import views_io
from app.config import TAGS, AppConfig
from app.gpu import gpu
from app.identity import Identity
from llamo.errors import LlamoError
from llamo.motion import Motion

Progress = Callable[[float, str], None]
try:
    from llamo.importers import MOTION_SUFFIXES, VIDEO_SUFFIXES
except ImportError:  # pragma: no cover - before the importers existed
    VIDEO_SUFFIXES, MOTION_SUFFIXES = (
        (".mp4", ".mov", ".webm", ".avi", ".mkv", ".m4v"),
        (".npz", ".npy", ".bvh"),
    )
MAX_QUESTION = 2000  # characters; longer questions are refused with a message


def _noop(fraction: float, message: str) -> None:
    pass


@dataclass
class ChatTurn:
    """One exchange as the UI shows it, with the store rows it was saved to."""

    question: str
    answer: str = ""
    partial: bool = False
    timings: dict = field(default_factory=dict)
    looked: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the clip, score)
    turn_id: int | None = None
    candidate_ids: list[int] = field(default_factory=list)
    corrected: str | None = None
    correction_id: int | None = None
    regenerations: int = 0
    stopped: bool = False  # the user pressed Stop (partial without it = hit the token limit)

    @property
    def looked_times(self) -> list[float]:
        return [t for t, _ in self.looked]


@dataclass
class ClipState:
    motion: Motion
    title: str
    source: str  # upload | example | import (the store's sources)
    clip_id: int | None = None
    sha256: str = ""
    kind: str = "motion"  # video | motion
    views: dict = field(default_factory=dict)  # overlay (mp4), glb, skeleton (fig), kinematics (fig)
    reps: object | None = None  # llamo.kinematics.Repetitions
    info: dict = field(default_factory=dict)


class Session:
    """One tab's state (a gr.State value). Holds no global resources but a temp folder."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="llamo-session-"))
        self.clip: ClipState | None = None
        self.span: tuple[float, float] | None = None  # seconds the user asks about
        self.chat = None  # llamo.chat.ChatSession over the asked span
        self.chat_span: tuple[float, float] | None = None
        self.conversation_id: int | None = None
        self.turns: list[ChatTurn] = []
        self.stop = threading.Event()
        self.busy = threading.Lock()  # one generation per tab at a time
        self.cursor = 0.0
        self.selected = -1  # which answer's "where the model looked" is shown

    def __deepcopy__(self, memo):  # gr.State deep-copies values; never copy a model session
        return self

    def close(self) -> None:
        self.stop.set()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def reset_chat(self) -> None:
        self.chat, self.chat_span, self.conversation_id, self.turns, self.selected = None, None, None, [], -1


@dataclass
class Settings:
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 160
    seed: int | None = None
    min_new_tokens: int = 0  # end-of-turn suppressed until then (tests and benchmarks: fixed lengths)

    def kwargs(self) -> dict:
        kw = {
            "temperature": float(self.temperature),
            "top_p": float(self.top_p),
            "max_new_tokens": int(self.max_new_tokens),
            "seed": self.seed,
        }
        if self.min_new_tokens:
            kw["min_new_tokens"] = min(int(self.min_new_tokens), int(self.max_new_tokens))
        return kw


class LlamoApp:
    """Everything the UI does, as methods. `model` is a loaded llamo Llamo; `store` an
    annotations Store. Both are handles passed in (tests inject a tiny model and a temp store)."""

    def __init__(self, model, store, config: AppConfig | None = None) -> None:
        self.model = model
        self.store = store
        self.config = config or AppConfig()
        self._describe = model.describe() if model is not None else {}

    # ---- identity ------------------------------------------------------------------------

    def annotator(self, ident: Identity):
        """The store's annotator row for an identity. The deployment decides roles: a signed-in
        user's role follows the reviewer list; a typed name may not take over a signed-in one."""
        person = self.store.get_or_create_annotator(ident.name, role=ident.role, auth=ident.auth)
        if ident.auth == "typed" and person.auth not in ("typed", "none"):
            raise LlamoError(f"the name {ident.name!r} belongs to a signed-in annotator; type another name.")
        if ident.auth in ("password", "hf-oauth") and person.role != ident.role:
            person = self.store.set_role(person, ident.role)
        return person

    # ---- bringing a clip -----------------------------------------------------------------

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
            info = views_io.probe(p)
            if info.duration > self.config.max_duration_s:
                raise LlamoError(
                    f"{p.name} lasts {_span(info.duration)}; the limit is {_span(self.config.max_duration_s)}."
                )
            return "video"
        if suffix in MOTION_SUFFIXES:
            return "motion"
        raise LlamoError(
            f"{p.suffix or 'a file without a suffix'} is not supported; use a video "
            f"({', '.join(VIDEO_SUFFIXES)}) or a motion file ({', '.join(MOTION_SUFFIXES)})."
        )

    def open_file(
        self,
        session: Session,
        path,
        *,
        source: str = "upload",
        title: str | None = None,
        progress: Progress = _noop,
    ) -> ClipState:
        kind = self.check_upload(path)
        path = Path(path)
        progress(0.02, "reading the file")
        motion = views_io.load_motion(
            path,
            fps=self.config.video_fps if kind == "video" else None,
            max_duration=self.config.max_duration_s,
            progress=_scaled(progress, 0.02, 0.75),
        )
        if motion.num_frames < 2:
            raise LlamoError(f"{path.name} holds fewer than 2 frames of motion.")
        if motion.duration > self.config.max_duration_s + 1e-6:
            raise LlamoError(
                f"{path.name} lasts {_span(motion.duration)}; the limit is {_span(self.config.max_duration_s)}."
            )
        if kind == "video" and motion.person_fraction == 0.0:
            raise LlamoError(f"no person was found in {path.name}.")
        progress(0.76, "saving the clip")
        clip_row = self.store.add_clip(
            motion,
            path if kind == "video" else None,
            source=source,
            sha256=None if kind == "video" else _sha(path),
            meta={"title": title or path.name, "kind": kind},
        )
        state = ClipState(
            motion=motion,
            title=title or path.name,
            source=source,
            clip_id=clip_row.id,
            sha256=clip_row.sha256,
            kind=kind,
        )
        self._install(session, state, video=path if kind == "video" else None, progress=progress)
        return state

    def open_example(self, session: Session, name: str, progress: Progress = _noop) -> ClipState:
        examples = self.examples()
        if name not in examples:
            raise LlamoError(f"there is no example called {name!r}.")
        return self.open_file(session, examples[name], source="example", title=name, progress=progress)

    def reopen(self, session: Session, conversation_id: int, progress: Progress = _noop) -> ClipState:
        """Load a stored conversation's clip and turns into this tab (review: reopen)."""
        rows = self.store.list_turns(conversation=conversation_id, limit=1000)
        if not rows:
            raise LlamoError(f"conversation {conversation_id} has no turns.")
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
        self._install(session, state, video=video if video and video.is_file() else None, progress=progress)
        for row in sorted(rows, key=lambda r: r.position):
            session.turns.append(
                ChatTurn(
                    question=row.question,
                    answer=row.answer or "",
                    turn_id=row.turn_id,
                    corrected=row.correction,
                    correction_id=row.correction_id,
                )
            )
        return state

    def _install(self, session: Session, state: ClipState, *, video: Path | None, progress: Progress) -> None:
        motion = state.motion
        progress(0.8, "drawing the views")
        state.reps = views_io.repetitions(motion)
        state.views = views_io.render(
            motion,
            video,
            session.workdir / f"clip{time.monotonic_ns()}",
            progress=_scaled(progress, 0.8, 0.99),
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
        }
        session.clip = state
        session.span = (0.0, motion.duration)
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
        clip = self._need_clip(session)
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
        clip = self._need_clip(session)
        return int(max(0, min(clip.motion.num_frames - 1, round(float(seconds) * clip.motion.fps))))

    # ---- chat ----------------------------------------------------------------------------

    def ask(
        self, session: Session, question: str, settings: Settings, ident: Identity | None
    ) -> Iterator[ChatTurn]:
        """Stream an answer: yields the growing ChatTurn after each text delta; at the end the
        turn and its candidate are in the store."""
        question = (question or "").strip()
        if not question:
            raise LlamoError("the question is empty; type a question about the clip.")
        if len(question) > MAX_QUESTION:
            raise LlamoError(
                f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION:,}."
            )
        clip = self._need_clip(session)
        if not session.busy.acquire(blocking=False):
            raise LlamoError("an answer is still being written; stop it or wait.")
        try:
            if session.chat is None or session.chat_span != session.span:
                self._new_conversation(session, clip, settings, ident)
            turn = ChatTurn(question=question)
            session.turns.append(turn)
            yield from self._generate(session, turn, regenerate=False, settings=settings)
        finally:
            session.busy.release()

    def regenerate(self, session: Session, settings: Settings, ident: Identity | None) -> Iterator[ChatTurn]:
        """Answer the last question again; the new answer is another candidate of the same turn."""
        if session.chat is None or not session.turns or session.turns[-1].turn_id is None:
            raise LlamoError("there is no answer to regenerate yet; ask a question first.")
        if not session.busy.acquire(blocking=False):
            raise LlamoError("an answer is still being written; stop it or wait.")
        try:
            turn = session.turns[-1]
            turn.answer, turn.partial, turn.timings, turn.looked = "", False, {}, []
            turn.corrected, turn.correction_id = None, None
            turn.regenerations += 1
            yield from self._generate(session, turn, regenerate=True, settings=settings)
        finally:
            session.busy.release()

    def _new_conversation(self, session: Session, clip: ClipState, settings: Settings, ident) -> None:
        from llamo.chat import ChatSession

        start, end = session.span or (0.0, clip.motion.duration)
        fps = clip.motion.fps
        part = (
            clip.motion
            if (start, end) == (0.0, clip.motion.duration)
            else clip.motion.slice(int(round(start * fps)), int(round(end * fps)) + 1)
        )
        session.turns = []
        session.chat = ChatSession(self.model, part)
        session.chat_span = session.span
        who = self.annotator(ident or Identity("anonymous", "annotator", "none"))
        d = self._describe
        conv = self.store.start_conversation(
            clip.clip_id,
            who,
            model_id=str(d.get("checkpoint", "")),
            model_sha=str(d.get("sha", "")),
            backbone=str(d.get("backbone", "")),
            settings={**settings.kwargs(), "span_s": [round(start, 3), round(end, 3)]},
        )
        session.conversation_id = conv.id

    def _generate(self, session: Session, turn: ChatTurn, *, regenerate: bool, settings: Settings):
        session.stop.clear()
        kwargs = {**settings.kwargs(), "stop": session.stop}
        stream = _stream(session.chat, turn.question, regenerate, kwargs)
        try:
            for delta in stream:
                turn.answer += delta
                yield turn
        finally:  # also when the tab closes mid-answer (Gradio drops this generator): keep what was said
            stream.close()
            self._save_candidate(session, turn, regenerate, settings)
        yield turn

    def _save_candidate(self, session: Session, turn: ChatTurn, regenerate: bool, settings: Settings) -> None:
        result = session.chat.last_turn if session.chat is not None else None
        if result is None or result.question != turn.question or not result.timings:
            if turn.turn_id is None and turn in session.turns:  # nothing was generated: no ghost turn
                session.turns.remove(turn)
            return
        offset = (session.chat_span or (0.0, 0.0))[0]
        fps = session.clip.motion.fps
        turn.answer, turn.partial, turn.timings = result.answer, result.partial, dict(result.timings)
        turn.stopped = result.partial and session.stop.is_set()
        scores = result.frame_scores or [1.0] * len(result.selected_frames)
        turn.looked = [
            (offset + f / fps, float(sc)) for f, sc in zip(result.selected_frames, scores, strict=False)
        ]
        session.selected = session.turns.index(turn) if turn in session.turns else len(session.turns) - 1
        timings = {
            **turn.timings,
            "selected_frames": list(result.selected_frames),
            "frame_scores": [round(float(sc), 4) for sc in result.frame_scores],
        }
        if turn.turn_id is None:
            turn.turn_id = self.store.add_turn(session.conversation_id, turn.question, timings=timings).id
        cand = self.store.add_candidate(turn.turn_id, turn.answer, partial=turn.partial, regenerated=regenerate,
                                        timings=timings, settings=settings.kwargs())  # fmt: skip
        turn.candidate_ids.append(cand.id)

    def stop(self, session: Session) -> None:
        session.stop.set()

    def clear(self, session: Session) -> None:
        """Forget the conversation (the stored turns stay); the next question starts a new one."""
        session.stop.set()
        session.reset_chat()

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

    # ---- review --------------------------------------------------------------------------

    def _need_reviewer(self, ident: Identity | None) -> Identity:
        if ident is None or not ident.is_reviewer:
            raise LlamoError("only reviewers can do this.")
        return ident

    def review_rows(
        self,
        ident: Identity | None,
        *,
        status: str = "",
        annotator: str = "",
        tag: str = "",
        clip: str = "",
        limit: int = 200,
    ) -> list[dict]:
        self._need_reviewer(ident)
        rows = self.store.list_turns(
            status=status or None, annotator=annotator or None, clip_sha256=clip or None, limit=limit
        )
        out = []
        for r in rows:
            tags: list[str] = []
            if r.correction_id is not None:
                fixes = self.store.corrections(r.turn_id)
                tags = list(fixes[-1].tags or []) if fixes else []
            if tag and tag not in tags:
                continue
            out.append(
                {
                    "turn": r.turn_id,
                    "conversation": r.conversation_id,
                    "status": r.status,
                    "annotator": r.annotator,
                    "clip": (r.clip_sha256 or "")[:12],
                    "tags": ", ".join(tags),
                    "question": r.question,
                    "answer": r.answer or "",
                    "correction": r.correction or "",
                    "correction_id": r.correction_id,
                }
            )
        return out

    def review(
        self, ident: Identity | None, turn_id: int, action: str, text: str = "", note: str = ""
    ) -> str:
        """accept | reject the turn's latest correction, or edit (save the reviewer's own
        revision and accept it)."""
        ident = self._need_reviewer(ident)
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
    ) -> tuple[Path, object]:
        """Write the store's export into a fresh folder and zip it. Returns (zip, summary)."""
        if self.config.users or self.config.on_spaces:
            self._need_reviewer(ident)  # on a shared deployment only reviewers take data out
        from annotations.export import export_dataset

        out_root = Path(out_root or tempfile.mkdtemp(prefix="llamo-export-"))
        folder = out_root / f"llamo-{fmt}-{time.strftime('%Y%m%d-%H%M%S')}"
        summary = views_io.export(export_dataset, self.store, folder, fmt, status=status, annotator=annotator)
        archive = shutil.make_archive(str(folder), "zip", root_dir=folder)
        shutil.rmtree(folder, ignore_errors=True)  # the zip is what the user downloads
        return Path(archive), summary

    def stats(self) -> dict:
        return self.store.stats()

    def model_card(self) -> tuple[dict, str]:
        """The loaded model's description and its checkpoint's evaluation report (markdown)."""
        d = dict(self._describe)
        report = ""
        ckpt = d.get("checkpoint")
        root = Path(__file__).resolve().parents[1]
        if ckpt and Path(ckpt).resolve().is_relative_to(root):  # no server paths on the page
            d["checkpoint"] = str(Path(ckpt).resolve().relative_to(root))
        if ckpt and ckpt != "untrained":
            for name in ("eval.md", "report.md", "README.md"):
                p = Path(ckpt) / name
                if p.is_file():
                    report = p.read_text(errors="replace")
                    break
            prov = Path(ckpt) / "provenance.json"
            if prov.is_file():  # how the checkpoint was made (the training helper's packaging)
                import json

                try:
                    info = json.loads(prov.read_text())
                except (OSError, ValueError):
                    info = {}
                lines = ["", "", "### How this checkpoint was made"]
                for key in ("command", "note", "packaged_utc", "git_commit_at_packaging", "steps", "seconds"):
                    if key in info:
                        lines.append(f"- **{key}**: `{info[key]}`")
                report = (report or "_No evaluation report (eval.md) in this checkpoint._") + "\n".join(lines)
        return d, report

    # ---- helpers -------------------------------------------------------------------------

    def _need_clip(self, session: Session) -> ClipState:
        if session is None or session.clip is None:
            raise LlamoError("bring a clip first: upload a video or motion file, or pick an example.")
        return session.clip


@gpu(duration=60)
def _stream(chat, question: str, regenerate: bool, kwargs: dict) -> Iterator[str]:
    """The GPU part of answering (ZeroGPU holds a GPU only while this runs)."""
    it = chat.regenerate(**kwargs) if regenerate else chat.ask(question, **kwargs)
    yield from it


def _scaled(progress: Progress, lo: float, hi: float) -> Progress:
    def inner(fraction: float, message: str = "") -> None:
        progress(lo + (hi - lo) * max(0.0, min(1.0, float(fraction))), message)

    return inner


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _sha(path: Path) -> str:
    from llamo.fileio import sha256_file

    return sha256_file(path)
