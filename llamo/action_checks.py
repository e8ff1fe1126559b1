"""Is an action's defining movement there? A measured check on what the encoder's heads name.

The heads learned a closed set of actions, so an unfamiliar movement gets the nearest name: a
golf swing reads as a punch, a dance step as a jumping jack. Each action here has the one movement
without which the name is wrong, measured from the joints:

    wave          a forearm held up (hand 10 cm over the elbow) swings side to side
    arm_raise     a hand goes up to shoulder height or higher
    jump          both feet leave the ground (higher than extraction noise lifts them)
    jumping_jack  the feet spread sideways and a hand goes up to the shoulder
    squat, lunge, sit_down, stand_up   the hips go down and up (pelvis height changes)
    kick          a foot swings up off the ground
    punch         a straightened arm reaches forward of its shoulder
    bow, bend_forward                  the trunk leans forward

Walking, running, idle and twisting have no check (their names rest on the heads alone). A
frame supports an action when its movement appears within `WINDOW_S` of it. With
`Llamo.check_actions` on, `llamo.model.action_gate` moves the heads' probability of an
unsupported action to "other", so the summary reads "other" and the model says what the body
does instead of forcing a name. Each threshold sits under the smallest value that action's
labelled segments reach in the synthetic training clips (and ds2's, for waves and raises): they
test that a movement is present, not how well it is done. Real squats and punches were not
among them, and the checks rejected some (see action_gate's docstring).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.ndimage import maximum_filter1d

from llamo.kinematics import _airborne, _foot_height, body_frame, joint_angles, pelvis_height
from llamo.motion import Motion
from llamo.skeleton import JOINT_INDEX as J

WINDOW_S = 1.0  # a frame's movement may sit this far before or after it
FOREARM_UP_M = 0.1  # a waving hand is this far above its elbow
# name -> (measure, threshold): the movement is there where the measure reaches the threshold
THRESHOLDS: dict[str, float] = {
    "sway_m": 0.04,  # side-to-side range of a raised hand over the window
    "hand_lift_m": -0.10,  # highest wrist above its shoulder
    "airborne_m": 0.12,  # lower foot above the ground (noise in video lifts it 5-7 cm)
    "feet_apart_m": 0.25,  # side-to-side range of the gap between the ankles over the window
    "drop_m": 0.12,  # range of the pelvis height above the ground over the window
    "foot_up_m": 0.2,  # higher foot above the ground
    "reach_m": 0.3,  # wrist forward of its shoulder, the elbow within 60 deg of straight
    "lean_deg": 16.0,  # trunk from vertical
}


def _window(fps: float) -> int:
    """Frames in a centred window of +-WINDOW_S (odd)."""
    return max(1, int(round(2 * WINDOW_S * fps)) | 1)


def _window_range(x: np.ndarray, valid: np.ndarray, size: int) -> np.ndarray:
    """Max minus min of x over valid frames within a centred window of `size` frames (0 if none)."""
    hi = maximum_filter1d(np.where(valid, x, -np.inf), size, mode="nearest")
    lo = -maximum_filter1d(np.where(valid, -x, -np.inf), size, mode="nearest")
    return np.where(np.isfinite(hi) & np.isfinite(lo), hi - lo, 0.0)


def _sway(motion: Motion, size: int) -> np.ndarray:
    """(T,) side-to-side range (m) of a hand whose forearm points up, the larger of the two."""
    joints = motion.joints.astype(np.float64)
    up, forward = body_frame(joints)
    left = np.cross(forward, up)
    out = np.zeros(len(joints))
    for side in ("left", "right"):
        w, e = joints[:, J[f"{side}_wrist"]], joints[:, J[f"{side}_elbow"]]
        lateral = np.sum((w - e) * left, -1)
        raised = w[:, 1] > e[:, 1] + FOREARM_UP_M
        out = np.maximum(out, _window_range(lateral, raised, size))
    return out


def _feet_apart(motion: Motion, size: int) -> np.ndarray:
    """(T,) how far (m) the ankles' sideways gap opens and closes within the window."""
    joints = motion.joints.astype(np.float64)
    up, forward = body_frame(joints)
    gap = np.sum((joints[:, J["left_ankle"]] - joints[:, J["right_ankle"]]) * np.cross(forward, up), -1)
    return _window_range(gap, np.ones(len(gap), bool), size)


def _straight_reach(joints: np.ndarray, angles: dict[str, np.ndarray]) -> np.ndarray:
    """(T,) how far (m) a straightened arm's wrist is forward of its shoulder (0 when bent)."""
    _, forward = body_frame(joints)
    out = np.zeros(len(joints))
    for side in ("left", "right"):
        ahead = np.sum((joints[:, J[f"{side}_wrist"]] - joints[:, J[f"{side}_shoulder"]]) * forward, -1)
        out = np.maximum(out, np.where(angles[f"{side}_elbow_flexion"] < 60.0, ahead, 0.0))
    return out


def measures(motion: Motion) -> dict[str, np.ndarray]:
    """Each measure per frame, (T,) arrays, before the window: what the checks compare."""
    joints = motion.joints.astype(np.float64)
    angles = joint_angles(motion)
    size = _window(motion.fps)
    lift = np.max(
        joints[:, [J["left_wrist"], J["right_wrist"]], 1]
        - joints[:, [J["left_shoulder"], J["right_shoulder"]], 1],
        axis=1,
    )
    return {
        "sway_m": _sway(motion, size),
        "hand_lift_m": lift,
        "airborne_m": _airborne(motion).astype(np.float64),
        "feet_apart_m": _feet_apart(motion, size),
        "drop_m": _window_range(pelvis_height(motion).astype(np.float64), np.ones(len(joints), bool), size),
        "foot_up_m": _foot_height(motion).astype(np.float64),
        "reach_m": _straight_reach(joints, angles),
        "lean_deg": angles["trunk_lean"].astype(np.float64),
    }


Present = Callable[[dict[str, np.ndarray], int], np.ndarray]  # (measures, window) -> (T,) bool


def _at_least(name: str) -> Present:
    return lambda m, _size: m[name] >= THRESHOLDS[name]


# action -> where its defining movement is (per frame, before the window); see the docstring
CHECKS: dict[str, Present] = {
    "wave": _at_least("sway_m"),
    "arm_raise": _at_least("hand_lift_m"),
    "jump": _at_least("airborne_m"),
    "jumping_jack": lambda m, size: _windowed_and(m, size, ("feet_apart_m", "hand_lift_m")),
    "squat": _at_least("drop_m"),
    "lunge": _at_least("drop_m"),
    "sit_down": _at_least("drop_m"),
    "stand_up": _at_least("drop_m"),
    "kick": _at_least("foot_up_m"),
    "punch": _at_least("reach_m"),
    "bow": _at_least("lean_deg"),
    "bend_forward": _at_least("lean_deg"),
}


def _windowed_and(m: dict[str, np.ndarray], size: int, names: tuple[str, ...]) -> np.ndarray:
    """Frames whose window holds each of the movements (not necessarily on the same frame)."""
    out = np.ones(len(m[names[0]]), bool)
    for name in names:
        out &= maximum_filter1d((m[name] >= THRESHOLDS[name]).astype(np.uint8), size, mode="nearest") > 0
    return out


def action_support(motion: Motion, actions: tuple[str, ...]) -> np.ndarray:
    """(T, A) bool: frame t supports action a (its movement lies within `WINDOW_S`); actions
    without a check, and clips too short to measure, are supported everywhere."""
    t = motion.num_frames
    out = np.ones((t, len(actions)), bool)
    if t < 3:
        return out
    m = measures(motion)
    size = _window(motion.fps)
    for i, name in enumerate(actions):
        check = CHECKS.get(name)
        if check is not None:
            out[:, i] = maximum_filter1d(check(m, size).astype(np.uint8), size, mode="nearest") > 0
    return out
