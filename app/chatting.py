"""Asking about the clip: the question check, streamed answers, regenerate, stop and clear, and
saving each answer as a store candidate. A part of `LlamoApp` (see app/core.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from app.gpu import gpu
from app.identity import Identity
from app.session import ChatTurn, ClipState, Session, Settings, need_clip
from llamo.errors import LlamoError

MAX_QUESTION = 2000  # characters; longer questions are refused with a message


@dataclass
class _TurnContext:
    """The conversation an answer belongs to, fixed when the answer starts."""

    chat: object  # llamo.chat.ChatSession
    fps: float
    offset: float  # seconds: where the asked span starts in the clip
    conversation_id: int | None


class ChatMixin:
    """Uses the host's `model`, `store`, `scheduler`, `annotator()` and `_describe` (LlamoApp
    sets them)."""

    def check_question(self, session: Session | None, question: str | None) -> str:
        """The one question check (the UI's validator calls it before the queue, `ask` after):
        the stripped question, or a LlamoError saying what is wrong."""
        question = (question or "").strip()
        if not question:
            raise LlamoError("type a question about the clip.")
        if len(question) > MAX_QUESTION:
            raise LlamoError(
                f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION:,}."
            )
        need_clip(session)
        return question

    def ask(
        self, session: Session, question: str, settings: Settings, ident: Identity | None
    ) -> Iterator[ChatTurn]:
        """Stream an answer: yields the growing ChatTurn after each text delta; at the end the
        turn and its candidate are in the store."""
        question = self.check_question(session, question)
        with _one_at_a_time(session):
            if session.chat is None or session.chat_span != session.span:
                self._new_conversation(session, session.clip, settings, ident)
            turn = ChatTurn(question=question)
            session.turns.append(turn)
            yield from self._generate(session, turn, regenerate=False, settings=settings)

    def regenerate(self, session: Session, settings: Settings, ident: Identity | None) -> Iterator[ChatTurn]:
        """Answer the last question again, sampled (`Settings.for_regenerate`); the new answer is
        another candidate of the same turn. A saved correction stays the turn's answer: the chat
        and the correction box keep showing it, the new candidate is shown beside it."""
        if session.chat is None or not session.turns or session.turns[-1].turn_id is None:
            raise LlamoError("there is no answer to regenerate yet; ask a question first.")
        with _one_at_a_time(session):
            turn = session.turns[-1]
            turn.answer, turn.partial, turn.timings, turn.looked = "", False, {}, []
            turn.check = turn.grounded = ""
            turn.regenerations += 1
            settings = settings.for_regenerate(turn.regenerations)
            yield from self._generate(session, turn, regenerate=True, settings=settings)

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
        # What the save needs, taken now: a tab closed mid-answer frees its session (registry.free)
        # before this generator's `finally` stores the partial answer.
        ctx = _TurnContext(session.chat, session.clip.motion.fps, (session.chat_span or (0.0, 0.0))[0],
                           session.conversation_id)  # fmt: skip
        from llamo.serving.snapshot import Answered  # torch: only once a question is asked

        if self.scheduler is not None:  # batched with the other tabs' answers (AppConfig.batched)
            stream = _batched(self.scheduler, session.chat, turn.question, regenerate, kwargs)
        else:  # one by one; on ZeroGPU inside the GPU call
            stream = _stream(session.chat, turn.question, regenerate, kwargs)
        finished = False
        try:
            for item in stream:
                if isinstance(item, Answered):  # the GPU call's result: the conversation after the turn
                    session.chat = ctx.chat = item.chat
                    finished = True
                    continue
                turn.answer += item
                yield turn
        finally:  # also when the tab closes mid-answer (Gradio drops this generator): keep what was said
            if not finished:  # stop the answer and take the conversation it ends with
                session.stop.set()
                ctx.chat = next((i.chat for i in stream if isinstance(i, Answered)), ctx.chat)
                if session.chat is not None:  # still open (a closed tab's session was freed)
                    session.chat = ctx.chat
            stream.close()
            self._save_candidate(session, ctx, turn, regenerate, settings)
        yield turn

    def _save_candidate(
        self, session: Session, ctx, turn: ChatTurn, regenerate: bool, settings: Settings
    ) -> None:
        result = ctx.chat.last_turn if ctx.chat is not None else None
        if result is None or result.question != turn.question or not result.timings:
            if turn.turn_id is None and turn in session.turns:  # nothing was generated: no ghost turn
                session.turns.remove(turn)
            return
        offset, fps = ctx.offset, ctx.fps
        turn.answer, turn.partial, turn.timings = result.answer, result.partial, dict(result.timings)
        turn.stopped = result.partial and session.stop.is_set()
        turn.check, turn.grounded = _measured_check(ctx.chat, turn), result.grounded
        scores = result.frame_scores or [1.0] * len(result.selected_frames)
        turn.looked = [
            (offset + f / fps, float(sc)) for f, sc in zip(result.selected_frames, scores, strict=False)
        ]
        session.selected = session.turns.index(turn) if turn in session.turns else len(session.turns) - 1
        timings = {
            **turn.timings,
            "selected_frames": list(result.selected_frames),
            "frame_scores": [round(float(sc), 4) for sc in result.frame_scores],
            "grounded": result.grounded,
        }
        if turn.turn_id is None:
            turn.turn_id = self.store.add_turn(ctx.conversation_id, turn.question, timings=timings).id
        cand = self.store.add_candidate(turn.turn_id, turn.answer, partial=turn.partial, regenerated=regenerate,
                                        timings=timings, settings=settings.kwargs(),
                                        measured_flag=turn.check)  # fmt: skip
        turn.candidate_ids.append(cand.id)

    def stop(self, session: Session, wait_s: float = 5.0) -> str:
        """Stop the answer being written. "idle": none was (the answer had ended); "stopped": it
        ended within `wait_s`, its partial text saved; "stopping": it has not ended yet."""
        if not session.busy.locked():
            return "idle"
        session.stop.set()
        if session.busy.acquire(timeout=wait_s):
            session.busy.release()
            return "stopped"
        return "stopping"

    def clear(self, session: Session) -> None:
        """Forget the conversation (the stored turns stay); the next question starts a new one."""
        session.stop.set()
        session.reset_chat()


def _measured_check(chat, turn: ChatTurn) -> str:
    """The answer against the clip's measured facts: a sentence where they disagree, else ""."""
    from llamo.answer_check import flag_of

    if turn.partial or chat.measured is None:
        return ""
    return flag_of(turn.question, turn.answer, chat.measured)


class _one_at_a_time:
    """Hold the tab's generation lock for one answer, or refuse at once: a second click while
    an answer streams says so instead of queueing behind it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> None:
        if not self.session.busy.acquire(blocking=False):
            raise LlamoError("an answer is still being written; stop it or wait.")

    def __exit__(self, *exc) -> None:
        self.session.busy.release()


@gpu(duration=60)
def _stream(chat, question: str, regenerate: bool, kwargs: dict) -> Iterator:
    """The GPU part of answering (ZeroGPU holds a GPU only while this runs, in another
    process): pure, so the tab's conversation is never mutated inside it. It yields the
    text deltas, then `Answered(new conversation)`, which `_generate` puts in the session."""
    from llamo.serving.snapshot import answer_turn

    yield from answer_turn(chat, question, regenerate, kwargs)


def _batched(scheduler, chat, question: str, regenerate: bool, kwargs: dict) -> Iterator:
    """`_stream`'s items from the app's one `llamo.serving.Scheduler`, which decodes every tab's
    answer in one batch. Not on ZeroGPU (its model thread would outlive the per-call GPU
    process), so here the conversation advances in place and `Answered` hands back the same one.
    Closing this early ends the turn (the scheduler fills `chat.last_turn` before returning)."""
    from llamo.serving.snapshot import Answered

    yield from scheduler.regenerate(chat, **kwargs) if regenerate else scheduler.ask(chat, question, **kwargs)
    yield Answered(chat)
