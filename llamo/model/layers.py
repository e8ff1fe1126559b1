"""Small shared pieces: attention with boolean masks, pre-norm blocks, positional encoding."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """(..., ) float positions -> (..., dim) sinusoidal encoding."""
    half = dim // 2
    freq = torch.exp(
        -math.log(10000.0) * torch.arange(half, device=positions.device, dtype=torch.float32) / half
    )
    ang = positions.float()[..., None] * freq
    return torch.cat([ang.sin(), ang.cos()], dim=-1)


class Attention(nn.Module):
    """Multi-head attention (self or cross) on SDPA. mask: (B, Tq, Tk) bool, True = may attend,
    or a float additive bias of that shape. Rows with no allowed key attend to everything (their
    outputs are padding and are ignored downstream), which keeps softmax finite."""

    def __init__(self, d: int, n_heads: int, dropout: float = 0.0, d_kv: int | None = None):
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d_kv or d, 2 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, ctx: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        ctx = x if ctx is None else ctx
        b, tq, d = x.shape
        tk = ctx.shape[1]
        h = self.n_heads
        q = self.q(x).view(b, tq, h, d // h).transpose(1, 2)  # (B, h, Tq, dh)
        k, v = self.kv(ctx).view(b, tk, 2, h, d // h).permute(2, 0, 3, 1, 4)  # (B, h, Tk, dh) each
        if mask is not None and mask.dtype == torch.bool:
            mask = mask | ~mask.any(dim=-1, keepdim=True)
            mask = mask[:, None]
        elif mask is not None:
            mask = mask[:, None].to(q.dtype)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(b, tq, d))


class MLP(nn.Module):
    def __init__(self, d: int, hidden: int | None = None, dropout: float = 0.0, d_out: int | None = None):
        super().__init__()
        self.fc = nn.Linear(d, hidden or 4 * d)
        self.proj = nn.Linear(hidden or 4 * d, d_out or d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    """Pre-norm transformer block: (cross-)attention then MLP, both residual."""

    def __init__(self, d: int, n_heads: int, dropout: float = 0.0, cross: bool = False):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.ln_ctx = nn.LayerNorm(d) if cross else None
        self.attn = Attention(d, n_heads, dropout)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = MLP(d, dropout=dropout)

    def forward(self, x, ctx=None, mask=None):
        c = None if ctx is None else self.ln_ctx(ctx)
        x = x + self.attn(self.ln1(x), c, mask)
        return x + self.mlp(self.ln2(x))


class WindowedBlock(nn.Module):
    """Self-attention inside non-overlapping windows of W frames (optionally shifted by W/2, as in
    Swin), so a 10-minute clip costs O(T·W), not O(T²)."""

    def __init__(self, d: int, n_heads: int, window: int, shift: bool, dropout: float = 0.0):
        super().__init__()
        self.window, self.shift = window, shift
        self.block = Block(d, n_heads, dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape  # x (B, T, d), mask (B, T) bool
        w = self.window
        s = w // 2 if self.shift and t > w else 0
        pad = (-(t + s)) % w
        xp = F.pad(x, (0, 0, s, pad))
        mp = F.pad(mask, (s, pad), value=False)
        n = xp.shape[1] // w
        # reshape, not view: with nothing to pad, F.pad returns its (possibly strided) input
        xw = xp.reshape(b * n, w, d)
        mw = mp.reshape(b * n, w)
        am = mw[:, None, :].expand(b * n, w, w)  # (B*n, W, W)
        yw = self.block(xw, mask=am)
        return yw.view(b, n * w, d)[:, s : s + t]


class Projector(nn.Module):
    """MLP d -> LLM hidden size (LLaVA-1.5 style: Linear, GELU, Linear)."""

    def __init__(self, d: int, hidden: int):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.mlp = MLP(d, hidden, d_out=hidden)

    def forward(self, x):
        return self.mlp(self.ln(x))
