"""Motion encoder: per-frame features (B, T, F) -> F_M (B, T', d), T' = ceil(T / stride)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from llamo.model.config import LlamoConfig
from llamo.model.layers import WindowedBlock, sinusoidal


class MotionEncoder(nn.Module):
    """Per-frame linear embedding -> strided temporal conv (downsampling) -> windowed temporal
    transformer with sinusoidal positions. Windowed (alternately shifted) attention keeps a
    10-minute clip (6,000 downsampled frames) linear in length."""

    def __init__(self, cfg: LlamoConfig):
        super().__init__()
        d, s = cfg.d_model, cfg.encoder_stride
        self.stride = s
        self.embed = nn.Sequential(nn.Linear(cfg.feature_dim, d), nn.GELU())
        self.down = nn.Conv1d(d, d, kernel_size=max(3, 2 * s - 1), stride=s, padding=max(3, 2 * s - 1) // 2)
        self.blocks = nn.ModuleList(
            WindowedBlock(d, cfg.n_heads, cfg.encoder_window, shift=i % 2 == 1, dropout=cfg.dropout)
            for i in range(cfg.encoder_layers)
        )
        self.ln = nn.LayerNorm(d)

    def out_length(self, t: int) -> int:
        k, p = self.down.kernel_size[0], self.down.padding[0]
        return (t + 2 * p - k) // self.stride + 1

    def downsample_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """(B, T) bool -> (B, T') bool: a downsampled frame is valid if its centre frame is."""
        return self.at_output_rate(mask)

    def at_output_rate(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, ...) per-frame values -> (B, T', ...): each output frame takes its centre frame's."""
        t_out = self.out_length(x.shape[1])
        idx = (torch.arange(t_out, device=x.device) * self.stride).clamp(max=x.shape[1] - 1)
        return x[:, idx]

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # features (B, T, F) normalised, mask (B, T) bool
        x = self.embed(features) * mask[..., None]  # (B, T, d)
        x = self.down(x.transpose(1, 2)).transpose(1, 2)  # (B, T', d)
        m = self.downsample_mask(mask)  # (B, T')
        pos = torch.arange(x.shape[1], device=x.device)
        x = x + sinusoidal(pos, x.shape[-1]).to(x.dtype)
        for blk in self.blocks:
            x = blk(x, m)
        return self.ln(x) * m[..., None]  # (B, T', d)


def masked_pool(x: torch.Tensor, mask: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split each clip's valid frames into n equal spans and average them.
    x (B, T, d), mask (B, T) -> pooled (B, n, d), centres (B, n) frame indices (long)."""
    b, t, _ = x.shape
    lengths = mask.sum(1).clamp(min=1).float()  # (B,)
    pos = torch.arange(t, device=x.device).float()[None]  # (1, T)
    seg = (pos / lengths[:, None] * n).floor().clamp(max=n - 1).long()  # (B, T)
    onehot = F.one_hot(seg, n).float() * mask[..., None].float()  # (B, T, n)
    counts = onehot.sum(1).clamp(min=1)  # (B, n)
    pooled = torch.einsum("btn,btd->bnd", onehot, x.float()) / counts[..., None]
    centres = ((torch.arange(n, device=x.device).float()[None] + 0.5) * lengths[:, None] / n).long()
    return pooled.to(x.dtype), centres.clamp(max=t - 1)
