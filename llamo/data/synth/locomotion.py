"""Walking and running: the actions that travel, so they carry their own path and turn.

Forward and backward gaits swing the legs in opposition and derive the speed from the stance
leg's sweep; sideways steps open with the leading leg and close with the trailing one.
"""

from __future__ import annotations

import numpy as np

from llamo.data.synth.body import LEG_LEN, rest_pose
from llamo.data.synth.context import ActionContext, ActionOutput, smooth


def walk(c: ActionContext) -> ActionOutput:
    return _gait(c, run=False)


def run(c: ActionContext) -> ActionOutput:
    return _gait(c, run=True)


def _cycle(c: ActionContext) -> np.ndarray:
    """Angle along the gait cycle: two steps per cycle."""
    return 2 * np.pi * ((c.k + c.p) / 2.0)


def _side_steps(c: ActionContext) -> ActionOutput:
    n = len(c.t)
    pose = rest_pose(n)
    w = _cycle(c)
    env = c.env
    lead = "L" if c.direction == "left" else "R"
    trail = "R" if lead == "L" else "L"
    # lead leg steps out (first half of a step pair), trail leg closes (second half)
    out = np.clip(np.sin(w), 0, None) * env
    close = np.clip(-np.sin(w), 0, None) * env
    pose[f"hip_abd_{lead}"] += 16 * c.amp * out
    pose[f"knee_{lead}"] += 25 * c.amp * out
    pose[f"hip_flex_{lead}"] += 15 * c.amp * out
    pose[f"hip_abd_{trail}"] += 6 * c.amp * close
    pose[f"knee_{trail}"] += 25 * c.amp * close
    pose[f"hip_flex_{trail}"] += 15 * c.amp * close
    pose["sh_abd_L"] += 6 * env
    pose["sh_abd_R"] += 6 * env
    dist = 0.30 * c.amp  # metres per step pair
    steps = (c.k + c.p) / 2.0
    x = dist * (np.floor(steps) + smooth(steps - np.floor(steps)))
    x *= 1.0 if lead == "L" else -1.0
    move = np.stack([x, np.zeros(n)], -1)
    return ActionOutput(pose, anchor="none", move=move)


def _gait(c: ActionContext, run: bool) -> ActionOutput:
    if c.direction in ("left", "right"):
        return _side_steps(c)
    n = len(c.t)
    pose = rest_pose(n)
    hip_a = (38 if run else 24) * c.amp
    knee_a = (95 if run else 55) * c.amp
    w = _cycle(c)
    env = c.env
    sgn = -1.0 if c.direction == "backward" else 1.0
    pose["hip_flex_L"] += hip_a * np.sin(w) * env
    pose["hip_flex_R"] -= hip_a * np.sin(w) * env
    swing_l = np.clip(np.cos(w) * sgn, 0, None) ** 1.3
    swing_r = np.clip(-np.cos(w) * sgn, 0, None) ** 1.3
    pose["knee_L"] += (knee_a * swing_l + 8) * env
    pose["knee_R"] += (knee_a * swing_r + 8) * env
    arm = (40 if run else 22) * c.amp
    pose["sh_flex_L"] -= arm * np.sin(w) * env
    pose["sh_flex_R"] += arm * np.sin(w) * env
    pose["elbow_L"] += (80 if run else 12) * env
    pose["elbow_R"] += (80 if run else 12) * env
    pose["spine_pitch"] += (10 if run else 3) * env * sgn
    pose["spine_yaw"] += 6 * np.sin(w) * env
    # speed from the stance leg's sweep: 4 L sin(A) per gait cycle
    step_len = 2 * LEG_LEN * np.sin(np.radians(hip_a * env)) * (1.25 if run else 1.0)
    dt = np.gradient(c.t) if n > 1 else np.ones(n)
    dist = np.cumsum(step_len / c.period * dt) - step_len[0] / c.period * dt[0]
    turn = None
    if c.direction in ("turn_left", "turn_right"):
        total = c.rng.uniform(90, 270) * (1 if c.direction == "turn_left" else -1)
        turn = total * smooth(c.t / max(c.t[-1], 1e-6))
    move = np.stack([np.zeros(n), sgn * dist], -1)
    lift = 0.05 * np.abs(np.sin(w)) * env if run else None
    return ActionOutput(pose, anchor="none", move=move, turn=turn, lift=lift)
