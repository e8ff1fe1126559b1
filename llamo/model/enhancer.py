"""Motion Feature Enhancer: F_M (+ F_V) -> F̃_M.

Self-attention over motion (windowed, as in the encoder, so 10-minute clips stay cheap) and over
video, then cross-attention with motion as query and video as key/value. Without video it is
the motion self-attention only.
"""

from __future__ import annotations

import torch.nn as nn

from llamo.model.config import LlamoConfig
from llamo.model.layers import Block, WindowedBlock, sinusoidal


class MotionFeatureEnhancer(nn.Module):
    def __init__(self, cfg: LlamoConfig, with_video: bool):
        super().__init__()
        d, h = cfg.d_model, cfg.n_heads
        self.motion_self = nn.ModuleList(
            WindowedBlock(d, h, cfg.encoder_window, shift=i % 2 == 0, dropout=cfg.dropout)
            for i in range(cfg.enhancer_layers)
        )
        self.video_self = (
            nn.ModuleList(Block(d, h, cfg.dropout) for _ in range(cfg.enhancer_layers))
            if with_video
            else None
        )
        self.cross = (
            nn.ModuleList(Block(d, h, cfg.dropout, cross=True) for _ in range(cfg.enhancer_layers))
            if with_video
            else None
        )

    def forward(self, fm, mask, fv=None, video_mask=None, motion_times=None, video_times=None):
        # fm (B, T', d), mask (B, T') bool; fv (B, N, d), video_mask (B, N) bool
        for i, blk in enumerate(self.motion_self):
            fm = blk(fm, mask)
            if fv is not None and self.video_self is not None:
                fv = self.video_self[i](fv, mask=video_mask[:, None, :].expand(-1, fv.shape[1], -1))
                # time-aligned: video frames carry the same (seconds) positional code as motion
                if motion_times is not None and video_times is not None:
                    qpos = sinusoidal(motion_times, fm.shape[-1]).to(fm.dtype)
                    kpos = sinusoidal(video_times, fv.shape[-1]).to(fv.dtype)
                else:
                    qpos = kpos = 0.0
                cm = video_mask[:, None, :].expand(-1, fm.shape[1], -1)
                fm = self.cross[i](fm + qpos, fv + kpos, cm) - qpos
        return fm * mask[..., None]
