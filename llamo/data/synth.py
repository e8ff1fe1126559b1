"""Procedural human motion with exact labels: the synthetic half of LLaMo's training data.

No motion QA dataset can be downloaded here, so we make motions ourselves. A small pose model
(joint angles on the canonical 22-joint skeleton) is driven by per-action repetition phases, then
posed with forward kinematics, put on the ground, given a body, a facing and a place, and finally
corrupted the way MediaPipe corrupts real people (jitter, depth error, dropouts, root drift).

Conventions (llamo.skeleton): metres, +y up, right-handed. In the body frame the person faces +z
and their own left is +x. Angles are degrees. Directions and sides are the person's own.

Labels in `motion.meta["labels"]`:
- segments: [{"action", "start", "end", "reps", "side", "direction", "tempo", "amplitude"}],
  frame indices, `end` exclusive;
- rep_peaks: frame index of each repetition's extreme (deepest squat, apex of a jump, heel strike
  of a step, the hand's outermost point of a wave, ...), over all segments, in time order;
- rep_spans: [start, end) frames of each repetition (for per-frame phase targets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llamo.errors import LlamoError
from llamo.motion import Motion
from llamo.skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS

ACTIONS: tuple[str, ...] = (
    "walk",
    "run",
    "jump",
    "squat",
    "lunge",
    "jumping_jack",
    "arm_raise",
    "wave",
    "punch",
    "kick",
    "bow",
    "bend_forward",
    "torso_twist",
    "sit_down",
    "stand_up",
    "idle",
)
# Not one of ACTIONS: unfamiliar movement (smooth random joint angles) for the "can't tell" class.
OTHER = "other"
SIDES = ("left", "right", "both")
DIRECTIONS = ("forward", "backward", "left", "right", "turn_left", "turn_right", "none")
# Actions where a side (arm or leg) is meaningful, and which limb it names.
SIDED: dict[str, str] = {"arm_raise": "arm", "wave": "arm", "punch": "arm", "kick": "leg", "lunge": "leg"}
# Directions each action can take; the first is used when the asked one does not apply.
ACTION_DIRECTIONS: dict[str, tuple[str, ...]] = {
    "walk": ("forward", "backward", "left", "right", "turn_left", "turn_right"),
    "run": ("forward", "turn_left", "turn_right"),
    "jump": ("none", "forward", "backward", "left", "right"),
    "lunge": ("forward", "backward"),
}
# One-shot actions: exactly one "repetition" (a transition); idle has none.
ONE_SHOT = ("sit_down", "stand_up")
# Seconds per repetition at tempo 1 (a step for walk and run; a full left-right cycle for twist).
BASE_PERIOD: dict[str, float] = {
    "walk": 0.55,
    "run": 0.36,
    "jump": 1.3,
    "squat": 2.2,
    "lunge": 2.4,
    "jumping_jack": 1.1,
    "arm_raise": 2.0,
    "wave": 0.6,
    "punch": 0.9,
    "kick": 1.4,
    "bow": 2.4,
    "bend_forward": 3.0,
    "torso_twist": 2.2,
    "sit_down": 1.8,
    "stand_up": 1.8,
    "idle": 1.0,
    OTHER: 1.0,
}
MAX_SEGMENT_SECONDS = 14.0
# Where in a repetition (0..1) its extreme lies.
PEAK_PHASE: dict[str, float] = {"jump": 0.55, "wave": 0.25, "punch": 0.35, "torso_twist": 0.25, "kick": 0.45}

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
_LEG_LEN = 0.40 + 0.41 + 0.07  # hip to ground, rest adult


# --------------------------------------------------------------------------- rotations


def _rx(deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _ry(deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rz(deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


# --------------------------------------------------------------------------- pose model

POSE_PARAMS = (
    "root_pitch", "root_roll", "root_yaw",
    "spine_pitch", "spine_yaw", "spine_roll", "neck_pitch",
    "hip_flex_L", "hip_flex_R", "hip_abd_L", "hip_abd_R", "knee_L", "knee_R",
    "sh_flex_L", "sh_flex_R", "sh_abd_L", "sh_abd_R", "elbow_L", "elbow_R", "elbow_z_L", "elbow_z_R",
)  # fmt: skip


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


def _forward_kinematics(p: dict[str, np.ndarray], body: Body) -> np.ndarray:
    """Joint angles (each (T,)) -> joints (T, 22, 3) in the body frame, pelvis at the origin."""
    t = len(p["root_pitch"])
    eye = np.broadcast_to(np.eye(3), (t, 3, 3))
    local = [eye] * NUM_JOINTS
    local[0] = _ry(p["root_yaw"]) @ _rx(p["root_pitch"]) @ _rz(p["root_roll"])
    spine = _ry(p["spine_yaw"] / 3) @ _rx(p["spine_pitch"] / 3) @ _rz(p["spine_roll"] / 3)
    for j in ("spine1", "spine2", "spine3"):
        local[_J[j]] = spine
    local[_J["neck"]] = _rx(p["neck_pitch"])
    for side, sign in (("L", 1.0), ("R", -1.0)):
        name = "left" if side == "L" else "right"
        hip, knee = p[f"hip_flex_{side}"], p[f"knee_{side}"]
        local[_J[f"{name}_hip"]] = _rz(sign * p[f"hip_abd_{side}"]) @ _rx(-hip)
        local[_J[f"{name}_knee"]] = _rx(knee)
        # keep the foot roughly flat: undo the shank's pitch
        local[_J[f"{name}_ankle"]] = _rx(np.clip(hip - knee - p["root_pitch"], -40, 40))
        local[_J[f"{name}_shoulder"]] = _rz(sign * p[f"sh_abd_{side}"]) @ _rx(-p[f"sh_flex_{side}"])
        local[_J[f"{name}_elbow"]] = _rz(sign * p[f"elbow_z_{side}"]) @ _rx(-p[f"elbow_{side}"])
    glob = [None] * NUM_JOINTS
    pos = np.zeros((t, NUM_JOINTS, 3))
    for j, parent in enumerate(PARENTS):
        if parent < 0:
            glob[j] = local[j]
            continue
        pos[:, j] = pos[:, parent] + glob[parent] @ body.offsets[j]
        glob[j] = glob[parent] @ local[j]
    return pos


def _rest(n: int) -> dict[str, np.ndarray]:
    p = {k: np.zeros(n) for k in POSE_PARAMS}
    p["sh_abd_L"][:] = p["sh_abd_R"][:] = 7.0
    p["elbow_L"][:] = p["elbow_R"][:] = 10.0
    p["knee_L"][:] = p["knee_R"][:] = 3.0
    return p


def _bump(p: np.ndarray) -> np.ndarray:
    """0 -> 1 -> 0 over a repetition phase in [0, 1], peak at 0.5."""
    return 0.5 * (1.0 - np.cos(2 * np.pi * np.clip(p, 0, 1)))


def _skew_bump(p: np.ndarray, peak: float) -> np.ndarray:
    """0 -> 1 -> 0 with the maximum at `peak` (a fast strike and a slower return)."""
    q = np.where(p < peak, 0.5 * p / peak, 0.5 + 0.5 * (p - peak) / (1 - peak))
    return _bump(q)


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


@dataclass
class _Ctx:
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
class _Out:
    pose: dict[str, np.ndarray]
    anchor: str = "mid"  # which foot stays planted: mid | left | right | none (locomotion)
    move: np.ndarray | None = None  # (n, 2) body-frame (x, z) displacement from segment start
    turn: np.ndarray | None = None  # (n,) yaw (deg, + = to the person's left) since segment start
    lift: np.ndarray | None = None  # (n,) extra height (flight)


def _rep_side(c: _Ctx) -> np.ndarray:
    """Per frame, 'L' or 'R' limb for sided actions; 'both' alternates starting with the right."""
    if c.side == "left":
        return np.full(len(c.k), "L")
    if c.side == "right":
        return np.full(len(c.k), "R")
    return np.where(c.k % 2 == 0, "R", "L")


def _guard(pose: dict, env: np.ndarray, sides=("L", "R")) -> None:
    for s in sides:
        pose[f"sh_flex_{s}"] = pose[f"sh_flex_{s}"] + 45 * env
        pose[f"elbow_{s}"] = pose[f"elbow_{s}"] + 110 * env
        pose[f"sh_abd_{s}"] = pose[f"sh_abd_{s}"] + 8 * env


def _gait(c: _Ctx, n: int, run: bool) -> _Out:
    pose = _rest(n)
    hip_a = (38 if run else 24) * c.amp
    knee_a = (95 if run else 55) * c.amp
    cycle_phase = (c.k + c.p) / 2.0  # two steps per gait cycle
    w = 2 * np.pi * cycle_phase
    env = c.env
    direction = c.direction
    sideways = direction in ("left", "right")
    back = direction == "backward"
    sgn = -1.0 if back else 1.0
    if sideways:
        lead = "L" if direction == "left" else "R"
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
        x = dist * (np.floor(steps) + _smooth(steps - np.floor(steps)))
        x *= 1.0 if lead == "L" else -1.0
        move = np.stack([x, np.zeros(n)], -1)
        return _Out(pose, anchor="none", move=move)
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
    step_len = 2 * _LEG_LEN * np.sin(np.radians(hip_a * env)) * (1.25 if run else 1.0)
    dt = np.gradient(c.t) if n > 1 else np.ones(n)
    dist = np.cumsum(step_len / c.period * dt) - step_len[0] / c.period * dt[0]
    turn = None
    if direction in ("turn_left", "turn_right"):
        total = c.rng.uniform(90, 270) * (1 if direction == "turn_left" else -1)
        turn = total * _smooth(c.t / max(c.t[-1], 1e-6))
    move = np.stack([np.zeros(n), sgn * dist], -1)
    lift = 0.05 * np.abs(np.sin(w)) * env if run else None
    return _Out(pose, anchor="none", move=move, turn=turn, lift=lift)


def _act(action: str, c: _Ctx, n: int) -> _Out:
    pose = _rest(n)
    a, p, env, rng = c.amp, c.p, c.env, c.rng
    s = _bump(p)
    if action in ("walk", "run"):
        return _gait(c, n, run=action == "run")
    if action == "squat":
        pose["hip_flex_L"] += 95 * a * s
        pose["hip_flex_R"] += 95 * a * s
        pose["knee_L"] += 118 * a * s
        pose["knee_R"] += 118 * a * s
        pose["hip_abd_L"] += 8 * s
        pose["hip_abd_R"] += 8 * s
        pose["spine_pitch"] += 38 * a * s
        arms_forward = rng.random() < 0.6
        for side in "LR":
            if arms_forward:
                pose[f"sh_flex_{side}"] += 85 * s
            else:
                pose[f"sh_flex_{side}"] += 35 * s
                pose[f"elbow_{side}"] += 90 * s
        return _Out(pose)
    if action == "lunge":
        limb = _rep_side(c)
        forward = c.direction != "backward"
        for side in "LR":
            mine = limb == side
            front = mine if forward else ~mine
            pose[f"hip_flex_{side}"] += np.where(front, 80, -22) * a * s
            pose[f"knee_{side}"] += np.where(front, 88, 85) * a * s
        pose["spine_pitch"] += 8 * s
        # anchor the foot that does not step
        stance = np.where(limb == "L", "right", "left")
        return _Out(pose, anchor=stance)  # per-frame anchor
    if action == "jump":
        crouch = _bump(np.clip(p / 0.4, 0, 1)) * (p < 0.4) + _bump(
            np.clip((p - 0.75) / 0.25, 0, 1) * 0.5 + 0.5
        ) * (p >= 0.75)
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
            prog = c.k + _smooth(f) * (p >= 0.4)
            move = np.stack([vec[0] * prog, vec[1] * prog], -1)
        return _Out(pose, move=move, lift=height)
    if action == "jumping_jack":
        for side in "LR":
            pose[f"sh_abd_{side}"] += 160 * a * s
            pose[f"elbow_{side}"] += 10 * s
            pose[f"hip_abd_{side}"] += 18 * a * s
        hop = 0.05 * np.abs(np.sin(2 * np.pi * p))
        return _Out(pose, lift=hop)
    if action == "arm_raise":
        lateral = rng.random() < 0.5
        sides = {"left": "L", "right": "R", "both": "LR"}[c.side]
        for side in sides:
            if lateral:
                pose[f"sh_abd_{side}"] += 155 * a * s
            else:
                pose[f"sh_flex_{side}"] += 165 * a * s
        return _Out(pose)
    if action == "wave":
        sides = {"left": "L", "right": "R", "both": "LR"}[c.side]
        for side in sides:
            pose[f"sh_abd_{side}"] += (15 + 70 * rng.random()) * env  # from chin-height "bye" to above the shoulder
            pose[f"sh_flex_{side}"] += 20 * env
            pose[f"elbow_z_{side}"] += (85 + 28 * a * np.sin(2 * np.pi * p)) * env
            pose[f"elbow_{side}"] += 10 * env
        return _Out(pose)
    if action == "punch":
        limb = _rep_side(c)
        _guard(pose, np.ones(n))
        strike = _skew_bump(p, PEAK_PHASE["punch"])
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
        return _Out(pose)
    if action == "kick":
        limb = _rep_side(c)
        _guard(pose, np.ones(n))
        strike = _skew_bump(p, PEAK_PHASE["kick"])
        chamber = _bump(np.clip(p / 0.45, 0, 1) * 0.5) * (p < 0.45) + (p >= 0.45) * _bump(
            0.5 + np.clip((p - 0.45) / 0.55, 0, 1) * 0.5
        )
        for side in "LR":
            mine = limb == side
            pose[f"hip_flex_{side}"] += np.where(mine, 80 * a * strike, 0)
            pose[f"knee_{side}"] += np.where(mine, 70 * chamber * (1 - strike) + 10 * strike, 10 * strike)
        pose["spine_pitch"] -= 10 * strike
        stance = np.where(limb == "L", "right", "left")
        return _Out(pose, anchor=stance)
    if action == "bow":
        pose["spine_pitch"] += 40 * a * s
        pose["root_pitch"] += 15 * a * s
        pose["hip_flex_L"] += 15 * a * s
        pose["hip_flex_R"] += 15 * a * s
        pose["neck_pitch"] += 10 * s
        pose["sh_flex_L"] += 30 * a * s
        pose["sh_flex_R"] += 30 * a * s
        return _Out(pose)
    if action == "bend_forward":
        trunk = 55 * a * s
        pelvis = 40 * a * s
        pose["spine_pitch"] += trunk
        pose["root_pitch"] += pelvis
        pose["hip_flex_L"] += pelvis
        pose["hip_flex_R"] += pelvis
        pose["sh_flex_L"] += trunk + pelvis
        pose["sh_flex_R"] += trunk + pelvis
        pose["knee_L"] += 8 * s
        pose["knee_R"] += 8 * s
        return _Out(pose)
    if action == "torso_twist":
        pose["spine_yaw"] += 45 * a * np.sin(2 * np.pi * p)
        pose["root_yaw"] += 8 * a * np.sin(2 * np.pi * p)
        hands_on_hips = rng.random() < 0.5
        for side in "LR":
            if hands_on_hips:
                pose[f"sh_abd_{side}"] += 35 * env
                pose[f"elbow_{side}"] += 100 * env
                pose[f"elbow_z_{side}"] -= 40 * env
            else:
                pose[f"sh_abd_{side}"] += 80 * env
        return _Out(pose)
    if action in ("sit_down", "stand_up"):
        q = p if action == "sit_down" else 1.0 - p
        seated = _smooth(q)
        lean = np.sin(np.pi * np.clip(q, 0, 1)) * 35 + 8 * seated
        for side in "LR":
            pose[f"hip_flex_{side}"] += 92 * seated
            pose[f"knee_{side}"] += 90 * seated
            pose[f"sh_flex_{side}"] += 30 * seated + 20 * np.sin(np.pi * q)
            pose[f"elbow_{side}"] += 35 * seated
            pose[f"hip_abd_{side}"] += 6 * seated
        pose["spine_pitch"] += lean
        return _Out(pose)
    if action == "idle":
        f1, f2, f3 = rng.uniform(0.15, 0.4, 3)
        ph = rng.uniform(0, 2 * np.pi, 4)
        pose["root_roll"] += 2.5 * np.sin(2 * np.pi * f1 * c.t + ph[0])
        pose["spine_pitch"] += 2.0 * np.sin(2 * np.pi * f2 * c.t + ph[1])
        pose["neck_pitch"] += 5 * np.sin(2 * np.pi * f3 * c.t + ph[2])
        pose["sh_flex_L"] += 4 * np.sin(2 * np.pi * f2 * c.t + ph[3])
        pose["sh_flex_R"] += 4 * np.sin(2 * np.pi * f1 * c.t + ph[2])
        if rng.random() < 0.4:  # arms crossed or hands together
            for side in "LR":
                pose[f"sh_flex_{side}"] += 25
                pose[f"elbow_{side}"] += 80
                pose[f"sh_abd_{side}"] += 5
        return _Out(pose)
    if action == OTHER:
        # unfamiliar movement: a few joints follow smooth random trajectories
        names = [k for k in POSE_PARAMS if k not in ("root_yaw",)]
        for key in rng.choice(names, size=int(rng.integers(3, 8)), replace=False):
            width = rng.uniform(10, 60) * a
            wobble = _lowpass_noise(rng, (n,), 20.0, rng.uniform(0.3, 1.0))
            wobble = wobble / max(float(np.abs(wobble).max()), 1e-6)
            pose[key] = pose[key] + width * wobble * env
        return _Out(pose)
    raise LlamoError(f"unknown action {action!r}")


# --------------------------------------------------------------------------- segments -> joints


@dataclass
class SegmentSpec:
    action: str
    reps: int = 3
    side: str = "both"
    direction: str = "forward"
    tempo: float = 1.0
    amplitude: float = 1.0


def _normalise(spec: SegmentSpec) -> SegmentSpec:
    if spec.action not in ACTIONS and spec.action != OTHER:
        raise LlamoError(f"unknown action {spec.action!r}; choose one of {', '.join(ACTIONS)}.")
    if spec.side not in SIDES:
        raise LlamoError(f"side must be one of {', '.join(SIDES)}, not {spec.side!r}.")
    if spec.direction not in DIRECTIONS:
        raise LlamoError(f"direction must be one of {', '.join(DIRECTIONS)}, not {spec.direction!r}.")
    if not 0.25 <= spec.tempo <= 4.0:
        raise LlamoError(f"tempo must be between 0.25 and 4, not {spec.tempo}.")
    if not 0.2 <= spec.amplitude <= 1.5:
        raise LlamoError(f"amplitude must be between 0.2 and 1.5, not {spec.amplitude}.")
    reps = int(spec.reps)
    if spec.action in ONE_SHOT:
        reps = 1
    elif spec.action in ("idle", OTHER):
        reps = 0
    elif not 1 <= reps <= 30:
        raise LlamoError(f"reps must be between 1 and 30, not {spec.reps}.")
    side = spec.side if spec.action in SIDED else "both"
    allowed = ACTION_DIRECTIONS.get(spec.action, ("none",))
    direction = spec.direction if spec.direction in allowed else allowed[0]
    return SegmentSpec(spec.action, reps, side, direction, float(spec.tempo), float(spec.amplitude))


def _segment_timing(spec: SegmentSpec, fps: float, rng: np.random.Generator):
    """Frame count and per-frame (phase, rep index, envelope) for a segment, plus rep spans/peaks."""
    period = BASE_PERIOD[spec.action] / spec.tempo
    if spec.action in ("idle", OTHER):
        dur = rng.uniform(2.0, 6.0)
        n = max(2, int(round(dur * fps)))
        z = np.zeros(n)
        t = np.arange(n) / fps
        env = np.minimum(_smooth(t / 0.5), _smooth((t[-1] - t) / 0.5)) if spec.action == OTHER else np.ones(n)
        return n, z, z.astype(int), env, [], [], period
    pre = 0.5 / spec.tempo if spec.action == "wave" else 0.0
    post_hold = rng.uniform(0.5, 1.2) if spec.action == "sit_down" else 0.0
    pre_hold = rng.uniform(0.5, 1.2) if spec.action == "stand_up" else 0.0
    post = pre + post_hold
    pre = pre + pre_hold
    # per-repetition periods vary independently (tempo is not tied to count)
    jitter = rng.uniform(0.85, 1.15, spec.reps) if spec.reps > 1 else np.ones(spec.reps)
    periods = period * jitter
    bounds = pre + np.concatenate([[0.0], np.cumsum(periods)])
    total = bounds[-1] + post
    n = max(2, int(round(total * fps)))
    t = np.arange(n) / fps
    k = np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, spec.reps - 1)
    p = np.clip((t - bounds[k]) / periods[k], 0.0, 1.0)
    p = np.where(t < bounds[0], 0.0, p)
    after = t >= bounds[-1]
    p = np.where(after, 1.0 if spec.action in ONE_SHOT else 0.0, p)
    ramp = 0.5 / spec.tempo if spec.action == "wave" else 0.45 * period
    env = np.ones(n)
    if spec.action in ("wave", "walk", "run", "torso_twist"):
        env = np.minimum(_smooth(t / ramp), _smooth((total - t) / ramp))
    if spec.action == "torso_twist":
        env = np.minimum(_smooth(t / 0.5), _smooth((total - t) / 0.5))
    peak = PEAK_PHASE.get(spec.action, 0.5 if spec.action not in ONE_SHOT else 1.0)
    peaks = [min(n - 1, int(round((bounds[i] + peak * periods[i]) * fps))) for i in range(spec.reps)]
    spans = [[int(round(bounds[i] * fps)), min(n, int(round(bounds[i + 1] * fps)))] for i in range(spec.reps)]
    return n, p, k, env, peaks, spans, period


def _place(joints_body: np.ndarray, out: _Out, body_rest: np.ndarray) -> np.ndarray:
    """Put the pelvis on the ground and keep the planted foot still (body frame)."""
    n = len(joints_body)
    feet = joints_body[:, [_J["left_ankle"], _J["right_ankle"], _J["left_foot"], _J["right_foot"]], 1]
    y = -feet.min(axis=1) + 0.015
    if out.lift is not None:
        y = y + out.lift
    shift = np.zeros((n, 3))
    shift[:, 1] = y
    anchor = out.anchor
    if isinstance(anchor, np.ndarray) or anchor != "none":
        la, ra = _J["left_ankle"], _J["right_ankle"]
        rest = {"left": body_rest[la], "right": body_rest[ra], "mid": 0.5 * (body_rest[la] + body_rest[ra])}
        cur = {
            "left": joints_body[:, la],
            "right": joints_body[:, ra],
            "mid": 0.5 * (joints_body[:, la] + joints_body[:, ra]),
        }
        names = np.broadcast_to(np.asarray(anchor), (n,))
        for name in ("left", "right", "mid"):
            sel = names == name
            shift[sel, 0] = rest[name][0] - cur[name][sel, 0]
            shift[sel, 2] = rest[name][2] - cur[name][sel, 2]
    return joints_body + shift[:, None, :]


def _compose(specs: list[SegmentSpec], seed: int, fps: float, noise: bool, gap: bool = True) -> Motion:
    rng = np.random.default_rng(seed)
    body = Body.sample(rng)
    rest = _forward_kinematics(_rest(1), body)[0]
    pieces, segments, peaks, spans = [], [], [], []
    heading = rng.uniform(-180, 180)
    position = rng.uniform(-1.0, 1.0, 2)  # world (x, z)
    frame = 0
    lead = int(round(rng.uniform(0.2, 0.7) * fps)) if gap else 0
    for i, raw in enumerate(specs):
        spec = _normalise(raw)
        n, p, k, env, seg_peaks, seg_spans, period = _segment_timing(spec, fps, rng)
        ctx = _Ctx(
            np.arange(n) / fps, p, k, env, spec.reps, spec.side, spec.direction, spec.amplitude, period, rng
        )
        out = _act(spec.action, ctx, n)
        # small per-clip style: trunk lean and head tilt
        out.pose["spine_pitch"] = out.pose["spine_pitch"] + rng.normal(0, 3)
        out.pose["neck_pitch"] = out.pose["neck_pitch"] + rng.normal(0, 5)
        if i == 0 and lead:  # a moment of standing (or sitting) before the first action
            first = {key: np.repeat(v[:1], lead) for key, v in out.pose.items()}
            out.pose = {key: np.concatenate([first[key], out.pose[key]]) for key in out.pose}
            if isinstance(out.anchor, np.ndarray):
                out.anchor = np.concatenate([np.repeat(out.anchor[:1], lead), out.anchor])
            for name in ("move", "turn", "lift"):
                v = getattr(out, name)
                if v is not None:
                    setattr(out, name, np.concatenate([np.repeat(v[:1], lead, axis=0), v]))
            offset = lead
        else:
            offset = 0
        m = len(out.pose["root_pitch"])
        joints = _place(_forward_kinematics(out.pose, body), out, rest)
        turn = np.zeros(m) if out.turn is None else out.turn
        move = np.zeros((m, 2)) if out.move is None else out.move
        yaw = heading + turn
        # rotate each frame's body-frame joints by the heading, then add the path
        rot = _ry(yaw)
        world = np.einsum("tij,tkj->tki", rot, joints)
        step = np.diff(move, axis=0, prepend=move[:1])
        step3 = np.stack([step[:, 0], np.zeros(m), step[:, 1]], -1)
        path = np.cumsum(np.einsum("tij,tj->ti", rot, step3), axis=0)
        world[:, :, 0] += position[0] + path[:, None, 0]
        world[:, :, 2] += position[1] + path[:, None, 2]
        pieces.append(world)
        start = frame + offset
        segments.append(
            {
                "action": spec.action,
                "start": int(start),
                "end": int(start + n),
                "reps": int(spec.reps),
                "side": spec.side,
                "direction": spec.direction,
                "tempo": round(float(spec.tempo), 4),
                "amplitude": round(float(spec.amplitude), 4),
            }
        )
        peaks += [start + q for q in seg_peaks]
        spans += [[start + a, start + b] for a, b in seg_spans]
        heading = float(yaw[-1])
        position = position + path[-1, [0, 2]]
        frame += m
    if gap:  # a moment of rest at the end
        tail = int(round(rng.uniform(0.2, 0.6) * fps))
        pieces.append(np.repeat(pieces[-1][-1:], tail, axis=0))
    joints = np.concatenate(pieces).astype(np.float64)
    confidence = np.ones(joints.shape[:2], np.float32)
    if noise:
        joints, confidence = _mediapipe_noise(joints, fps, rng)
    motion = Motion.from_joints(
        joints.astype(np.float32), fps, confidence=confidence, source_kind="synthetic"
    )
    motion.meta["labels"] = {"segments": segments, "rep_peaks": [int(x) for x in peaks], "rep_spans": spans}
    motion.meta["synth"] = {"seed": int(seed), "noise": bool(noise)}
    return motion


# --------------------------------------------------------------------------- MediaPipe-like noise


def _lowpass_noise(rng, shape, fps: float, cutoff_s: float) -> np.ndarray:
    """Gaussian noise smoothed over about `cutoff_s` seconds (unit std)."""
    x = rng.normal(size=shape)
    width = max(1, int(cutoff_s * fps))
    kernel = np.hanning(2 * width + 1)
    kernel /= np.sqrt((kernel**2).sum())
    pad = np.pad(x, [(width, width)] + [(0, 0)] * (x.ndim - 1), mode="reflect")
    out = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="valid"), 0, pad)
    return out[: shape[0]]


def _mediapipe_noise(joints: np.ndarray, fps: float, rng: np.random.Generator):
    """Jitter, depth error along a camera ray, camera tilt, root drift and dropouts."""
    t = joints.shape[0]
    j = joints.copy()
    level = rng.uniform(0.3, 1.2)  # some clips are much cleaner than others
    # camera: a horizontal viewing direction and a small tilt about the camera's x axis
    view = rng.uniform(0, 2 * np.pi)
    depth_dir = np.array([np.sin(view), 0.0, np.cos(view)])
    tilt = rng.normal(0, 4.0)
    centre = j[:, :1].mean(axis=0, keepdims=True)
    across = np.cross([0.0, 1.0, 0.0], depth_dir)
    c, s = np.cos(np.radians(tilt)), np.sin(np.radians(tilt))
    # Rodrigues rotation about `across`
    k = across / np.linalg.norm(across)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    rot = np.eye(3) + s * kx + (1 - c) * kx @ kx
    j = (j - centre) @ rot.T + centre
    # per-joint jitter, heavier at the extremities
    extremity = np.ones(NUM_JOINTS)
    for name in ("left_wrist", "right_wrist", "left_ankle", "right_ankle", "left_foot", "right_foot"):
        extremity[_J[name]] = 1.8
    j += rng.normal(0, 0.008 * level, j.shape) * extremity[None, :, None]
    # depth error: slowly varying, per joint, along the camera ray
    depth = _lowpass_noise(rng, (t, NUM_JOINTS), fps, 0.4) * 0.035 * level
    j += depth[..., None] * depth_dir
    # root error: the whole body drifts slowly (translation estimate from monocular video)
    drift = _lowpass_noise(rng, (t, 3), fps, 1.5) * np.array([0.04, 0.02, 0.07]) * level
    j += drift[:, None, :]
    # per-frame bone-length wobble (scale about the pelvis)
    scale = 1.0 + _lowpass_noise(rng, (t,), fps, 0.3) * 0.015 * level
    pelvis = j[:, :1]
    j = pelvis + (j - pelvis) * scale[:, None, None]
    confidence = np.clip(rng.normal(0.93, 0.04, (t, NUM_JOINTS)), 0.6, 1.0).astype(np.float32)
    # dropouts: limbs (or the whole body) unseen for a few frames, filled in by interpolation
    groups = [
        [_J[n] for n in ("left_elbow", "left_wrist")],
        [_J[n] for n in ("right_elbow", "right_wrist")],
        [_J[n] for n in ("left_knee", "left_ankle", "left_foot")],
        [_J[n] for n in ("right_knee", "right_ankle", "right_foot")],
        list(range(NUM_JOINTS)),
    ]
    for _ in range(rng.poisson(1.2 * level * max(t, 1) / (10 * fps))):
        group = groups[rng.integers(len(groups))]
        length = int(rng.integers(2, max(3, int(0.6 * fps))))
        start = int(rng.integers(0, max(1, t - length)))
        stop = min(t, start + length)
        before, after = max(0, start - 1), min(t - 1, stop)
        w = (np.arange(start, stop) - before) / max(after - before, 1)
        j[start:stop][:, group] = (1 - w)[:, None, None] * j[before, group] + w[:, None, None] * j[
            after, group
        ]
        confidence[start:stop][:, group] = 0.0
    return j, confidence


# --------------------------------------------------------------------------- public API


def synthesize(
    action: str,
    *,
    reps: int = 3,
    side: str = "both",
    direction: str = "forward",
    tempo: float = 1.0,
    amplitude: float = 1.0,
    seed: int = 0,
    noise: bool = True,
    fps: float = 20.0,
) -> Motion:
    """One action as a Motion with exact labels (see the module docstring).

    `side` and `direction` only apply where they make sense (SIDED, ACTION_DIRECTIONS); the labels
    record what was actually generated ("both"/"none" otherwise). Body, facing and place vary
    with `seed`; `noise=False` gives the clean kinematics.
    """
    spec = SegmentSpec(action, reps, side, direction, tempo, amplitude)
    return _compose([spec], seed=seed, fps=fps, noise=noise)


def synthesize_sequence(
    specs: list[SegmentSpec], *, seed: int = 0, noise: bool = True, fps: float = 20.0
) -> Motion:
    """Several actions one after another (for before/after questions)."""
    if not specs:
        raise LlamoError("a sequence needs at least one action.")
    return _compose(list(specs), seed=seed, fps=fps, noise=noise)


def random_spec(rng: np.random.Generator, action: str | None = None) -> SegmentSpec:
    """Random everything for one action, with tempo drawn independently of the count."""
    action = action or str(rng.choice(ACTIONS))
    reps = int(rng.integers(1, 13))
    if action in ("walk", "run"):
        reps = int(rng.integers(2, 13))
    side = str(rng.choice(SIDES, p=[0.35, 0.35, 0.3])) if action in SIDED else "both"
    directions = ACTION_DIRECTIONS.get(action, ("none",))
    if action == "jump":
        direction = "none" if rng.random() < 0.5 else str(rng.choice(directions[1:]))
    elif action == "walk":
        direction = "forward" if rng.random() < 0.35 else str(rng.choice(directions))
    else:
        direction = str(rng.choice(directions))
    tempo = float(np.exp(rng.uniform(np.log(0.55), np.log(1.9))))
    # keep a segment under ~14 s (slow, many-rep bows would otherwise run for a minute)
    tempo = max(tempo, BASE_PERIOD[action] * max(reps, 1) / MAX_SEGMENT_SECONDS)
    amplitude = float(rng.uniform(0.6, 1.2))
    return SegmentSpec(action, reps, side, direction, round(tempo, 3), round(amplitude, 3))


def random_sequence_specs(rng: np.random.Generator, n: int | None = None) -> list[SegmentSpec]:
    """1-3 distinct actions in an order that makes physical sense (sit before stand, etc.)."""
    n = n or int(rng.choice([1, 2, 3], p=[0.45, 0.35, 0.2]))
    specs: list[SegmentSpec] = []
    seated = False
    while len(specs) < n:
        if seated:
            action = "stand_up"
        elif not specs and rng.random() < 1 / len(ACTIONS):
            action = "stand_up"  # starts seated
        else:
            action = str(rng.choice([a for a in ACTIONS if a != "stand_up"]))
            if specs and action == specs[-1].action:
                continue
        spec = random_spec(rng, action)
        if n > 1:  # keep sequences a sensible length
            spec.reps = min(spec.reps, 6)
            spec.tempo = max(spec.tempo, BASE_PERIOD[action] * max(spec.reps, 1) / 8.0)
        specs.append(spec)
        seated = action == "sit_down"
    return specs


def random_clip(rng: np.random.Generator) -> Motion:
    """A clip of 1-3 actions with random parameters, body, facing and noise (mostly noisy)."""
    specs = random_sequence_specs(rng)
    seed = int(rng.integers(0, 2**31 - 1))
    return _compose(specs, seed=seed, fps=20.0, noise=bool(rng.random() < 0.85))
