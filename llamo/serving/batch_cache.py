"""The active sessions' KV caches as one left-padded batch, for one forward per decode step.

Each session keeps its own `DynamicCache` between turns (prefix reuse). While several answer at
once, their caches are stacked here: row i is left-padded to the longest, the attention mask
hides the padding, and each row's position id is its own real length (the cached keys carry
their rotary positions already, so padding shifts nothing). Sessions joining make a new batch
(`extended`), sessions leaving are dropped in place (`keep`), and each step appends: the layers
write each step's keys and values into a buffer with room to grow (`_InPlaceLayer`), where
`DynamicLayer` would copy the whole cache (`torch.cat`) at every step. `row(i)` hands a session
its cache back, without the padding.
"""

from __future__ import annotations

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

from llamo.errors import LlamoError


def _layers(cache) -> list[DynamicLayer]:
    layers = list(getattr(cache, "layers", []))
    if not layers or any(type(layer) not in (DynamicLayer, _InPlaceLayer) for layer in layers):
        raise LlamoError("batched decoding needs full-attention DynamicCache layers (no sliding window).")
    return layers


class _InPlaceLayer(DynamicLayer):
    """A DynamicLayer whose keys/values are views of a larger buffer: appending writes in place
    (the buffer doubles when full), so a decode step copies one token per row, not the cache."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, length: int) -> None:
        super().__init__()
        self.device, self.is_initialized = keys.device, True
        self._k, self._v = keys, values
        self.keys, self.values = keys[:, :, :length], values[:, :, :length]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        n, m = self.keys.shape[-2], key_states.shape[-2]
        if n + m > self._k.shape[-2]:
            self._k, self._v = _grown(self.keys, n + m), _grown(self.values, n + m)
        self._k[:, :, n : n + m] = key_states
        self._v[:, :, n : n + m] = value_states
        self.keys, self.values = self._k[:, :, : n + m], self._v[:, :, : n + m]
        return self.keys, self.values


class BatchCache:
    """A left-padded batch of per-session caches, with the attention mask and per-row lengths."""

    def __init__(self, caches: list, room: int = 64) -> None:
        """`caches`: one per row; None for a row with nothing cached yet (all padding; at least
        one row must have a cache, for the layers' shapes)."""
        per_row = [
            None if c is None else [(layer.keys, layer.values) for layer in _layers(c)] for c in caches
        ]
        self._build(per_row, room)

    def _build(self, per_row: list, room: int) -> None:
        """per_row: for each row, None or one (keys, values) per layer, (1, heads, n, dim) each."""
        template = next(r for r in per_row if r is not None)
        self.lengths = [0 if r is None else r[0][0].shape[-2] for r in per_row]
        width = max(self.lengths)

        def stacked(li: int, part: int) -> torch.Tensor:
            empty = template[li][part][:1, :, :0]
            return _stacked([empty if r is None else r[li][part] for r in per_row], width, room)

        self.cache = DynamicCache()
        self.cache.layers = [
            _InPlaceLayer(stacked(li, 0), stacked(li, 1), width) for li in range(len(template))
        ]
        dev = self.cache.layers[0].keys.device
        self.mask = torch.ones((len(per_row), width), dtype=torch.long, device=dev)
        for i, n in enumerate(self.lengths):
            self.mask[i, : width - n] = 0

    def extended(self, caches: list, room: int = 64) -> BatchCache:
        """This batch's rows, then one row per cache in `caches` (sessions joining). The rows
        already here are read as views, so joining copies each cache once, not twice."""
        width = self.mask.shape[1]
        rows = [
            [(layer.keys[i : i + 1, :, width - n :], layer.values[i : i + 1, :, width - n :]) for layer in self.cache.layers]
            for i, n in enumerate(self.lengths)
        ]  # fmt: skip
        rows += [[(layer.keys, layer.values) for layer in _layers(c)] for c in caches]
        joined = BatchCache.__new__(BatchCache)
        joined._build(rows, room)
        return joined

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows` (ascending), in place: the staying rows move up within the buffers
        (one row copied per gap), and the padding columns that no staying row needs go."""
        rows = sorted(rows)
        width = self.mask.shape[1]
        lengths = [self.lengths[i] for i in rows]
        pad = width - max(lengths)
        for layer in self.cache.layers:
            n = layer.keys.shape[-2]
            for j, i in enumerate(rows):
                if i != j:
                    layer._k[j] = layer._k[i]
                    layer._v[j] = layer._v[i]
            layer._k, layer._v = layer._k[: len(rows), :, pad:], layer._v[: len(rows), :, pad:]
            layer.keys, layer.values = layer._k[:, :, : n - pad], layer._v[:, :, : n - pad]
        self.mask = self.mask[rows, pad:]
        self.lengths = lengths

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

    def row(self, i: int, stop: int | None = None) -> DynamicCache:
        """Row i's cache on its own, without the left padding (a copy: the batch may go on);
        `stop` cuts columns off the right too (a batched prefill's right padding)."""
        return row_of(self.cache, i, int(self.mask.shape[1] - self.lengths[i]), stop)


def row_of(cache, i: int, start: int, stop: int | None = None) -> DynamicCache:
    """Columns start:stop of row i of a batched cache, as a cache of its own (copied)."""
    data = [
        (layer.keys[i : i + 1, :, start:stop].clone(), layer.values[i : i + 1, :, start:stop].clone())
        for layer in cache.layers
    ]
    return DynamicCache(ddp_cache_data=data)


def _stacked(rows: list[torch.Tensor], width: int, room: int) -> torch.Tensor:
    """(1, heads, n_i, dim) each -> (rows, heads, width + room, dim): right-aligned at `width`,
    zeros in front (masked out; zeros, not garbage, so a masked 0 * NaN cannot appear). The room
    after `width` is left unset: nothing reads it before a step writes it. Only the padding is
    zeroed, not the whole buffer: zeroing it all cost more than the copies (fresh pages)."""
    first = rows[0]
    buf = first.new_empty((len(rows), first.shape[1], width + room, first.shape[-1]))
    for i, t in enumerate(rows):
        n = t.shape[-2]
        buf[i, :, : width - n] = 0
        buf[i, :, width - n : width] = t[0]
    return buf


def _grown(t: torch.Tensor, room: int) -> torch.Tensor:
    buf = t.new_zeros((*t.shape[:-2], t.shape[-2] + room, t.shape[-1]))
    buf[:, :, : t.shape[-2]] = t
    return buf
