"""Optional video encoder: a frozen HF vision tower (CLIP or SigLIP) on sampled frames -> F_V.

Off by default (no pretrained vision weights can be downloaded here). `video_model` names a hub
id/path; `video_config` (a vision config dict with `model_type`) builds a randomly initialised
tower instead, which is how the tests exercise this path.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from llamo.errors import LlamoError
from llamo.model.config import LlamoConfig
from llamo.video import frames_at


def build_vision_tower(cfg: LlamoConfig) -> nn.Module:
    from transformers import AutoConfig, AutoModel

    if cfg.video_config is not None:
        vc = dict(cfg.video_config)
        model_type = vc.pop("model_type")
        config = AutoConfig.for_model(model_type, **vc)
        return AutoModel.from_config(config)
    try:
        return AutoModel.from_pretrained(cfg.video_model)
    except OSError as exc:
        raise LlamoError(
            f"could not load the vision model {cfg.video_model!r} ({str(exc).splitlines()[0]})."
        ) from None


class VideoEncoder(nn.Module):
    """pixels (B, N, 3, H, W) -> F_V (B, N, d). The tower is frozen; only `proj` trains."""

    def __init__(self, cfg: LlamoConfig):
        super().__init__()
        self.tower = build_vision_tower(cfg)
        self.tower.requires_grad_(False)
        self.tower.eval()
        vision = getattr(self.tower, "vision_model", self.tower)
        hidden = vision.config.hidden_size
        self.image_size = int(getattr(vision.config, "image_size", cfg.video_size))
        self.proj = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, cfg.d_model))

    def train(self, mode: bool = True):
        super().train(mode)
        self.tower.eval()  # frozen tower: no dropout
        return self

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        b, n = pixels.shape[:2]
        flat = pixels.flatten(0, 1)  # (B*N, 3, H, W)
        with torch.no_grad():
            if hasattr(self.tower, "get_image_features"):
                out = (
                    self.tower.vision_model(pixel_values=flat)
                    if hasattr(self.tower, "vision_model")
                    else self.tower(pixel_values=flat)
                )
            else:
                out = self.tower(pixel_values=flat)
            pooled = out.pooler_output  # (B*N, hidden)
        return self.proj(pooled.float().view(b, n, -1))


def sample_video_frames(path: str, times: np.ndarray, size: int) -> torch.Tensor:
    """The frames at `times` (seconds), upright -> (N, 3, size, size) in [-1, 1]."""
    frames = frames_at(path, np.asarray(times, dtype=float), size)
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1.0
