"""One function per action: the joint angles of one segment from its repetition phases.

Each function takes the segment's ActionContext and returns an ActionOutput (pose added to the
rest pose, plus the planted foot, path, turn and flight height where the action has them).
ACTION_FUNCTIONS maps every action name (spec.ACTIONS and OTHER) to its function; adding an
action means a function here and a name there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from llamo.data.synth.body import POSE_PARAMS, rest_pose
from llamo.data.synth.context import ActionContext, ActionOutput, bump, rep_side, skew_bump, smooth
from llamo.data.synth.locomotion import run, walk
from llamo.data.synth.noise import lowpass_noise
from llamo.data.synth.spec import PEAK_PHASE
from llamo.errors import LlamoError
from llamo.labels import OTHER

ActionFn = Callable[[ActionContext], ActionOutput]
_LIMBS = {"left": "L", "right": "R", "both": "LR"}


def _guard(pose: dict, env: np.ndarray, sides=("L", "R")) -> None:
    """Fists up in front of the chest (the stance of punches and kicks)."""
    for s in sides:
        pose[f"sh_flex_{s}"] = pose[f"sh_flex_{s}"] + 45 * env
        pose[f"elbow_{s}"] = pose[f"elbow_{s}"] + 110 * env
        pose[f"sh_abd_{s}"] = pose[f"sh_abd_{s}"] + 8 * env


def squat(c: ActionContext) -> ActionOutput:
    pose, a, s = rest_pose(len(c.t)), c.amp, bump(c.p)
    pose["hip_flex_L"] += 95 * a * s
    pose["hip_flex_R"] += 95 * a * s
    pose["knee_L"] += 118 * a * s
    pose["knee_R"] += 118 * a * s
    pose["hip_abd_L"] += 8 * s
    pose["hip_abd_R"] += 8 * s
    pose["spine_pitch"] += 38 * a * s
    arms_forward = c.rng.random() < 0.6
    for side in "LR":
        if arms_forward:
            pose[f"sh_flex_{side}"] += 85 * s
        else:
            pose[f"sh_flex_{side}"] += 35 * s
            pose[f"elbow_{side}"] += 90 * s
    return ActionOutput(pose)


def lunge(c: ActionContext) -> ActionOutput:
    pose, a, s = rest_pose(len(c.t)), c.amp, bump(c.p)
    limb = rep_side(c)
    forward = c.direction != "backward"
    for side in "LR":
        mine = limb == side
        front = mine if forward else ~mine
        pose[f"hip_flex_{side}"] += np.where(front, 80, -22) * a * s
        pose[f"knee_{side}"] += np.where(front, 88, 85) * a * s
    pose["spine_pitch"] += 8 * s
    # anchor the foot that does not step
    stance = np.where(limb == "L", "right", "left")
    return ActionOutput(pose, anchor=stance)  # per-frame anchor


def jump(c: ActionContext) -> ActionOutput:
    pose, a, p = rest_pose(len(c.t)), c.amp, c.p
    crouch = bump(np.clip(p / 0.4, 0, 1)) * (p < 0.4) + bump(np.clip((p - 0.75) / 0.25, 0, 1) * 0.5 + 0.5) * (
        p >= 0.75
    )
    flight = (p >= 0.4) & (p < 0.75)
    f = np.clip((p - 0.4) / 0.35, 0, 1)
    height = 0.32 * a * np.sin(np.pi * f) * flight
    for side in "LR":
        pose[f"hip_flex_{side}"] += 70 * crouch + 15 * flight * np.sin(np.pi * f)
        pose[f"knee_{side}"] += 95 * crouch + 30 * flight * np.sin(np.pi * f)
        pose[f"sh_flex_{side}"] += -35 * crouch * (p < 0.4) + 150 * np.sin(
            np.pi * np.clip((p - 0.3) / 0.55, 0, 1)
        )
    pose["spine_pitch"] += 30 * crouch
    move = None
    if c.direction != "none":
        d = 0.45 * a
        vec = {"forward": (0, d), "backward": (0, -d), "left": (d, 0), "right": (-d, 0)}[c.direction]
        prog = c.k + smooth(f) * (p >= 0.4)
        move = np.stack([vec[0] * prog, vec[1] * prog], -1)
    return ActionOutput(pose, move=move, lift=height)


def jumping_jack(c: ActionContext) -> ActionOutput:
    pose, a, s = rest_pose(len(c.t)), c.amp, bump(c.p)
    for side in "LR":
        pose[f"sh_abd_{side}"] += 160 * a * s
        pose[f"elbow_{side}"] += 10 * s
        pose[f"hip_abd_{side}"] += 18 * a * s
    hop = 0.05 * np.abs(np.sin(2 * np.pi * c.p))
    return ActionOutput(pose, lift=hop)


def arm_raise(c: ActionContext) -> ActionOutput:
    pose, a, s = rest_pose(len(c.t)), c.amp, bump(c.p)
    lateral = c.rng.random() < 0.5
    for side in _LIMBS[c.side]:
        if lateral:
            pose[f"sh_abd_{side}"] += 155 * a * s
        else:
            pose[f"sh_flex_{side}"] += 165 * a * s
    return ActionOutput(pose)


def wave(c: ActionContext) -> ActionOutput:
    pose, a, env = rest_pose(len(c.t)), c.amp, c.env
    for side in _LIMBS[c.side]:
        pose[f"sh_abd_{side}"] += (
            15 + 70 * c.rng.random()
        ) * env  # from chin-height "bye" to above the shoulder
        pose[f"sh_flex_{side}"] += 20 * env
        pose[f"elbow_z_{side}"] += (85 + 28 * a * np.sin(2 * np.pi * c.p)) * env
        pose[f"elbow_{side}"] += 10 * env
    return ActionOutput(pose)


def punch(c: ActionContext) -> ActionOutput:
    n, a = len(c.t), c.amp
    pose = rest_pose(n)
    limb = rep_side(c)
    _guard(pose, np.ones(n))
    strike = skew_bump(c.p, PEAK_PHASE["punch"])
    for side in "LR":
        mine = (limb == side) * strike
        pose[f"sh_flex_{side}"] += 45 * a * mine
        pose[f"elbow_{side}"] -= 115 * a * mine
    turn = np.where(limb == "R", 1.0, -1.0) * 18 * strike  # right punch turns the trunk left
    pose["spine_yaw"] += turn
    pose["hip_flex_L"] += 12
    pose["knee_L"] += 12
    pose["hip_flex_R"] -= 8
    pose["knee_R"] += 10
    return ActionOutput(pose)


def kick(c: ActionContext) -> ActionOutput:
    n, a, p = len(c.t), c.amp, c.p
    pose = rest_pose(n)
    limb = rep_side(c)
    _guard(pose, np.ones(n))
    strike = skew_bump(p, PEAK_PHASE["kick"])
    chamber = bump(np.clip(p / 0.45, 0, 1) * 0.5) * (p < 0.45) + (p >= 0.45) * bump(
        0.5 + np.clip((p - 0.45) / 0.55, 0, 1) * 0.5
    )
    for side in "LR":
        mine = limb == side
        pose[f"hip_flex_{side}"] += np.where(mine, 80 * a * strike, 0)
        pose[f"knee_{side}"] += np.where(mine, 70 * chamber * (1 - strike) + 10 * strike, 10 * strike)
    pose["spine_pitch"] -= 10 * strike
    stance = np.where(limb == "L", "right", "left")
    return ActionOutput(pose, anchor=stance)


def bow(c: ActionContext) -> ActionOutput:
    pose, a, s = rest_pose(len(c.t)), c.amp, bump(c.p)
    pose["spine_pitch"] += 40 * a * s
    pose["root_pitch"] += 15 * a * s
    for side in "LR":
        pose[f"hip_flex_{side}"] += 15 * a * s
    pose["neck_pitch"] += 10 * s
    for side in "LR":
        pose[f"sh_flex_{side}"] += 30 * a * s
    return ActionOutput(pose)


def bend_forward(c: ActionContext) -> ActionOutput:
    pose, a, s = rest_pose(len(c.t)), c.amp, bump(c.p)
    trunk = 55 * a * s
    pelvis = 40 * a * s
    pose["spine_pitch"] += trunk
    pose["root_pitch"] += pelvis
    for side in "LR":
        pose[f"hip_flex_{side}"] += pelvis
    for side in "LR":
        pose[f"sh_flex_{side}"] += trunk + pelvis
    for side in "LR":
        pose[f"knee_{side}"] += 8 * s
    return ActionOutput(pose)


def torso_twist(c: ActionContext) -> ActionOutput:
    pose, a, env = rest_pose(len(c.t)), c.amp, c.env
    pose["spine_yaw"] += 45 * a * np.sin(2 * np.pi * c.p)
    pose["root_yaw"] += 8 * a * np.sin(2 * np.pi * c.p)
    hands_on_hips = c.rng.random() < 0.5
    for side in "LR":
        if hands_on_hips:
            pose[f"sh_abd_{side}"] += 35 * env
            pose[f"elbow_{side}"] += 100 * env
            pose[f"elbow_z_{side}"] -= 40 * env
        else:
            pose[f"sh_abd_{side}"] += 80 * env
    return ActionOutput(pose)


def _seat(c: ActionContext, q: np.ndarray) -> ActionOutput:
    """Sitting down and standing up: `q` goes from standing (0) to seated (1)."""
    pose = rest_pose(len(c.t))
    seated = smooth(q)
    lean = np.sin(np.pi * np.clip(q, 0, 1)) * 35 + 8 * seated
    for side in "LR":
        pose[f"hip_flex_{side}"] += 92 * seated
        pose[f"knee_{side}"] += 90 * seated
        pose[f"sh_flex_{side}"] += 30 * seated + 20 * np.sin(np.pi * q)
        pose[f"elbow_{side}"] += 35 * seated
        pose[f"hip_abd_{side}"] += 6 * seated
    pose["spine_pitch"] += lean
    return ActionOutput(pose)


def sit_down(c: ActionContext) -> ActionOutput:
    return _seat(c, c.p)


def stand_up(c: ActionContext) -> ActionOutput:
    return _seat(c, 1.0 - c.p)


def idle(c: ActionContext) -> ActionOutput:
    pose, rng, t = rest_pose(len(c.t)), c.rng, c.t
    f1, f2, f3 = rng.uniform(0.15, 0.4, 3)
    ph = rng.uniform(0, 2 * np.pi, 4)
    pose["root_roll"] += 2.5 * np.sin(2 * np.pi * f1 * t + ph[0])
    pose["spine_pitch"] += 2.0 * np.sin(2 * np.pi * f2 * t + ph[1])
    pose["neck_pitch"] += 5 * np.sin(2 * np.pi * f3 * t + ph[2])
    pose["sh_flex_L"] += 4 * np.sin(2 * np.pi * f2 * t + ph[3])
    pose["sh_flex_R"] += 4 * np.sin(2 * np.pi * f1 * t + ph[2])
    if rng.random() < 0.4:  # arms crossed or hands together
        for side in "LR":
            pose[f"sh_flex_{side}"] += 25
            pose[f"elbow_{side}"] += 80
            pose[f"sh_abd_{side}"] += 5
    return ActionOutput(pose)


def other(c: ActionContext) -> ActionOutput:
    """Unfamiliar movement: a few joints follow smooth random trajectories."""
    n, rng = len(c.t), c.rng
    pose = rest_pose(n)
    names = [k for k in POSE_PARAMS if k not in ("root_yaw",)]
    for key in rng.choice(names, size=int(rng.integers(3, 8)), replace=False):
        width = rng.uniform(10, 60) * c.amp
        wobble = lowpass_noise(rng, (n,), 20.0, rng.uniform(0.3, 1.0))
        wobble = wobble / max(float(np.abs(wobble).max()), 1e-6)
        pose[key] = pose[key] + width * wobble * c.env
    return ActionOutput(pose)


ACTION_FUNCTIONS: Mapping[str, ActionFn] = MappingProxyType(
    {
        "walk": walk,
        "run": run,
        "jump": jump,
        "squat": squat,
        "lunge": lunge,
        "jumping_jack": jumping_jack,
        "arm_raise": arm_raise,
        "wave": wave,
        "punch": punch,
        "kick": kick,
        "bow": bow,
        "bend_forward": bend_forward,
        "torso_twist": torso_twist,
        "sit_down": sit_down,
        "stand_up": stand_up,
        "idle": idle,
        OTHER: other,
    }
)


def act(action: str, c: ActionContext) -> ActionOutput:
    """The pose of one segment of `action`."""
    fn = ACTION_FUNCTIONS.get(action)
    if fn is None:
        raise LlamoError(f"unknown action {action!r}")
    return fn(c)
