"""Continuous batching across chat sessions: one thread owns the model and advances every active
answer together, one batched forward per decode step.

Why our own and not transformers' `ContinuousBatchingManager` / `generate_batch` (5.x): those
take prompts as `input_ids` only and keep requests in their own paged cache for one generation.
LLaMo's prompts carry motion embeddings spliced into `inputs_embeds` (LLaVA-style
masked_scatter), and each chat keeps its KV cache across turns so a follow-up question prefills
only its new tokens. So the prompts are built by `ChatSession.begin`, and the prefill and decode
steps are batched here, over the sessions' own `DynamicCache`s (`llamo.serving.batch_cache`).

The loop: take new turns (the turns that arrived together are prefilled in one forward,
`llamo.serving.prefill`, and their first tokens sampled at once, so time to first token is one
prefill, not a wait for the batch), add the joining rows to the batch, run one forward for all
rows, let each row's `TurnDecoder` sample with its own settings and generator, push the deltas
to each caller's queue, and hand finished rows their caches back (the batch drops them in place).
Callers read their answer as an iterator, as from `ChatSession.ask`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from llamo.errors import LlamoError
from llamo.serving.batch_cache import BatchCache
from llamo.serving.prefill import prefill_one, prefill_together
from llamo.serving.turn import Sampling, TurnDecoder

if TYPE_CHECKING:
    from llamo.chat import ChatSession

_END = object()  # the answer is complete (the session's last_turn is final)


@dataclass
class _Job:
    """One turn in the scheduler: where its deltas go and how far it has been fed."""

    session: ChatSession
    question: str
    regenerate: bool
    sampling: Sampling
    stop: threading.Event | None
    t_submit: float
    out: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    cancel: threading.Event = field(default_factory=threading.Event)  # the caller went away
    done: threading.Event = field(default_factory=threading.Event)
    decoder: TurnDecoder | None = None
    fed: list[int] = field(default_factory=list)  # fed in batched steps, not yet in session.kv.fed


class Scheduler:
    """Owns `model` for generation; `ask`/`regenerate` work like the ChatSession methods of the
    same names, but many sessions' answers advance in one batch. Start it once per model."""

    def __init__(self, model, max_batch: int = 32) -> None:
        self.model = model
        self.max_batch = max_batch
        self._inbox: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.steps = 0  # batched forwards run (for benchmarks and tests)
        self.rows_stepped = 0  # rows summed over those forwards
        self.prefilled_together = 0  # turns whose prefill shared a forward with another's

    # ---- callers ---------------------------------------------------------------------------

    def ask(self, session: ChatSession, question: str, **kwargs) -> Iterator[str]:
        """Stream the answer's deltas (kwargs as `ChatSession.ask`)."""
        return self._stream(self._job(session, question, False, kwargs))

    def regenerate(self, session: ChatSession, **kwargs) -> Iterator[str]:
        """Answer the session's last question again (kwargs as `ChatSession.ask`)."""
        if session.last_turn is None:
            raise LlamoError("there is no question to answer again.")
        return self._stream(self._job(session, session.last_turn.question, True, kwargs))

    def close(self) -> None:
        """Finish the answers in progress, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._inbox.put(None)
        if thread is not None:
            thread.join()

    def _job(self, session, question: str, regenerate: bool, kwargs: dict) -> _Job:
        unknown = set(kwargs) - {"temperature", "top_p", "max_new_tokens", "stop", "seed", "min_new_tokens"}
        if unknown:
            raise TypeError(f"unexpected arguments: {sorted(unknown)}")
        stop = kwargs.pop("stop", None)
        return _Job(session, question, regenerate, Sampling(**kwargs), stop, time.perf_counter())

    def _stream(self, job: _Job) -> Iterator[str]:
        self._submit(job)
        try:
            while True:
                item = job.out.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:  # also when the caller closes the iterator early: the turn is ended and saved
            job.cancel.set()
            job.done.wait()

    def _submit(self, job: _Job) -> None:
        with self._lock:
            if self._closed:
                raise LlamoError("the generation scheduler has been closed.")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="llamo-scheduler", daemon=True)
                self._thread.start()
        self._inbox.put(job)

    # ---- the model's thread ----------------------------------------------------------------

    def _loop(self) -> None:
        active: list[_Job] = []
        batch: BatchCache | None = None
        while active or not self._closed:
            joined = self._admit(block=not active, room=self.max_batch - len(active))
            if joined is None:
                return
            try:
                active, batch = self._advance(active, batch, joined)
            except BaseException as exc:  # noqa: BLE001 - every waiting caller gets the error
                for job in active + joined:
                    if not job.done.is_set():
                        job.session.kv.forget()  # re-prefilled next turn
                        self._end(job, exc)
                active, batch = [], None

    def _advance(self, active: list[_Job], batch: BatchCache | None, joined: list[_Job]):
        """Let `joined` in, run one step, let the finished out: the new (active, batch)."""
        if joined:
            caches = [job.session.kv.cache for job in joined]
            batch = batch.extended(caches) if batch is not None else BatchCache(caches)
            active = active + joined
        if not active:
            return active, batch
        self._step(active, batch)
        leaving = [i for i, j in enumerate(active) if j.decoder.done or j.cancel.is_set()]
        if leaving:
            for i in leaving:  # the leaving rows take their caches back; the rest stay batched
                self._give_back(active[i], batch, i)
                self._end(active[i])
            staying = [i for i in range(len(active)) if i not in leaving]
            if staying:
                batch.keep(staying)
            active, batch = [active[i] for i in staying], (batch if staying else None)
        return active, batch

    def _admit(self, block: bool, room: int) -> list[_Job] | None:
        """New turns from the inbox (waiting for one when idle), prefilled together, first token
        sampled; those that already ended are closed here. None: the scheduler is closing."""
        taken: list[_Job] = []
        while len(taken) < room:
            try:
                job = self._inbox.get(block=block and not taken)
            except queue.Empty:
                break
            if job is None:  # close(): stop waiting once the answers in progress are done
                if block and not taken:
                    return None
                continue
            taken.append(job)
        joined: list[_Job] = []
        while taken:  # a session asked twice in one admission is prefilled in the next round
            group, taken = _distinct_sessions(taken)
            joined += self._start(group)
        return joined

    def _start(self, jobs: list[_Job]) -> list[_Job]:
        """Prompts, one prefill forward for all, first tokens; the jobs whose answers go on."""
        begun = []
        for job in jobs:
            try:
                job.decoder = job.session.begin(
                    job.question, job.regenerate, job.sampling, job.stop, t_start=job.t_submit, defer_prefill=True
                )  # fmt: skip
                begun.append(job)
            except BaseException as exc:  # noqa: BLE001 - the caller raises it
                job.out.put(exc)
                job.done.set()
        if not begun:
            return []
        try:
            t0 = time.perf_counter()
            with torch.inference_mode():
                if len(begun) == 1:  # alone: exactly the unbatched path
                    done = [prefill_one(begun[0].session)]
                else:
                    done = prefill_together(self.model, [job.session for job in begun])
                    self.prefilled_together += len(begun)
            elapsed = time.perf_counter() - t0
        except BaseException as exc:  # noqa: BLE001 - every caller in the group gets it
            for job in begun:
                job.session.pending = None
                job.session.kv.forget()
                self._end(job, exc)
            return []
        going = []
        for job, p in zip(begun, done, strict=True):
            d = job.decoder
            d.logits, d.prefill_s, d.input_tokens = p.logits, elapsed, p.new_tokens
            if self._first_token(job):
                going.append(job)
        return going

    def _first_token(self, job: _Job) -> bool:
        """Sample the first token; True when the answer goes on (it joins the batch)."""
        try:
            with torch.inference_mode():
                delta = job.decoder.step(job.decoder.logits)
        except BaseException as exc:  # noqa: BLE001 - the caller raises it
            self._end(job, exc)
            return False
        if delta:
            job.out.put(delta)
        if job.decoder.done or job.cancel.is_set():
            self._end(job)
            return False
        return True

    def _step(self, active: list[_Job], batch: BatchCache) -> None:
        """One forward for every active row; each row samples its next token."""
        tokens = [job.decoder.token for job in active]
        inputs = batch.step_inputs(tokens)
        with torch.inference_mode():
            logits = self.model.llm(**inputs).logits[:, -1]
            batch.advance(inputs)
            self.steps += 1
            self.rows_stepped += len(active)
            for i, job in enumerate(active):
                job.fed.append(tokens[i])
                delta = job.decoder.step(logits[i])
                if delta:
                    job.out.put(delta)

    @staticmethod
    def _give_back(job: _Job, batch: BatchCache, i: int) -> None:
        """Row i's cache, without the padding, becomes its session's again."""
        job.session.kv.cache = batch.row(i)
        job.session.kv.fed.extend(job.fed)
        job.fed = []

    def _end(self, job: _Job, error: BaseException | None = None) -> None:
        try:
            job.session.end(job.decoder)
        finally:
            job.out.put(error if error is not None else _END)
            job.done.set()


def _distinct_sessions(jobs: list[_Job]) -> tuple[list[_Job], list[_Job]]:
    """(the first job of each session, the rest), in arrival order."""
    group, rest, seen = [], [], set()
    for job in jobs:
        (rest if id(job.session) in seen else group).append(job)
        seen.add(id(job.session))
    return group, rest
