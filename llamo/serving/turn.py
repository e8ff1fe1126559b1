"""One answer being written, token by token: what the unbatched `ChatSession` loop and the batched
`Scheduler` share, so both sample, stop and stream in exactly the same way.

The decoder never runs the model: whoever owns the model hands it the next-token logits (one
session's forward, or one row of a batched forward) and feeds back `decoder.token`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class Sampling:
    """A turn's sampling settings (the keyword arguments of `ChatSession.ask`)."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 128
    seed: int | None = None
    min_new_tokens: int = 0  # end-of-turn tokens are suppressed until this many (benchmarks)

    def generator(self) -> torch.Generator | None:
        return torch.Generator(device="cpu").manual_seed(self.seed) if self.seed is not None else None


def sample(logits: torch.Tensor, temperature: float, top_p: float, gen: torch.Generator | None) -> int:
    """Greedy at temperature 0, else nucleus sampling with the turn's own generator."""
    if temperature <= 0:
        return int(logits.argmax())
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, order = probs.sort(descending=True)
        keep = sorted_p.cumsum(0) - sorted_p < top_p
        sorted_p = sorted_p * keep
        probs = torch.zeros_like(probs).scatter(0, order, sorted_p)
    return int(torch.multinomial(probs / probs.sum(), 1, generator=gen))


@dataclass
class TurnDecoder:
    """The state of one answer between tokens. `step(logits)` samples the next token and returns
    its text delta; `done` says the answer has ended (end-of-turn token, max_new_tokens, or the
    stop event); otherwise `token` is the id to feed to get the next logits."""

    tok: object  # the tokenizer
    stop_ids: set[int]
    sampling: Sampling
    result: object  # llamo.chat.TurnResult, filled in by finish()
    answer_ids: list[int]  # the record's list: generated ids, appended in place
    logits: torch.Tensor  # the next-token logits (from the prefill, then from each step)
    t_start: float
    prefill_s: float = 0.0
    input_tokens: int = 0
    stop: threading.Event | None = None
    was_training: bool = False
    token: int | None = None
    finished: bool = False  # ended with an end-of-turn token (not cut short)
    t_first: float | None = None
    text: str = ""
    constraint: object | None = None  # serving.constrain's: .apply(logits, answer text so far)
    gen: torch.Generator | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.gen = self.sampling.generator()

    @property
    def done(self) -> bool:
        s = self.sampling
        return (
            self.finished
            or len(self.answer_ids) >= s.max_new_tokens
            or (self.stop is not None and self.stop.is_set())
        )

    def step(self, logits: torch.Tensor) -> str:
        """Sample from `logits` (the vocabulary row) and return the new text ("" when none)."""
        s = self.sampling
        logits = logits.float().cpu()
        if len(self.answer_ids) < s.min_new_tokens:
            logits[list(self.stop_ids)] = float("-inf")
        if self.constraint is not None:
            logits = self.constraint.apply(logits, self.text)
        token = sample(logits, s.temperature, s.top_p, self.gen)
        if self.t_first is None:
            self.t_first = time.perf_counter()
        if token in self.stop_ids:
            self.finished, self.token = True, None
            return ""
        self.answer_ids.append(token)
        self.token = token
        new_text = self.tok.decode(self.answer_ids, skip_special_tokens=True)
        if new_text.endswith("\ufffd") or not new_text.startswith(self.text):
            return ""  # an incomplete character: wait for the next token
        delta, self.text = new_text[len(self.text) :], new_text
        self.result.answer = new_text
        return delta

    def finish(self, context_tokens: int) -> None:
        """The final answer text, partial flag and timings on the TurnResult."""
        r = self.result
        t_end = time.perf_counter()
        r.answer = self.tok.decode(self.answer_ids, skip_special_tokens=True)
        r.partial = not self.finished
        n = len(self.answer_ids)
        decode_s = (t_end - self.t_first) if self.t_first else 0.0
        r.timings = {
            "motion_encode_s": r.timings.get("motion_encode_s", 0.0),
            "prefill_s": self.prefill_s,
            "ttft_s": (self.t_first or t_end) - self.t_start,
            "tokens_per_s": (n - 1) / decode_s if n > 1 and decode_s > 0 else 0.0,
            "new_tokens": n,
            "input_tokens": self.input_tokens,
            "context_tokens": context_tokens,
        }
