"""The body: a person's proportions and the joint-angle pose model posed by forward kinematics.

Body frame: the person faces +z and their own left is +x, +y up, metres; angles in degrees.
A pose is a dict of POSE_PARAMS, each (T,); actions add to the rest pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llamo.skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS

# Rest offsets of each joint from its parent (body frame, a ~1.70 m adult, arms hanging).
_OFFSETS = np.array(
    [
        [0.0, 0.0, 0.0],  # pelvis (root; placed separately)
        [0.085, -0.07, 0.0],  # left_hip
        [-0.085, -0.07, 0.0],  # right_hip
        [0.0, 0.11, -0.015],  # spine1
        [0.0, -0.40, 0.01],  # left_knee
        [0.0, -0.40, 0.01],  # right_knee
        [0.0, 0.13, 0.01],  # spine2
        [0.0, -0.41, -0.035],  # left_ankle
        [0.0, -0.41, -0.035],  # right_ankle
        [0.0, 0.06, 0.01],  # spine3
        [0.0, -0.055, 0.13],  # left_foot
        [0.0, -0.055, 0.13],  # right_foot
        [0.0, 0.21, -0.02],  # neck
        [0.075, 0.12, -0.005],  # left_collar
        [-0.075, 0.12, -0.005],  # right_collar
        [0.0, 0.10, 0.035],  # head
        [0.10, 0.03, -0.01],  # left_shoulder
        [-0.10, 0.03, -0.01],  # right_shoulder
        [0.0, -0.27, 0.0],  # left_elbow
        [0.0, -0.27, 0.0],  # right_elbow
        [0.0, -0.25, 0.01],  # left_wrist
        [0.0, -0.25, 0.01],  # right_wrist
    ],
    dtype=np.float64,
)
_J = JOINT_INDEX
LEG_LEN = 0.40 + 0.41 + 0.07  # hip to ground, rest adult

POSE_PARAMS = (
    "root_pitch", "root_roll", "root_yaw",
    "spine_pitch", "spine_yaw", "spine_roll", "neck_pitch",
    "hip_flex_L", "hip_flex_R", "hip_abd_L", "hip_abd_R", "knee_L", "knee_R",
    "sh_flex_L", "sh_flex_R", "sh_abd_L", "sh_abd_R", "elbow_L", "elbow_R", "elbow_z_L", "elbow_z_R",
)  # fmt: skip


def rx(deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def ry(deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rz(deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


@dataclass
class Body:
    """A person's proportions: per-joint offsets, already scaled."""

    offsets: np.ndarray  # (22, 3)

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Body:
        off = _OFFSETS.copy()
        off *= rng.uniform(0.82, 1.14)  # overall height (about 1.40-1.95 m)
        legs, arms, torso = rng.normal(1.0, 0.045, 3)
        for j in ("left_knee", "right_knee", "left_ankle", "right_ankle"):
            off[_J[j]] *= legs
        for j in ("left_elbow", "right_elbow", "left_wrist", "right_wrist"):
            off[_J[j]] *= arms
        for j in ("spine1", "spine2", "spine3", "neck"):
            off[_J[j]] *= torso
        width = rng.normal(1.0, 0.07)
        for j in ("left_collar", "right_collar", "left_shoulder", "right_shoulder"):
            off[_J[j], 0] *= width
        hips = rng.normal(1.0, 0.07)
        off[_J["left_hip"], 0] *= hips
        off[_J["right_hip"], 0] *= hips
        return cls(off)


def rest_pose(n: int) -> dict[str, np.ndarray]:
    """Standing, arms hanging slightly out and bent, knees soft: what every action adds to."""
    p = {k: np.zeros(n) for k in POSE_PARAMS}
    p["sh_abd_L"][:] = p["sh_abd_R"][:] = 7.0
    p["elbow_L"][:] = p["elbow_R"][:] = 10.0
    p["knee_L"][:] = p["knee_R"][:] = 3.0
    return p


def forward_kinematics(p: dict[str, np.ndarray], body: Body) -> np.ndarray:
    """Joint angles (each (T,)) -> joints (T, 22, 3) in the body frame, pelvis at the origin."""
    t = len(p["root_pitch"])
    eye = np.broadcast_to(np.eye(3), (t, 3, 3))
    local = [eye] * NUM_JOINTS
    local[0] = ry(p["root_yaw"]) @ rx(p["root_pitch"]) @ rz(p["root_roll"])
    spine = ry(p["spine_yaw"] / 3) @ rx(p["spine_pitch"] / 3) @ rz(p["spine_roll"] / 3)
    for j in ("spine1", "spine2", "spine3"):
        local[_J[j]] = spine
    local[_J["neck"]] = rx(p["neck_pitch"])
    for side, sign in (("L", 1.0), ("R", -1.0)):
        name = "left" if side == "L" else "right"
        hip, knee = p[f"hip_flex_{side}"], p[f"knee_{side}"]
        local[_J[f"{name}_hip"]] = rz(sign * p[f"hip_abd_{side}"]) @ rx(-hip)
        local[_J[f"{name}_knee"]] = rx(knee)
        # keep the foot roughly flat: undo the shank's pitch
        local[_J[f"{name}_ankle"]] = rx(np.clip(hip - knee - p["root_pitch"], -40, 40))
        local[_J[f"{name}_shoulder"]] = rz(sign * p[f"sh_abd_{side}"]) @ rx(-p[f"sh_flex_{side}"])
        local[_J[f"{name}_elbow"]] = rz(sign * p[f"elbow_z_{side}"]) @ rx(-p[f"elbow_{side}"])
    glob = [None] * NUM_JOINTS
    pos = np.zeros((t, NUM_JOINTS, 3))
    for j, parent in enumerate(PARENTS):
        if parent < 0:
            glob[j] = local[j]
            continue
        pos[:, j] = pos[:, parent] + glob[parent] @ body.offsets[j]
        glob[j] = glob[parent] @ local[j]
    return pos
