"""Clinical joint angles, pelvis signals and the project's ONE definition of a repetition.

Angles are in degrees per frame, computed from the canonical skeleton (metres, +y up):
- flexion angles read 0 when the limb is straight (knee, elbow) or in line with the trunk (hip);
- hip flexion is signed in the body's sagittal plane: + thigh in front of the trunk, - behind;
- shoulder elevation is the angle between the upper arm and the trunk's downward line
  (0 = arm hanging, 90 = horizontal, 180 = straight overhead), in any plane;
- trunk lean is the angle between pelvis->neck and vertical (0 = upright), in any direction.

A repetition is a prominent peak of one signal (see `SIGNALS`): each excursion away from the
rest pose and back counts once, at its extreme frame. `count_repetitions` is used by the app, the
kinematics view, the CSV and the evaluation, so they all agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d, minimum_filter1d
from scipy.signal import find_peaks

from llamo.errors import LlamoError
from llamo.motion import Motion
from llamo.skeleton import BODY_PARTS
from llamo.skeleton import JOINT_INDEX as J

FOOT_JOINTS = (J["left_ankle"], J["right_ankle"], J["left_foot"], J["right_foot"])

# Units of everything joint_angles/pelvis signals return (used by plots and the CSV header).
ANGLE_NAMES: tuple[str, ...] = (
    "left_knee_flexion",
    "right_knee_flexion",
    "left_hip_flexion",
    "right_hip_flexion",
    "left_elbow_flexion",
    "right_elbow_flexion",
    "left_shoulder_elevation",
    "right_shoulder_elevation",
    "trunk_lean",
)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors a and b, (..., 3) -> (...)."""
    cos = np.sum(_unit(a) * _unit(b), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def body_frame(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame trunk axes (up, forward), each (T, 3) unit vectors.

    up = pelvis->neck; forward = up x (left->right across hips and shoulders), the same rule as
    `llamo.skeleton.facing_direction` but tilting with the trunk.
    """
    up = _unit(joints[:, J["neck"]] - joints[:, J["pelvis"]])
    across = (joints[:, J["right_hip"]] - joints[:, J["left_hip"]]) + (
        joints[:, J["right_shoulder"]] - joints[:, J["left_shoulder"]]
    )
    forward = _unit(np.cross(up, across))
    return up, forward


def joint_angles(motion: Motion | np.ndarray) -> dict[str, np.ndarray]:
    """Clinical joint angles in degrees, each (T,) float32; names in `ANGLE_NAMES`."""
    joints = motion.joints if isinstance(motion, Motion) else np.asarray(motion, np.float32)
    joints = joints.astype(np.float64)
    up, forward = body_frame(joints)
    out: dict[str, np.ndarray] = {}
    for side in ("left", "right"):
        hip, knee, ankle = (joints[:, J[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
        sho, elb, wri = (joints[:, J[f"{side}_{n}"]] for n in ("shoulder", "elbow", "wrist"))
        out[f"{side}_knee_flexion"] = _angle(knee - hip, ankle - knee)
        thigh = knee - hip
        # Signed sagittal angle: atan2(forward part, downward part) of the thigh.
        out[f"{side}_hip_flexion"] = np.degrees(
            np.arctan2(np.sum(thigh * forward, -1), np.sum(thigh * -up, -1))
        )
        out[f"{side}_elbow_flexion"] = _angle(elb - sho, wri - elb)
        out[f"{side}_shoulder_elevation"] = _angle(elb - sho, -up)
    out["trunk_lean"] = _angle(up, np.array([0.0, 1.0, 0.0]))
    return {k: out[k].astype(np.float32) for k in ANGLE_NAMES}


def floor_height(joints: np.ndarray) -> float:
    """The ground: the lowest foot point over the whole clip (metres)."""
    return float(np.nanmin(joints[:, FOOT_JOINTS, 1]))


def local_ground(motion: Motion, window_s: float = 1.0) -> np.ndarray:
    """The ground under the person per frame, (T,) metres: the lower envelope of the lowest foot.

    A morphological opening (minimum then maximum filter over `window_s`) of the lowest foot
    point: it follows slow drift in height (video extraction drifts over a long clip) while
    flight phases (jumps, running), shorter than the window, do not lift it.
    """
    low = np.nanmin(motion.joints[:, FOOT_JOINTS, 1], axis=1).astype(np.float64)
    size = max(1, int(round(window_s * motion.fps)) | 1)
    ground = maximum_filter1d(minimum_filter1d(low, size, mode="nearest"), size, mode="nearest")
    return gaussian_filter1d(ground, max(0.1 * motion.fps, 1e-3), mode="nearest")


def pelvis_height(motion: Motion) -> np.ndarray:
    """Pelvis height above the local ground (`local_ground`), (T,) metres."""
    return (motion.joints[:, J["pelvis"], 1] - local_ground(motion)).astype(np.float32)


def pelvis_speed(motion: Motion, smooth_s: float = 0.1) -> np.ndarray:
    """Pelvis speed (3D), (T,) m/s, lightly smoothed so that jitter does not read as speed."""
    p = motion.joints[:, J["pelvis"]].astype(np.float64)
    if len(p) < 2:
        return np.zeros(len(p), np.float32)
    sigma = max(smooth_s * motion.fps, 0.0)
    if sigma > 0:
        p = gaussian_filter1d(p, sigma, axis=0, mode="nearest")
    v = np.gradient(p, axis=0) * motion.fps
    return np.linalg.norm(v, axis=-1).astype(np.float32)


def part_confidence(motion: Motion) -> dict[str, np.ndarray]:
    """Mean confidence per body part (see `llamo.skeleton.BODY_PARTS`), each (T,) in [0, 1]."""
    return {part: motion.confidence[:, list(idx)].mean(axis=1) for part, idx in BODY_PARTS.items()}


# --- repetition signals --------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """A 1-D signal whose excursions are repetitions.

    polarity +1: a repetition is a maximum (arm raise top); -1: a minimum (squat bottom);
    0: decided per clip, away from the rest value (the clip's start).
    scale: a typical full excursion, to compare signals of different units in `auto`.
    """

    name: str
    label: str
    unit: str
    fn: Callable[[Motion], np.ndarray]
    polarity: int
    scale: float
    smooth_s: float | None = None  # overrides RepConfig.smooth_s (fast movements: steps)


def _rel_height(motion: Motion, idx: tuple[int, ...]) -> np.ndarray:
    y = motion.joints[:, list(idx), 1].max(axis=1) - motion.joints[:, J["pelvis"], 1]
    return y.astype(np.float32)


def _wrist_reach(motion: Motion) -> np.ndarray:
    up, forward = body_frame(motion.joints.astype(np.float64))
    rel = motion.joints[:, [J["left_wrist"], J["right_wrist"]]] - motion.joints[:, [J["spine3"]]]
    return np.max(np.sum(rel * forward[:, None], -1), axis=1).astype(np.float32)


def foot_height(motion: Motion) -> np.ndarray:
    y = motion.joints[:, FOOT_JOINTS, 1].max(axis=1) - local_ground(motion)
    return y.astype(np.float32)


def flight_height(motion: Motion) -> np.ndarray:
    """Height of the LOWER foot above the local ground: > 0 only when both feet are off it."""
    feet = motion.joints[:, FOOT_JOINTS, 1]
    lower = np.minimum(feet[:, [0, 2]].min(axis=1), feet[:, [1, 3]].min(axis=1))
    return (lower - local_ground(motion)).astype(np.float32)


def _wrist_sway(motion: Motion) -> np.ndarray:
    """Side-to-side offset of the raised hand from its elbow, + = outward (a wave's outer point)."""
    up, forward = body_frame(motion.joints.astype(np.float64))
    left = np.cross(forward, up)  # the person's left
    w, e = [J["left_wrist"], J["right_wrist"]], [J["left_elbow"], J["right_elbow"]]
    lateral = np.sum((motion.joints[:, w] - motion.joints[:, e]) * left[:, None], -1)  # (T, 2)
    raised = int(np.argmax(motion.joints[:, w, 1].mean(axis=0)))
    x = lateral[:, raised] * (1.0 if raised == 0 else -1.0)
    # Only while that forearm points up (the hand 10 cm or more above its elbow), which covers
    # chin-height "bye" waves as well as overhead ones; elsewhere the signal sits at its floor.
    up_frames = motion.joints[:, w[raised], 1] > motion.joints[:, e[raised], 1] + 0.1
    if up_frames.any():
        low = np.percentile(x[up_frames], 10)
        x = np.where(up_frames, np.maximum(x, low), low)
    return x.astype(np.float32)


def _ankle_gap(motion: Motion) -> np.ndarray:
    d = motion.joints[:, J["left_ankle"]] - motion.joints[:, J["right_ankle"]]
    return np.linalg.norm(d[:, [0, 2]], axis=-1).astype(np.float32)


def _twist(motion: Motion) -> np.ndarray:
    """Yaw of the shoulder line relative to the hip line, degrees; + = shoulders turned to the person's left.

    Noisy from depth error (hips are narrow), hence its longer smoothing.
    """
    hips = motion.joints[:, J["right_hip"]] - motion.joints[:, J["left_hip"]]
    sho = motion.joints[:, J["right_shoulder"]] - motion.joints[:, J["left_shoulder"]]
    a = np.arctan2(hips[:, 2], hips[:, 0]) - np.arctan2(sho[:, 2], sho[:, 0])
    return np.degrees(np.angle(np.exp(1j * a))).astype(np.float32)


SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        Signal("pelvis_height", "pelvis height", "m", pelvis_height, 0, 0.25),
        Signal("jump_height", "pelvis height", "m", pelvis_height, +1, 0.25),
        Signal("wrist_height", "highest wrist above pelvis", "m",
               lambda m: _rel_height(m, (J["left_wrist"], J["right_wrist"])), +1, 0.5),
        Signal("left_wrist_height", "left wrist above pelvis", "m",
               lambda m: _rel_height(m, (J["left_wrist"],)), +1, 0.5),
        Signal("right_wrist_height", "right wrist above pelvis", "m",
               lambda m: _rel_height(m, (J["right_wrist"],)), +1, 0.5),
        Signal("wrist_sway", "raised hand's outward sway from its elbow", "m", _wrist_sway, +1, 0.2, 0.05),
        Signal("trunk_lean", "trunk lean", "deg", lambda m: joint_angles(m)["trunk_lean"], +1, 45.0),
        Signal("wrist_reach", "wrist reach forward of the chest", "m", _wrist_reach, +1, 0.4),
        Signal("foot_height", "highest foot above the ground", "m", foot_height, +1, 0.4),
        Signal("airborne", "lower foot above the ground (flight)", "m", flight_height, +1, 0.15),
        Signal("ankle_gap", "horizontal distance between ankles", "m", _ankle_gap, +1, 0.5, 0.04),
        Signal("torso_twist", "shoulder yaw against the hips (+ left)", "deg", _twist, +1, 40.0, 0.25),
    )
}  # fmt: skip
# Signals `auto` chooses among (each is one kind of movement). torso_twist is left out: the
# shoulder-line yaw is noisy from depth error (it "moves" in idle clips), so ask for it by name.
AUTO_SIGNALS = (
    "pelvis_height", "wrist_height", "trunk_lean", "wrist_reach", "foot_height", "ankle_gap", "airborne",
)  # fmt: skip
# Below this score (robust range / the signal's scale) on every signal, nothing repeats.
MIN_AUTO_SCORE = 0.5


@dataclass
class Repetitions:
    count: int
    peak_frames: list[int]  # frame index of each repetition's extreme
    signal_name: str
    signal: np.ndarray  # (T,) the signal in its own unit (not flipped)
    unit: str = ""
    label: str = ""
    polarity: int = 1  # +1: repetitions are maxima of `signal`, -1: minima
    peak_times: list[float] = field(default_factory=list)  # seconds from the clip start


@dataclass(frozen=True)
class RepConfig:
    smooth_s: float = 0.1  # Gaussian smoothing of the signal (seconds, sigma)
    min_prominence: float = 0.35  # share of the signal's robust range (p98 - p2) a peak must stand out
    min_scale_share: float = 0.15  # peaks smaller than this share of the signal's `scale` are noise
    min_distance_s: float = 0.25  # two repetitions are at least this far apart


def _robust_range(x: np.ndarray) -> float:
    return float(np.percentile(x, 98) - np.percentile(x, 2)) if len(x) else 0.0


def _detect(x: np.ndarray, fps: float, polarity: int, scale: float, cfg: RepConfig, smooth_s: float):
    """Peak frames of `polarity * x` after smoothing, or [] when the signal is flat."""
    if len(x) < 3:
        return [], polarity
    xs = gaussian_filter1d(x.astype(np.float64), max(smooth_s * fps, 1e-3), mode="nearest")
    span = _robust_range(xs)
    if span < cfg.min_scale_share * scale:
        return [], polarity or 1
    if polarity == 0:  # away from the rest value: where the clip starts (its first 10%)
        rest = float(np.median(xs[: max(1, len(xs) // 10)]))
        polarity = 1 if np.percentile(xs, 98) - rest >= rest - np.percentile(xs, 2) else -1
    y = polarity * xs
    # Pad with the rest level so that an excursion at the very start or end still counts.
    pad = int(max(2, cfg.min_distance_s * fps))
    rest_level = min(y[0], y[-1])
    yp = np.concatenate([np.full(pad, rest_level), y, np.full(pad, rest_level)])
    peaks, _ = find_peaks(
        yp,
        prominence=max(cfg.min_prominence * span, cfg.min_scale_share * scale),
        distance=max(1, int(round(cfg.min_distance_s * fps))),
    )
    peaks = [int(p - pad) for p in peaks if pad <= p < pad + len(y)]
    return peaks, polarity


def count_repetitions(motion: Motion, signal: str = "auto", config: RepConfig | None = None) -> Repetitions:
    """Count repetitions as prominent peaks of one signal.

    signal: a name in `SIGNALS`, or "auto": among `AUTO_SIGNALS`, the one that moves most
    relative to its typical excursion (a squat moves the pelvis most, an arm raise the wrists,
    walking the distance between the ankles), except that flight (both feet off the ground by
    its scale or more) always wins, and a single raise of a hand with several sways is a wave
    (signal wrist_sway); when no signal moves enough, the count is 0.
    """
    cfg = config or RepConfig()
    quiet = False
    if signal == "auto":
        scores = {
            name: _robust_range(SIGNALS[name].fn(motion)) / SIGNALS[name].scale for name in AUTO_SIGNALS
        }
        best = max(scores, key=scores.__getitem__)
        if scores["airborne"] >= 1.0:  # both feet leave the ground: jumps (or running strides)
            best = "airborne"
        best_score = scores[best]
        if best == "wrist_height" and best_score >= MIN_AUTO_SCORE:
            # A hand held up and waving: one raise, several sways.
            raise_ = _detect(SIGNALS["wrist_height"].fn(motion), motion.fps, +1, 0.5, cfg, cfg.smooth_s)[0]
            sways = _detect(_wrist_sway(motion), motion.fps, +1, 0.2, cfg, 0.05)[0]
            if len(raise_) <= 1 and len(sways) >= 2:
                best = "wrist_sway"
        signal, quiet = best, best_score < MIN_AUTO_SCORE
    if signal not in SIGNALS:
        raise LlamoError(f"Unknown repetition signal {signal!r}; choose auto or one of {', '.join(SIGNALS)}.")
    s = SIGNALS[signal]
    x = np.asarray(s.fn(motion), np.float32)
    smooth = cfg.smooth_s if s.smooth_s is None else s.smooth_s
    peaks, polarity = _detect(x, motion.fps, s.polarity, s.scale, cfg, smooth)
    if quiet:
        peaks = []
    return Repetitions(
        count=len(peaks),
        peak_frames=peaks,
        signal_name=signal,
        signal=x,
        unit=s.unit,
        label=s.label,
        polarity=polarity,
        peak_times=[p / motion.fps for p in peaks],
    )
