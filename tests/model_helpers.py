"""Shared fixtures for the model and chat tests: tiny backbones and random-walk motions."""

from __future__ import annotations

import numpy as np

from llamo.model import Llamo, LlamoConfig
from llamo.model.testing import tiny_backbone
from llamo.motion import Motion


def random_walk(frames: int, fps: float = 20.0, seed: int = 0) -> Motion:
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.3, (1, 22, 3)).astype(np.float32)
    steps = rng.normal(0, 0.01, (frames, 22, 3)).astype(np.float32)
    return Motion.from_joints(base + np.cumsum(steps, 0), fps)


def tiny_model(
    mode: str = "cross_talker", k: int = 8, seed: int = 0, max_positions: int = 2048, **cfg
) -> Llamo:
    config = LlamoConfig(motion_tokens=mode, num_tokens=k, d_model=32, n_heads=4, system_prompt="Sys.", **cfg)
    return Llamo.build(config, backbone=tiny_backbone(seed=seed, max_positions=max_positions))
