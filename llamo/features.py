"""Per-frame motion features for the motion encoder (HumanML3D-style, plus confidence).

Root-relative joints lose where the body is and which way it turns, so, as HumanML3D's 263-d
vector does, we add back the root's velocity in the person's own facing frame, the yaw rate and
the root height. Everything positional is expressed in the facing frame (forward = +z, up = +y),
which makes the features invariant to where the person stands and which way the camera looks.

Layout of the F = 163 columns (see FEATURE_LAYOUT):
    local_joints   66  joints - pelvis, rotated into the facing frame (m)
    root_height     1  pelvis height above the clip's lowest foot point (m)
    root_velocity   3  pelvis velocity in the facing frame (m/s)
    yaw_rate        1  turning speed about +y (rad/s)
    joint_velocity 66  velocity of the local joints (m/s)
    confidence     22  per-joint confidence in [0, 1]
    foot_contact    4  left/right ankle and foot: slow and low (0/1)
"""

from __future__ import annotations

import numpy as np

from llamo.motion import Motion
from llamo.skeleton import JOINT_INDEX, NUM_JOINTS, heading, rotate_y

FEATURE_LAYOUT: tuple[tuple[str, int], ...] = (
    ("local_joints", NUM_JOINTS * 3),
    ("root_height", 1),
    ("root_velocity", 3),
    ("yaw_rate", 1),
    ("joint_velocity", NUM_JOINTS * 3),
    ("confidence", NUM_JOINTS),
    ("foot_contact", 4),
)
FEATURE_DIM = sum(n for _, n in FEATURE_LAYOUT)
FEET = tuple(JOINT_INDEX[n] for n in ("left_ankle", "left_foot", "right_ankle", "right_foot"))
CONTACT_SPEED = 0.5  # m/s
CONTACT_HEIGHT = 0.12  # m above the clip's lowest foot point


def _velocity(x: np.ndarray, fps: float) -> np.ndarray:
    """Backward difference per second; frame 0 copies frame 1 (zeros for 1-frame clips)."""
    if len(x) < 2:
        return np.zeros_like(x)
    v = np.diff(x, axis=0) * fps
    return np.concatenate([v[:1], v], axis=0)


def motion_features(motion: Motion) -> np.ndarray:
    """(T, 163) float32, un-normalised (the model normalises with its stored statistics)."""
    joints = np.nan_to_num(motion.joints.astype(np.float64))  # (T, 22, 3)
    t = joints.shape[0]
    if t == 0:
        return np.zeros((0, FEATURE_DIM), np.float32)
    fps = motion.fps
    root = joints[:, 0]  # (T, 3)
    yaw = heading(joints)  # (T,) angle of forward from +z
    to_facing = -yaw  # rotating by -yaw maps forward onto +z

    local = rotate_y(joints - root[:, None], to_facing)  # (T, 22, 3)
    floor = float(np.min(joints[:, FEET, 1]))
    height = (root[:, 1] - floor)[:, None]  # (T, 1)
    root_vel = rotate_y(_velocity(root, fps), to_facing)  # (T, 3)
    yaw_rate = _velocity(yaw[:, None], fps)  # (T, 1)
    joint_vel = _velocity(local, fps)  # (T, 22, 3)
    world_foot_speed = np.linalg.norm(_velocity(joints[:, FEET], fps), axis=-1)  # (T, 4)
    foot_height = joints[:, FEET, 1] - floor
    contact = ((world_foot_speed < CONTACT_SPEED) & (foot_height < CONTACT_HEIGHT)).astype(np.float64)
    conf = np.clip(np.nan_to_num(motion.confidence.astype(np.float64)), 0.0, 1.0)

    feats = np.concatenate(
        [local.reshape(t, -1), height, root_vel, yaw_rate, joint_vel.reshape(t, -1), conf, contact], axis=1
    )
    assert feats.shape == (t, FEATURE_DIM), feats.shape
    return feats.astype(np.float32)


def feature_stats(feature_list: list[np.ndarray]) -> tuple[list[float], list[float]]:
    """Per-column mean and std over many clips' features (std floored at 1e-2, confidence and
    contact columns left un-scaled), for `LlamoConfig.feature_mean/feature_std`."""
    allf = np.concatenate([np.asarray(f, np.float64) for f in feature_list], axis=0)
    mean = allf.mean(axis=0)
    std = np.maximum(allf.std(axis=0), 1e-2)
    start = 0
    for name, n in FEATURE_LAYOUT:
        if name in ("confidence", "foot_contact"):
            mean[start : start + n], std[start : start + n] = 0.0, 1.0
        start += n
    return mean.tolist(), std.tolist()
