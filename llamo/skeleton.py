"""The canonical 22-joint skeleton (HumanML3D / SMPL order) and MediaPipe's 33 landmarks.

Conventions used everywhere in the project:
- metres, right-handed, +y up;
- "left" and "right" are the person's own sides, and so are directions ("moves left").
"""

from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip
NUM_JOINTS = len(JOINT_NAMES)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}
PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
# Bones as (parent, child) pairs, in joint order.
BONES: tuple[tuple[int, int], ...] = tuple((p, c) for c, p in enumerate(PARENTS) if p >= 0)


def joint_side(name: str) -> str:
    """'left', 'right' or 'centre' for a canonical joint name."""
    if name.startswith("left_"):
        return "left"
    if name.startswith("right_"):
        return "right"
    return "centre"


JOINT_SIDES: tuple[str, ...] = tuple(joint_side(n) for n in JOINT_NAMES)
BONE_SIDES: tuple[str, ...] = tuple(JOINT_SIDES[c] for _, c in BONES)

# Body parts, used for per-part confidence and warnings ("legs out of frame").
BODY_PARTS: dict[str, tuple[int, ...]] = {
    "head": (12, 15),
    "torso": (0, 3, 6, 9, 13, 14),
    "left_arm": (16, 18, 20),
    "right_arm": (17, 19, 21),
    "left_leg": (1, 4, 7, 10),
    "right_leg": (2, 5, 8, 11),
}

# MediaPipe Pose landmarks (33). Odd indices are the person's left, even the right.
MEDIAPIPE_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky",
    "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index",
    "right_foot_index",
)  # fmt: skip
MEDIAPIPE_INDEX: dict[str, int] = {n: i for i, n in enumerate(MEDIAPIPE_NAMES)}
# The 35 connections MediaPipe draws (for overlays).
MEDIAPIPE_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Bone lengths per frame: (T, 22, 3) -> (T, 21), in the units of the input."""
    parents = np.array([p for p, _ in BONES])
    children = np.array([c for _, c in BONES])
    return np.linalg.norm(joints[..., children, :] - joints[..., parents, :], axis=-1)


def facing_direction(joints: np.ndarray) -> np.ndarray:
    """Horizontal unit vector the body faces, per frame: (T, 22, 3) -> (T, 3).

    Built from the hips and shoulders: with +y up and right-handed axes, the person's forward is
    up x (left - right) ... i.e. cross(left→right across, up) points forward.
    """
    across = (joints[:, JOINT_INDEX["right_hip"]] - joints[:, JOINT_INDEX["left_hip"]]) + (
        joints[:, JOINT_INDEX["right_shoulder"]] - joints[:, JOINT_INDEX["left_shoulder"]]
    )
    up = np.array([0.0, 1.0, 0.0])
    forward = np.cross(up, across)  # right-handed: up x (left→right) = forward
    forward[:, 1] = 0.0
    norm = np.linalg.norm(forward, axis=-1, keepdims=True)
    return forward / np.maximum(norm, 1e-8)


def yaw_of(forward: np.ndarray) -> np.ndarray:
    """(T,) radians about +y of (T, 3) horizontal directions, 0 = +z, unwrapped."""
    return np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))


def heading(joints: np.ndarray) -> np.ndarray:
    """(T,) radians about +y of the way the body faces (`facing_direction`), 0 = +z, unwrapped."""
    return yaw_of(facing_direction(joints))


def rotate_y(v: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate (..., 3) vectors about +y by `angle` (T,) radians, broadcasting over middle dims."""
    c, s = np.cos(angle), np.sin(angle)
    while c.ndim < v.ndim - 1:
        c, s = c[..., None], s[..., None]
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([x * c + z * s, y, -x * s + z * c], axis=-1)
