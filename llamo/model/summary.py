"""Motion heads and summary tokens: what happened in the clip, read off the pretrained encoder.

The encoder is pretrained with per-frame heads (action, side, direction, repetition phase and a
repetition density whose sum over frames is the repetition count). Those heads stay in the model.
From their outputs, `SummaryTokens` builds S tokens, one per action the clip mostly shows, in
time order: which action, how many repetitions (density summed over that action's frames), which
side and direction, and where in the clip it happens. The Cross Talker's K tokens are local
(selected frames plus mean-pooled context), so they cannot carry a count or a long-range order;
these tokens do, in a form the language model reads like a table row.

This is our addition to the paper's design; `summary_tokens = 0` turns it off.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from llamo.labels import OTHER, LabelVocab
from llamo.model.action_gate import gate_actions, withhold_names
from llamo.model.layers import MLP

COUNT_BINS = 21  # counts 0..20, soft (linear) binning; more than 20 reads as 20
MIN_PRESENCE = 0.05  # an action must cover this fraction of the clip to get a token


class MotionHeads(nn.Module):
    """Per-frame heads on the encoder output F_M (B, T', d); trained by encoder pretraining.
    Their class counts come from `vocab` (the checkpoint's, see `LlamoConfig.vocab`)."""

    def __init__(self, d: int, vocab: LabelVocab = LabelVocab()):
        super().__init__()
        self.action = nn.Linear(d, len(vocab.actions))
        self.side = nn.Linear(d, len(vocab.sides))
        self.direction = nn.Linear(d, len(vocab.directions))
        self.phase = nn.Linear(d, 2)
        self.density = nn.Linear(d, 1)

    def forward(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        return {
            "action": self.action(h),  # (B, T', A) logits
            "side": self.side(h),  # (B, T', 3) logits
            "direction": self.direction(h),  # (B, T', 7) logits
            "phase": self.phase(h),  # (B, T', 2) sin/cos
            "density": F.softplus(self.density(h)).squeeze(-1),  # (B, T') repetitions per frame
        }


def soft_bins(x: torch.Tensor, n: int) -> torch.Tensor:
    """(...,) values -> (..., n) triangular (linear-interpolation) one-hot over 0..n-1."""
    x = x.clamp(0, n - 1)
    centres = torch.arange(n, device=x.device, dtype=x.dtype)
    return (1 - (x[..., None] - centres).abs()).clamp(min=0)


def clip_summary(
    heads_out: dict,
    mask: torch.Tensor,
    n_tokens: int,
    rest: int = LabelVocab().rest,
    support: torch.Tensor | None = None,
    other: int | None = None,
    withheld: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Head outputs -> (B, S, feature_dim) summary rows and (B, S) validity, rows in time order.

    Row: action one-hot, repetition count (soft bins), mean side and direction distributions over
    the action's frames, and its start, end, centre and share of the clip (fractions of T').
    `rest` is the index of the between-actions class, which never gets a row. With `support`
    (B, T', A) and the index of `other`, unmeasured or unsure names go to "other" (`gate_actions`);
    clips marked in `withheld` (B,) bool read "other" throughout (`withhold_names`)."""
    mask_f = mask.float()  # (B, T')
    length = mask_f.sum(1).clamp(min=1)  # (B,)
    p = heads_out["action"].float().softmax(-1)  # (B, T', A)
    if support is not None and other is not None:
        p = gate_actions(p, support.to(p.device), mask, other, rest)
    if withheld is not None and other is not None:
        p = withhold_names(p, withheld.to(p.device), other, rest)
    p = p * mask_f[..., None]
    presence = p.sum(1) / length[:, None]  # (B, A)
    presence[:, rest] = -1.0  # "rest" between actions never gets a token
    k = min(n_tokens, presence.shape[1])
    top_presence, top = presence.topk(k, dim=-1)  # (B, S)
    valid = top_presence >= MIN_PRESENCE
    w = torch.gather(p, 2, top[:, None, :].expand(-1, p.shape[1], -1))  # (B, T', S) P(action_s | t)
    w_sum = w.sum(1).clamp(min=1e-6)  # (B, S)
    count = (w * heads_out["density"].float()[..., None]).sum(1)  # (B, S)
    side = torch.einsum("bts,btc->bsc", w, heads_out["side"].float().softmax(-1)) / w_sum[..., None]
    direction = torch.einsum("bts,btc->bsc", w, heads_out["direction"].float().softmax(-1)) / w_sum[..., None]
    t = torch.arange(p.shape[1], device=p.device, dtype=torch.float32)  # (T',)
    centre = (w * t[None, :, None]).sum(1) / w_sum / length[:, None]  # (B, S)
    on = (p.argmax(-1)[..., None] == top[:, None, :]) & mask[..., None]  # (B, T', S) the action wins
    big = torch.full_like(w, float(p.shape[1]))
    start = torch.where(on, t[None, :, None].expand_as(w), big).amin(1) / length[:, None]
    end = torch.where(on, t[None, :, None].expand_as(w), -big).amax(1) / length[:, None]
    never = ~on.any(1)  # present only as a runner-up: a point at its centre
    start, end = torch.where(never, centre, start), torch.where(never, centre, end)
    rows = torch.cat(
        [
            F.one_hot(top, p.shape[-1]).float(),
            soft_bins(count, COUNT_BINS),
            side,
            direction,
            torch.stack([start, end, centre, top_presence.clamp(min=0)], -1),
        ],
        dim=-1,
    )  # (B, S, feature_dim)
    order = (centre + (~valid).float() * 10.0).argsort(dim=-1)  # time order, invalid last
    rows = torch.gather(rows, 1, order[..., None].expand_as(rows))
    return rows, torch.gather(valid, 1, order)


def summary_features(vocab: LabelVocab) -> int:
    """Width of a summary row (see `clip_summary`) for this head vocabulary."""
    return len(vocab.actions) + COUNT_BINS + len(vocab.sides) + len(vocab.directions) + 4


class SummaryOutput(NamedTuple):
    tokens: torch.Tensor  # (B, S, d)
    rows: torch.Tensor  # (B, S, feature_dim) what the tokens were made from (see clip_summary)
    valid: torch.Tensor  # (B, S) bool


class SummaryTokens(nn.Module):
    """(B, T', d) encoder features -> (B, S, d) summary tokens (padding rows get a learned vector)."""

    def __init__(self, d: int, n_tokens: int, vocab: LabelVocab = LabelVocab()):
        super().__init__()
        self.n = n_tokens
        self.rest = vocab.rest
        self.other = vocab.actions.index(OTHER) if OTHER in vocab.actions else None
        self.mlp = MLP(summary_features(vocab), d, d_out=d)
        self.pad = nn.Parameter(torch.zeros(d))

    def forward(self, heads_out: dict, mask: torch.Tensor, support=None, withheld=None) -> SummaryOutput:
        """-> tokens, and the rows and validity they came from; `support` (B, T', A) and
        `withheld` (B,) as in `clip_summary`."""
        with torch.no_grad():  # the heads are trained by pretraining only
            rows, valid = clip_summary(heads_out, mask, self.n, self.rest, support, self.other, withheld)
        x = self.mlp(rows)
        return SummaryOutput(torch.where(valid[..., None], x, self.pad.to(x.dtype)), rows, valid)


def describe_rows(
    rows: torch.Tensor, valid: torch.Tensor, duration_s: float, vocab: LabelVocab = LabelVocab()
) -> list[dict]:
    """One clip's summary rows (S, feature_dim) -> readable dicts (what the summary tokens say)."""
    a, c, s = len(vocab.actions), COUNT_BINS, len(vocab.sides)
    directions = vocab.directions
    out = []
    for row, ok in zip(rows.tolist(), valid.tolist(), strict=True):
        if not ok:
            continue
        bins = row[a : a + c]
        start, end, _, share = row[-4:]
        out.append(
            {
                "action": vocab.actions[max(range(a), key=row.__getitem__)],
                "count": round(sum(i * w for i, w in enumerate(bins)), 1),
                "side": vocab.sides[max(range(s), key=lambda i: row[a + c + i])],
                "direction": directions[max(range(len(directions)), key=lambda i: row[a + c + s + i])],
                "start_s": round(start * duration_s, 1),
                "end_s": round(end * duration_s, 1),
                "share": round(share, 2),
            }
        )
    return out


def summary_text(table: list[dict]) -> str:
    """`describe_rows` output in one line, e.g. "squat x2.6 (0.6-12.7 s); walk x8.0 (13.0-20.1 s)"."""
    return "; ".join(f"{r['action']} x{r['count']} ({r['start_s']}-{r['end_s']} s)" for r in table)
