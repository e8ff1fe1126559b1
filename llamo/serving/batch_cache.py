"""The active sessions' KV caches as one left-padded batch, for one forward per decode step.

Each session keeps its own `DynamicCache` between turns (prefix reuse). While several answer at
once, their caches are stacked here: row i is left-padded to the longest, the attention mask
hides the padding, and each row's position id is its own real length (the cached keys carry
their rotary positions already, so padding shifts nothing). The batch is rebuilt when the set
of rows changes and appended in place (by the model's forward) otherwise; `row(i)` hands a
session its cache back, without the padding.
"""

from __future__ import annotations

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

from llamo.errors import LlamoError


def _layers(cache) -> list[DynamicLayer]:
    layers = list(getattr(cache, "layers", []))
    if not layers or any(type(layer) is not DynamicLayer for layer in layers):
        raise LlamoError("batched decoding needs full-attention DynamicCache layers (no sliding window).")
    return layers


class BatchCache:
    """A left-padded batch of per-session caches, with the attention mask and per-row lengths."""

    def __init__(self, caches: list) -> None:
        per_row = [_layers(c) for c in caches]
        self.lengths = [rows[0].get_seq_length() for rows in per_row]
        width = max(self.lengths)
        self.pads = [width - n for n in self.lengths]
        data = []
        for li in range(len(per_row[0])):
            keys = [_pad_left(rows[li].keys, width) for rows in per_row]
            values = [_pad_left(rows[li].values, width) for rows in per_row]
            data.append((torch.cat(keys), torch.cat(values)))
        self.cache = DynamicCache(ddp_cache_data=data)
        dev = data[0][0].device
        self.mask = torch.ones((len(caches), width), dtype=torch.long, device=dev)
        for i, pad in enumerate(self.pads):
            self.mask[i, :pad] = 0

    def __len__(self) -> int:
        return len(self.lengths)

    def step_inputs(self, tokens: list[int]) -> dict:
        """The forward's arguments to feed one token per row (after the cached ones)."""
        dev = self.mask.device
        ones = torch.ones((len(tokens), 1), dtype=self.mask.dtype, device=dev)
        return {
            "input_ids": torch.tensor(tokens, device=dev)[:, None],
            "attention_mask": torch.cat([self.mask, ones], 1),
            "position_ids": torch.tensor(self.lengths, device=dev)[:, None],
            "cache": self.cache,  # transformers 5 name (past_key_values is deprecated)
            "use_cache": True,
        }

    def advance(self, inputs: dict) -> None:
        """After the forward: the fed tokens are in the cache now."""
        self.mask = inputs["attention_mask"]
        self.lengths = [n + 1 for n in self.lengths]

    def row(self, i: int) -> DynamicCache:
        """Row i's cache on its own, without padding (a copy: the batch may go on)."""
        pad = int(self.mask.shape[1] - self.lengths[i])
        data = [
            (layer.keys[i : i + 1, :, pad:].clone(), layer.values[i : i + 1, :, pad:].clone())
            for layer in self.cache.layers
        ]
        return DynamicCache(ddp_cache_data=data)


def _pad_left(t: torch.Tensor, width: int) -> torch.Tensor:
    """(1, heads, n, dim) -> (1, heads, width, dim), zeros in front (masked out)."""
    n = t.shape[-2]
    if n == width:
        return t
    pad = t.new_zeros((*t.shape[:-2], width - n, t.shape[-1]))
    return torch.cat([pad, t], -2)
