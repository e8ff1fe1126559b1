"""Prefill the turns that arrive together in one forward, instead of one after another.

Ten questions asked at once cost ten prefills; on two cores they took 10 x 0.19 s one by one
and 0.81 s as one batch (docs/benchmarks.md), and the last of them waited for all the others
before its first token. Each session's cached prefix is stacked left-padded (a
`llamo.serving.batch_cache.BatchCache`, as for decoding, with room for the prompts); its new
tokens follow, right-padded to the longest. Right, not left: a padding query then still sees its row's real tokens, so no
attention row is all masked (which gives NaN keys that a later 0-weight would still spread).
The padding's keys and values are cut off again when each session takes its cache back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache

from llamo.serving.batch_cache import BatchCache, row_of


@dataclass(frozen=True)
class Prefilled:
    logits: torch.Tensor  # (vocabulary,) the next-token logits after the prompt
    new_tokens: int  # prompt tokens run (past the session's cached prefix)


def prefill_one(session) -> Prefilled:
    """A session's `pending` prompt alone: exactly the unbatched path (`ChatSession.prefill`)."""
    logits, n_new = session.prefill(*session.pending)
    session.pending = None
    return Prefilled(logits, n_new)


def prefill_together(model, sessions: list) -> list[Prefilled]:
    """Run every session's `pending` prompt (ChatSession.begin(defer_prefill=True)) in one
    forward; each session gets its cache and fed ids as its own `_prefill` would leave them."""
    news = [s.new_embeds(*s.pending) for s in sessions]  # (1, n_i, d); drops stale caches
    widths = [e.shape[1] for e in news]
    n, first = max(widths), news[0]
    dev = first.device
    cached = any(s.kv.cache is not None and s.kv.fed for s in sessions)
    batch = BatchCache([s.kv.cache if s.kv.fed else None for s in sessions], room=n) if cached else None
    past = batch.mask if batch else torch.zeros((len(sessions), 0), dtype=torch.long, device=dev)
    width = past.shape[1]
    embeds = first.new_zeros((len(sessions), n, first.shape[-1]))
    new_mask = torch.zeros((len(sessions), n), dtype=torch.long, device=dev)
    positions = torch.zeros((len(sessions), n), dtype=torch.long, device=dev)
    for i, (e, s, w) in enumerate(zip(news, sessions, widths, strict=True)):
        embeds[i, :w], new_mask[i, :w] = e[0], 1
        # the padding positions repeat the last real one
        positions[i] = len(s.kv.fed) + torch.arange(n, device=dev).clamp(max=w - 1)
    last = torch.tensor(widths, device=dev) - 1
    keep = torch.unique(last)  # the positions whose logits are wanted, once each
    out = model.llm(
        inputs_embeds=embeds, attention_mask=torch.cat([past, new_mask], 1), position_ids=positions,
        cache=batch.cache if batch else DynamicCache(), use_cache=True, logits_to_keep=keep,
    )  # fmt: skip
    done = []
    for i, s in enumerate(sessions):
        start = width - len(s.kv.fed)
        s.kv.cache = row_of(out.cache, i, start, width + widths[i])
        s.kv.fed, s.pending = list(s.pending[0]), None
        done.append(Prefilled(out.logits[i, int((keep == last[i]).nonzero())], widths[i]))
    return done
