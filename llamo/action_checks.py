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

import numpy as np
from scipy.ndimage import maximum_filter1d

from llamo.kinematics import body_frame, flight_height, foot_height, joint_angles, pelvis_height
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


def _body(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame forward and left unit vectors of the trunk (`body_frame`), each (T, 3)."""
    up, forward = body_frame(joints)
    return forward, np.cross(forward, up)


def _sway(joints: np.ndarray, left: np.ndarray, size: int) -> np.ndarray:
    """(T,) side-to-side range (m) of a hand whose forearm points up, the larger of the two."""
    out = np.zeros(len(joints))
    for side in ("left", "right"):
        w, e = joints[:, J[f"{side}_wrist"]], joints[:, J[f"{side}_elbow"]]
        lateral = np.sum((w - e) * left, -1)
        raised = w[:, 1] > e[:, 1] + FOREARM_UP_M
        out = np.maximum(out, _window_range(lateral, raised, size))
    return out


def _straight_reach(joints: np.ndarray, forward: np.ndarray, angles: dict[str, np.ndarray]) -> np.ndarray:
    """(T,) how far (m) a straightened arm's wrist is forward of its shoulder (0 when bent)."""
    out = np.zeros(len(joints))
    for side in ("left", "right"):
        ahead = np.sum((joints[:, J[f"{side}_wrist"]] - joints[:, J[f"{side}_shoulder"]]) * forward, -1)
        out = np.maximum(out, np.where(angles[f"{side}_elbow_flexion"] < 60.0, ahead, 0.0))
    return out


def measures(motion: Motion) -> dict[str, np.ndarray]:
    """Each measure per frame, (T,) arrays, before the window: what the checks compare."""
    joints = motion.joints.astype(np.float64)
    forward, left = _body(joints)
    angles = joint_angles(motion)
    size = _window(motion.fps)
    every = np.ones(len(joints), bool)
    wrists, shoulders = [J["left_wrist"], J["right_wrist"]], [J["left_shoulder"], J["right_shoulder"]]
    feet_gap = np.sum((joints[:, J["left_ankle"]] - joints[:, J["right_ankle"]]) * left, -1)
    return {
        "sway_m": _sway(joints, left, size),
        "hand_lift_m": np.max(joints[:, wrists, 1] - joints[:, shoulders, 1], axis=1),
        "airborne_m": flight_height(motion).astype(np.float64),
        "feet_apart_m": _window_range(feet_gap, every, size),
        "drop_m": _window_range(pelvis_height(motion).astype(np.float64), every, size),
        "foot_up_m": foot_height(motion).astype(np.float64),
        "reach_m": _straight_reach(joints, forward, angles),
        "lean_deg": angles["trunk_lean"].astype(np.float64),
    }


# action -> the measures that must all reach their threshold within the window (see the docstring)
CHECKS: dict[str, tuple[str, ...]] = {
    "wave": ("sway_m",),
    "arm_raise": ("hand_lift_m",),
    "jump": ("airborne_m",),
    "jumping_jack": ("feet_apart_m", "hand_lift_m"),
    "squat": ("drop_m",),
    "lunge": ("drop_m",),
    "sit_down": ("drop_m",),
    "stand_up": ("drop_m",),
    "kick": ("foot_up_m",),
    "punch": ("reach_m",),
    "bow": ("lean_deg",),
    "bend_forward": ("lean_deg",),
}


def action_support(motion: Motion, actions: tuple[str, ...]) -> np.ndarray:
    """(T, A) bool: frame t supports action a (its movement lies within `WINDOW_S`); actions
    without a check, and clips too short to measure, are supported everywhere."""
    t = motion.num_frames
    out = np.ones((t, len(actions)), bool)
    if t < 3:
        return out
    m, size = measures(motion), _window(motion.fps)
    near = {
        k: maximum_filter1d((v >= THRESHOLDS[k]).astype(np.uint8), size, mode="nearest") > 0
        for k, v in m.items()
    }
    for i, name in enumerate(actions):
        for needed in CHECKS.get(name, ()):
            out[:, i] &= near[needed]
    return out
