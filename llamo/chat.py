"""Streaming multi-turn chat about one motion clip, with the KV cache carried across turns.

The clip is encoded once (motion encoder + enhancer). Each question then costs: the Cross Talker
for that question (K tokens), a prefill of only the new tokens (the previous answer's tail, the
question and its K motion tokens, the template), and decoding. When the context would pass the
backbone's `max_position_embeddings`, the oldest exchanges are dropped from the prompt and the
rest is prefilled again (the question-independent motion tokens move to the first kept turn).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from llamo.backbone import stop_token_ids
from llamo.errors import LlamoError
from llamo.evidence import Evidence, measure, with_evidence
from llamo.grounding import COUNT_UNITS, banned_words, grounded_count, grounded_side, grounded_time
from llamo.motion import Motion
from llamo.serving.constrain import NumberConstraint, Vocabulary, WordsConstraint
from llamo.serving.turn import Sampling, TurnDecoder


@dataclass
class TurnResult:
    question: str
    answer: str = ""
    partial: bool = False
    timings: dict = field(default_factory=dict)
    selected_frames: list[int] = field(default_factory=list)  # motion frame indices
    frame_scores: list[float] = field(default_factory=list)
    grounded: str = ""  # how the answer's count, time or side was measured (llamo.grounding), or ""


@dataclass
class _Record:
    """What the prompt needs to hold one exchange (kept even when the turn is trimmed away)."""

    question: str
    motion_embeds: torch.Tensor | None  # (n, H): this question's tokens (per-turn modes)
    answer_ids: list[int] = field(default_factory=list)
    cache_before: int = 0  # tokens in the cache before this exchange's prefill


@dataclass
class KVMemory:
    """The backbone's keys and values for the tokens fed so far. The serving scheduler stacks
    several sessions' memories into one batch and hands each its row back."""

    cache: object | None = None
    fed: list[int] = field(default_factory=list)  # ids whose keys/values are in the cache

    def forget(self) -> None:
        self.cache, self.fed = None, []


@dataclass
class _Started:
    prefill_s: float
    n_new: int  # tokens prefilled (0 when deferred)
    logits: torch.Tensor | None  # (V,) next-token logits; None when the prefill is deferred
    record: _Record


class ChatSession:
    def __init__(self, model, motion: Motion | None, video_pixels: torch.Tensor | None = None):
        self.model = model
        self.motion = motion
        self.video_pixels = video_pixels
        self.tok = model.tokenizer
        self.state = None  # MotionState, computed on the first question
        self.turns: list[TurnResult] = []
        self._records: list[_Record] = []
        self._first_kept = 0  # records before this index were trimmed from the prompt
        self.kv = KVMemory()
        self.pending: tuple[list[int], list[torch.Tensor]] | None = None  # a deferred prefill
        self.stop_ids = self._stop_ids()
        self.max_positions = int(getattr(model.llm.config, "max_position_embeddings", 0) or 1 << 30)
        self._measured: Evidence | None = None
        self._vocab: Vocabulary | None = None  # for grounded answers (llamo.serving.constrain)

    @property
    def measured(self) -> Evidence | None:
        """The clip's measured facts (`llamo.evidence`), for the expert beside every answer."""
        if self._measured is None and self.motion is not None:
            self._measured = measure(self.motion)
        return self._measured

    @property
    def evidence(self) -> str:
        """The text opening the first question, for models trained with it; else ""."""
        if not getattr(self.model.config, "evidence", False) or self.motion is None:
            return ""
        return self.measured.text

    # ---- public ----------------------------------------------------------------------------

    @property
    def last_turn(self) -> TurnResult | None:
        return self.turns[-1] if self.turns else None

    def prepare(self) -> float:
        """Encode the clip now (e.g. when it is opened, before the first question); returns
        seconds. Otherwise the first question pays for it (in its motion_encode_s and TTFT)."""
        if self.state is not None or self.motion is None or not self.model.mode.uses_motion:
            return 0.0
        start = time.perf_counter()
        self.state = self.model.encode_motion(self.motion, self._video())
        return time.perf_counter() - start

    def reset(self) -> None:
        """Forget the conversation (the encoded clip is kept)."""
        self.turns, self._records, self._first_kept = [], [], 0
        self.kv.forget()

    def ask(
        self,
        question: str,
        *,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_new_tokens: int = 128,
        stop: threading.Event | None = None,
        seed: int | None = None,
        min_new_tokens: int = 0,
    ) -> Iterator[str]:
        """Yield the answer's text deltas. `stop` (an Event) ends it early (partial=True).
        min_new_tokens suppresses end-of-turn tokens until reached (benchmarks)."""
        return self._answer(question, False, temperature, top_p, max_new_tokens, stop, seed, min_new_tokens)

    def regenerate(self, **kwargs) -> Iterator[str]:
        """Drop the last answer and answer the last question again (same kwargs as ask)."""
        if not self._records:
            raise LlamoError("there is no question to answer again.")
        return self._answer(self._records[-1].question, True, **_defaults(kwargs))

    # ---- internals -------------------------------------------------------------------------

    def _stop_ids(self) -> set[int]:
        return stop_token_ids(self.model.llm, self.model.tokenizer)

    def _video(self) -> torch.Tensor | None:
        """Frames for the optional video path: given pixels, else sampled from the motion's source
        video at config.video_fps (only when the model has a video encoder)."""
        m, mo = self.model, self.motion
        if self.video_pixels is not None or m.video_encoder is None or mo is None:
            return self.video_pixels
        if mo.source_kind == "video" and mo.source_path and Path(mo.source_path).is_file():
            from llamo.model.video import sample_video_frames

            times = float(mo.source_times[0]) + np.arange(0.0, mo.duration, 1.0 / m.config.video_fps)
            self.video_pixels = sample_video_frames(mo.source_path, times, m.video_encoder.image_size)
        return self.video_pixels

    def _static_embeds(self):
        return None if self.state is None else self.state.static_tokens

    def _sequence(self, records: list[_Record]) -> tuple[list[int], list[torch.Tensor]]:
        """Token ids of the whole (kept) conversation, ending with the generation prompt for the
        last record's question, plus the motion embeddings in placeholder order. Earlier answers
        enter as the exact ids that were generated, so the cached prefix stays valid."""
        m = self.model
        static = self._static_embeds()
        turns: list[tuple] = [("system", m.config.system_prompt, False)]
        counts: dict[int, int] = {}
        embeds: list[torch.Tensor] = []
        for j, rec in enumerate(records):
            emb = rec.motion_embeds if m.mode.per_question else (static if j == 0 else None)
            if emb is not None and emb.shape[0] > 0:
                counts[len(turns)] = emb.shape[0]
                embeds.append(emb)
            text = with_evidence(rec.question, self.evidence) if j == 0 and self.evidence else rec.question
            turns.append(("user", text, False))
            if j < len(records) - 1:  # the last record's answer is being generated
                turns.append(("assistant", rec.answer_ids, False))
        ids, _ = m.prompts.build(turns, counts, add_generation_prompt=True)
        return ids, embeds

    def new_embeds(self, ids: list[int], embeds: list[torch.Tensor]) -> torch.Tensor:
        """(1, n_new, d): the input embeddings of the part of `ids` past the cached prefix (the
        cache is dropped when `ids` do not extend it). The batched scheduler stacks these."""
        m = self.model
        n_cached = len(self.kv.fed)
        if self.kv.cache is None or ids[:n_cached] != self.kv.fed or n_cached >= len(ids):
            self.kv.forget()
            n_cached = 0
        ph_before = sum(1 for i in self.kv.fed if i == m.placeholder_id)
        input_ids = torch.tensor([ids[n_cached:]], device=m.llm_device)
        tok_embeds = m.llm.get_input_embeddings()(input_ids)
        n_ph = int((input_ids == m.placeholder_id).sum())
        if n_ph:
            flat = torch.cat(embeds, 0)[ph_before : ph_before + n_ph]
            tok_embeds = m.splice(input_ids, tok_embeds, flat)
        return tok_embeds

    def prefill(self, ids: list[int], embeds: list[torch.Tensor]):
        """Run the new part of `ids` through the LLM, reusing the cache for the common prefix."""
        tok_embeds = self.new_embeds(ids, embeds)
        out = self.model.llm(inputs_embeds=tok_embeds, cache=self.kv.cache, use_cache=True, logits_to_keep=1)
        self.kv.cache = out.cache
        self.kv.fed = list(ids)
        return out.logits[0, -1], tok_embeds.shape[1]

    def _start_turn(
        self,
        question: str,
        result: TurnResult,
        t_start: float,
        max_new_tokens: int,
        defer_prefill: bool = False,
    ):
        """Motion tokens for the question, prompt (trimmed to the context), prefill."""
        m = self.model
        motion_s = 0.0
        with torch.inference_mode():
            if self.motion is not None and m.mode.uses_motion:
                if self.state is None:
                    self.state = m.encode_motion(self.motion, self._video())
                emb, frames, scores = m.question_tokens(self.state, question)  # the bare question
                result.selected_frames, result.frame_scores = frames, scores
                motion_s = time.perf_counter() - t_start
                result.timings["motion_encode_s"] = motion_s
            else:
                emb = None
            record = _Record(question, emb if m.mode.per_question else None, cache_before=len(self.kv.fed))
            records = self._records[self._first_kept :] + [record]
            ids, embeds = self._sequence(records)
            while len(ids) + max_new_tokens > self.max_positions and len(records) > 1:
                self._first_kept += 1  # trim the oldest exchange
                records = records[1:]
                ids, embeds = self._sequence(records)
            if len(ids) + max_new_tokens > self.max_positions:
                raise LlamoError(
                    f"this question with its motion needs {len(ids)} + {max_new_tokens} tokens, past the "
                    f"backbone's context of {self.max_positions}; use motion_tokens=cross_talker or a shorter clip."
                )
            record.cache_before = len(self.kv.fed) if ids[: len(self.kv.fed)] == self.kv.fed else 0
            self._records.append(record)
            self.turns.append(result)
            if defer_prefill:  # the scheduler prefills this with the other turns that arrived
                self.pending = (ids, embeds)
                return _Started(0.0, 0, None, record)
            t_prefill = time.perf_counter()
            logits, n_new = self.prefill(ids, embeds)
            prefill_s = time.perf_counter() - t_prefill
        return _Started(prefill_s, n_new, logits, record)

    def begin(
        self,
        question: str,
        regenerate: bool,
        sampling: Sampling,
        stop=None,
        t_start=None,
        defer_prefill=False,
    ) -> TurnDecoder:
        """Start a turn: the prompt and its prefill; returns the decoder holding the first
        logits. The caller then steps it and feeds its tokens (`_answer` here, one at a time;
        `llamo.serving.Scheduler`, batched with other sessions), and calls `end` once.
        `t_start` (perf_counter) is when the question was asked, for TTFT; default now.
        `defer_prefill`: the prompt is left in `pending` and the decoder has no logits yet (the
        scheduler prefills several sessions' new turns in one forward, `llamo.serving.prefill`)."""
        m = self.model
        t_start = time.perf_counter() if t_start is None else t_start
        if regenerate:
            rec = self._records.pop()
            self.turns.pop()
            if self.kv.cache is not None and len(self.kv.fed) >= rec.cache_before:
                cut = len(self.kv.fed) - rec.cache_before
                if cut and getattr(self.kv.cache, "is_croppable", True):
                    self.kv.cache.crop(-cut)  # transformers 5: negative = remove that many
                    self.kv.fed = self.kv.fed[: rec.cache_before]
                elif cut:
                    self.kv.forget()
        result = TurnResult(question=question)
        was_training = m.training
        m.eval()  # no dropout / Gumbel noise while answering; the mode is restored by end()
        try:
            started = self._start_turn(question, result, t_start, sampling.max_new_tokens, defer_prefill)
        except BaseException:
            m.train(was_training)
            raise
        decoder = TurnDecoder(self.tok, self.stop_ids, sampling, result, started.record.answer_ids,
                              started.logits, t_start, started.prefill_s, started.n_new, stop,
                              was_training)  # fmt: skip
        decoder.constraint = self._grounding(question, result)
        return decoder

    def _grounding(self, question: str, result: TurnResult) -> NumberConstraint | WordsConstraint | None:
        """For the kinds in `Llamo.grounded`, a count's or a time's digits or a side's words held
        to the measurement (`llamo.grounding`); the result says how it was measured."""
        kinds = getattr(self.model, "grounded", ())
        if not kinds or self.motion is None:
            return None
        summary = self.model.motion_summary(self.state) if self.state is not None else []
        if "count" in kinds and (found := grounded_count(question, self.motion, summary)):
            constraint = NumberConstraint(self._vocabulary(), found.value, COUNT_UNITS)
        elif "time" in kinds and (found := grounded_time(question, self.motion, summary)):
            constraint = NumberConstraint(self._vocabulary(), found.value, opening=False, only_first=True)
        elif "side" in kinds and (found := grounded_side(question, self.motion, summary)):
            constraint = WordsConstraint(self._vocabulary(), banned_words(found, question))
        else:
            return None
        result.grounded = found.sentence()
        return constraint

    def _vocabulary(self) -> Vocabulary:
        """The tokenizer's token texts, read at the first grounded answer of this conversation."""
        if self._vocab is None:
            self._vocab = Vocabulary.of(self.tok)
        return self._vocab

    def end(self, decoder: TurnDecoder) -> None:
        """Close the turn: restore the model's mode, write the answer and timings."""
        self.model.train(decoder.was_training)
        decoder.finish(len(self.kv.fed))

    def _forward_one(self, token: int) -> torch.Tensor:
        """Feed one generated token through this session's cache; the next-token logits."""
        with torch.inference_mode():
            out = self.model.llm(
                input_ids=torch.tensor([[token]], device=self.model.llm_device),
                cache=self.kv.cache,
                use_cache=True,
            )
        self.kv.cache = out.cache
        self.kv.fed.append(token)
        return out.logits[0, -1]

    def _answer(self, question, regenerate, temperature, top_p, max_new_tokens, stop, seed, min_new_tokens=0):
        sampling = Sampling(temperature, top_p, max_new_tokens, seed, min_new_tokens)
        decoder = self.begin(question, regenerate, sampling, stop)
        try:
            while True:
                with torch.inference_mode():
                    delta = decoder.step(decoder.logits)
                if delta:
                    yield delta
                if decoder.done:
                    break
                decoder.logits = self._forward_one(decoder.token)
        finally:
            self.end(decoder)


def _defaults(kwargs: dict) -> dict:
    return {
        "temperature": kwargs.get("temperature", 0.0),
        "top_p": kwargs.get("top_p", 1.0),
        "max_new_tokens": kwargs.get("max_new_tokens", 128),
        "stop": kwargs.get("stop"),
        "seed": kwargs.get("seed"),
        "min_new_tokens": kwargs.get("min_new_tokens", 0),
    }


def answer(model, motion: Motion | None, question: str, **kwargs) -> TurnResult:
    """One question, answered without streaming (convenience for eval and tests)."""
    session = ChatSession(model, motion)
    for _ in session.ask(question, **kwargs):
        pass
    return session.last_turn
