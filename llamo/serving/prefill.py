"""Prefill the turns that arrive together in one forward, instead of one after another.

Ten questions asked at once cost ten prefills; on two cores they took 10 x 0.19 s one by one
and 0.81 s as one batch (docs/benchmarks.md), and the last of them waited for all the others
before its first token. Each session's cached prefix is stacked left-padded (as
`llamo.serving.batch_cache` does for decoding); its new tokens follow, right-padded to the
longest. Right, not left: a padding query then still sees its row's real tokens, so no
attention row is all masked (which gives NaN keys that a later 0-weight would still spread).
The padding's keys and values are cut off again when each session takes its cache back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache

from llamo.serving.batch_cache import _layers, _stacked


@dataclass(frozen=True)
class Prefilled:
    logits: torch.Tensor  # (vocabulary,) the next-token logits after the prompt
    new_tokens: int  # prompt tokens run (past the session's cached prefix)


def prefill_one(session) -> Prefilled:
    """A session's `pending` prompt alone: exactly the unbatched path (`ChatSession._prefill`)."""
    logits, n_new = session._prefill(*session.pending)
    session.pending = None
    return Prefilled(logits, n_new)


def prefill_together(model, sessions: list) -> list[Prefilled]:
    """Run every session's `pending` prompt (ChatSession.begin(defer_prefill=True)) in one
    forward; each session gets its cache and fed ids as its own `_prefill` would leave them."""
    news = [s.new_embeds(*s.pending) for s in sessions]  # (1, n_i, d); drops stale caches
    lengths = [len(s._fed) for s in sessions]
    widths = [e.shape[1] for e in news]
    width, n = max(lengths), max(widths)
    dev, first = news[0].device, news[0]
    embeds = first.new_zeros((len(sessions), n, first.shape[-1]))
    mask = torch.zeros((len(sessions), width + n), dtype=torch.long, device=dev)
    positions = torch.zeros((len(sessions), n), dtype=torch.long, device=dev)
    for i, (e, past, w) in enumerate(zip(news, lengths, widths, strict=True)):
        embeds[i, :w] = e[0]
        mask[i, width - past : width + w] = 1
        positions[i] = past + torch.arange(n, device=dev).clamp(max=w - 1)  # padding repeats the last
    cache = _stack_caches([s._cache for s in sessions], width)
    last = torch.tensor(widths, device=dev) - 1
    keep = torch.unique(last)  # the positions whose logits are wanted, once each
    out = model.llm(
        inputs_embeds=embeds, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True,
        logits_to_keep=keep,
    )  # fmt: skip
    logits = []
    for i, s in enumerate(sessions):
        pad = width - lengths[i]
        s._cache = DynamicCache(
            ddp_cache_data=[
                (layer.keys[i : i + 1, :, pad : width + widths[i]].clone(),
                 layer.values[i : i + 1, :, pad : width + widths[i]].clone())
                for layer in out.cache.layers
            ]
        )  # fmt: skip
        s._fed = list(s.pending[0])
        s.pending = None
        logits.append(Prefilled(out.logits[i, int((keep == last[i]).nonzero())], widths[i]))
    return logits


def _stack_caches(caches: list, width: int) -> DynamicCache:
    """The rows' caches left-padded to `width` (rows without one are all padding)."""
    if width == 0:
        return DynamicCache()
    template = _layers(next(c for c in caches if c is not None and c.get_seq_length() > 0))
    data = []
    for li, t in enumerate(template):
        empty_k, empty_v = t.keys[:1, :, :0], t.values[:1, :, :0]
        ks = [_layers(c)[li].keys if c is not None else empty_k for c in caches]
        vs = [_layers(c)[li].values if c is not None else empty_v for c in caches]
        data.append((_stacked(ks, width, 0), _stacked(vs, width, 0)))
    return DynamicCache(ddp_cache_data=data)
