"""One browser tab's state and the small value types the app passes around: `Session` (a
gr.State value), the clip it has open, its chat turns and the sampling settings.

Plain data with no model, store or UI in it, so every part of the app (and the tests) can
share it without importing each other.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from llamo.errors import LlamoError
from llamo.motion import Motion

Progress = Callable[[float, str], None]
REGENERATE_TEMPERATURE = 0.7  # "answer again" at temperature 0 would say the same thing again


def no_progress(fraction: float, message: str) -> None:
    """The default progress callback: callers without a progress bar."""


def scaled(progress: Progress, lo: float, hi: float) -> Progress:
    """A sub-step's progress (0..1) mapped into [lo, hi] of the caller's bar."""

    def inner(fraction: float, message: str = "") -> None:
        progress(lo + (hi - lo) * max(0.0, min(1.0, float(fraction))), message)

    return inner


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
    check: str = ""  # where the answer and the measurement disagree (llamo.answer_check), one sentence
    grounded: str = ""  # how the answer's count, time or side was measured (llamo.grounding)

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
    video: Path | None = None  # a video clip's file (the stored copy once saved): the people picker reads it


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
        self.picked = -1  # the answer the expert picked in the form while one was being written

    def __deepcopy__(self, memo):  # gr.State deep-copies values; never copy a model session
        return self

    def close(self) -> None:
        self.stop.set()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def reset_chat(self) -> None:
        self.chat, self.chat_span, self.conversation_id, self.turns, self.selected = None, None, None, [], -1

    @property
    def selected_turn(self) -> ChatTurn | None:
        """The answer whose details (where the model looked, the correction box) are shown."""
        return self.turns[self.selected] if 0 <= self.selected < len(self.turns) else None


def need_clip(session: Session | None) -> ClipState:
    """The session's open clip, or the sentence that asks for one."""
    if session is None or session.clip is None:
        raise LlamoError("bring a clip first: upload a video or motion file, or pick an example.")
    return session.clip


@dataclass
class Settings:
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 160
    seed: int | None = None
    min_new_tokens: int = 0  # end-of-turn suppressed until then (tests and benchmarks: fixed lengths)

    def for_regenerate(self, n: int) -> Settings:
        """The settings of the n-th regeneration: sampled (greedy would repeat the answer) and,
        with a fixed seed, another seed each time (the same seed draws the same sample)."""
        temperature = self.temperature if self.temperature > 0 else REGENERATE_TEMPERATURE
        seed = None if self.seed is None else int(self.seed) + n
        return replace(self, temperature=temperature, seed=seed)

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
