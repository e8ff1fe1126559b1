"""What an action function sees (one segment's timing) and returns (a pose and how it moves),
and the phase curves the actions are built from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ActionContext:
    """What an action function sees: per-frame timing of one segment."""

    t: np.ndarray  # (n,) seconds since segment start
    p: np.ndarray  # (n,) phase within the current repetition, 0..1 (0 outside reps; 1 after a one-shot)
    k: np.ndarray  # (n,) repetition index
    env: np.ndarray  # (n,) 0..1 envelope ramping in and out over the segment
    reps: int
    side: str
    direction: str
    amp: float
    period: float  # mean seconds per repetition
    rng: np.random.Generator


@dataclass
class ActionOutput:
    """A segment's joint angles, plus what the body does in the world while it holds them."""

    pose: dict[str, np.ndarray]
    # which foot stays planted: mid | left | right | none (locomotion), or one of those per frame
    anchor: str | np.ndarray = "mid"
    move: np.ndarray | None = None  # (n, 2) body-frame (x, z) displacement from segment start
    turn: np.ndarray | None = None  # (n,) yaw (deg, + = to the person's left) since segment start
    lift: np.ndarray | None = None  # (n,) extra height (flight)


def bump(p: np.ndarray) -> np.ndarray:
    """0 -> 1 -> 0 over a repetition phase in [0, 1], peak at 0.5."""
    return 0.5 * (1.0 - np.cos(2 * np.pi * np.clip(p, 0, 1)))


def skew_bump(p: np.ndarray, peak: float) -> np.ndarray:
    """0 -> 1 -> 0 with the maximum at `peak` (a fast strike and a slower return)."""
    q = np.where(p < peak, 0.5 * p / peak, 0.5 + 0.5 * (p - peak) / (1 - peak))
    return bump(q)


def smooth(x: np.ndarray) -> np.ndarray:
    """Smoothstep on [0, 1]: ramps that start and end at rest."""
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def rep_side(c: ActionContext) -> np.ndarray:
    """Per frame, 'L' or 'R' limb for sided actions; 'both' alternates starting with the right."""
    if c.side == "left":
        return np.full(len(c.k), "L")
    if c.side == "right":
        return np.full(len(c.k), "R")
    return np.where(c.k % 2 == 0, "R", "L")
