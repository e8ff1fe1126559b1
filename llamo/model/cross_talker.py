"""Cross Talker: the question picks K frames of F̃_M, gives each an adaptive local context plus
segment-level global context, and fuses motion and text both ways -> K motion tokens."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from llamo.model.config import LlamoConfig
from llamo.model.encoder import masked_pool
from llamo.model.layers import MLP, Block

NEG = -1e4  # additive "forbidden" bias; finite so fully-masked rows stay finite


@dataclass
class Selection:
    frames: torch.Tensor  # (Q, K) long, indices into F̃_M (downsampled frames); -1 = padding
    scores: torch.Tensor  # (Q, K) float, the frame's score (max over text tokens of A)
    valid: torch.Tensor  # (Q, K) bool
    radius: torch.Tensor | None = None  # (Q, K) r_k in (0, r_max]


class FrameScorer(nn.Module):
    """A = softmax_frames(F_T W_Q (F̃_M W_K)ᵀ / √d); score(frame) = max over text tokens."""

    def __init__(self, d: int):
        super().__init__()
        self.w_q = nn.Linear(d, d, bias=False)
        self.w_k = nn.Linear(d, d, bias=False)

    def forward(self, fm, mask, ft, tmask):
        # fm (Q, T', d), mask (Q, T'), ft (Q, L, d), tmask (Q, L) -> scores (Q, T') in [0, 1]
        a = self.w_q(ft) @ self.w_k(fm).transpose(1, 2) / math.sqrt(fm.shape[-1])  # (Q, L, T')
        a = a.masked_fill(~mask[:, None, :], float("-inf")).softmax(dim=-1)
        a = torch.nan_to_num(a, nan=0.0) * tmask[..., None]  # padded text rows score 0
        return a.max(dim=1).values  # (Q, T')


class CrossTalker(nn.Module):
    def __init__(self, cfg: LlamoConfig, text_dim: int):
        super().__init__()
        d, h = cfg.d_model, cfg.n_heads
        self.k, self.r_max, self.n_seg = cfg.num_tokens, cfg.r_max, cfg.num_segments
        self.selection, self.tau = cfg.selection, cfg.gumbel_tau
        self.text_in = nn.Sequential(nn.LayerNorm(text_dim), nn.Linear(text_dim, d))
        self.scorer = FrameScorer(d)
        self.radius = MLP(d, d, d_out=1)
        self.local = Block(d, h, cfg.dropout, cross=True)  # key frame -> its adaptive window
        self.glob = Block(d, h, cfg.dropout, cross=True)  # -> segment-level pooled features
        self.t2m = Block(d, h, cfg.dropout, cross=True)  # text queries motion tokens
        self.m2t = Block(d, h, cfg.dropout, cross=True)  # motion tokens query (updated) text
        self.pad = nn.Parameter(torch.zeros(d))

    def select(self, fm, mask, ft, tmask) -> tuple[Selection, torch.Tensor]:
        """Top-min(K, T') frames by score, in time order, padded to K.
        Returns the selection and a (Q, K) gate that is 1 in value but carries the score's gradient
        (straight-through), or the Gumbel-softmax weight's gradient when selection == gumbel."""
        q, t = mask.shape
        scores = self.scorer(fm, mask, ft, tmask)  # (Q, T')
        logits = torch.log(scores.clamp(min=1e-9)).masked_fill(~mask, float("-inf"))
        if self.selection == "gumbel" and self.training:
            g = -torch.log(-torch.log(torch.rand_like(logits).clamp(1e-9, 1 - 1e-9)))
            pert = logits + g
            soft = (pert / self.tau).softmax(dim=-1)
        else:
            pert, soft = logits, scores
        k = min(self.k, t)
        top = pert.topk(k, dim=-1).indices  # (Q, k)
        valid = torch.gather(mask, 1, top)
        order = (top + (~valid).long() * (t + 1)).argsort(dim=-1)  # time order, invalid last
        top, valid = torch.gather(top, 1, order), torch.gather(valid, 1, order)
        if k < self.k:  # clip shorter than K: pad
            extra = self.k - k
            top = torch.cat([top, top.new_zeros(q, extra)], 1)
            valid = torch.cat([valid, valid.new_zeros(q, extra)], 1)
        s_sel = torch.gather(soft, 1, top)
        gate = 1.0 + s_sel - s_sel.detach()  # value 1, gradient of the (relaxed) score
        sel = Selection(
            frames=top.masked_fill(~valid, -1), scores=torch.gather(scores, 1, top).detach(), valid=valid
        )
        return sel, gate

    def forward(self, fm, mask, text_embeds, tmask):
        # fm (Q, T', d) = F̃_M for each question slot, mask (Q, T'); text_embeds (Q, L, H), tmask (Q, L)
        ft = self.text_in(text_embeds)  # (Q, L, d)
        sel, gate = self.select(fm, mask, ft, tmask)
        idx = sel.frames.clamp(min=0)
        x = torch.gather(fm, 1, idx[..., None].expand(-1, -1, fm.shape[-1])) * gate[..., None]  # (Q, K, d)
        # adaptive local window: |j - k| <= r_k * T' (soft edge so r_k gets a gradient)
        length = mask.sum(1, keepdim=True).clamp(min=1).float()  # (Q, 1)
        r = self.r_max * torch.sigmoid(self.radius(x).squeeze(-1))  # (Q, K) in (0, r_max]
        pos = torch.arange(fm.shape[1], device=fm.device).float()
        dist = (pos[None, None, :] - idx[..., None].float()).abs()  # (Q, K, T')
        bias = F.logsigmoid((r[..., None] * length[..., None] + 0.5 - dist) * 2.0)
        bias = bias.masked_fill(~mask[:, None, :], NEG)
        x = self.local(x, fm, bias)
        # segment-level global context
        seg, _ = masked_pool(fm, mask, self.n_seg)  # (Q, S, d); F̃_M already carries positions
        x = self.glob(x, seg)
        # bidirectional fusion
        kmask = sel.valid[:, None, :].expand(-1, ft.shape[1], -1)
        ft2 = self.t2m(ft, x, kmask)
        x = self.m2t(x, ft2, tmask[:, None, :].expand(-1, x.shape[1], -1))
        x = torch.where(sel.valid[..., None], x, self.pad.to(x.dtype))
        sel.radius = r.detach()
        return x, sel  # (Q, K, d)
