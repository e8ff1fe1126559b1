"""Corrupt clean kinematics the way MediaPipe corrupts real people, so the model trains on
what capture gives it: jitter, depth error along the camera ray, camera tilt, root drift,
bone-length wobble and dropouts filled in by interpolation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llamo.skeleton import JOINT_INDEX, NUM_JOINTS

_J = JOINT_INDEX
_EXTREMITIES = ("left_wrist", "right_wrist", "left_ankle", "right_ankle", "left_foot", "right_foot")
# Joints that vanish together in a dropout: a forearm, a lower leg, or the whole body.
_DROPOUT_GROUPS = (
    ("left_elbow", "left_wrist"),
    ("right_elbow", "right_wrist"),
    ("left_knee", "left_ankle", "left_foot"),
    ("right_knee", "right_ankle", "right_foot"),
)


@dataclass
class Observed:
    """Joints as a capture would report them, with its per-joint confidence (0 where dropped)."""

    joints: np.ndarray  # (T, 22, 3)
    confidence: np.ndarray  # (T, 22) float32


def lowpass_noise(rng, shape, fps: float, cutoff_s: float) -> np.ndarray:
    """Gaussian noise smoothed over about `cutoff_s` seconds (unit std)."""
    x = rng.normal(size=shape)
    width = max(1, int(cutoff_s * fps))
    kernel = np.hanning(2 * width + 1)
    kernel /= np.sqrt((kernel**2).sum())
    pad = np.pad(x, [(width, width)] + [(0, 0)] * (x.ndim - 1), mode="reflect")
    out = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="valid"), 0, pad)
    return out[: shape[0]]


def _camera_tilt(j: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A horizontal viewing direction and a small tilt about the camera's x axis.

    Returns the tilted joints and the viewing (depth) direction."""
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
    return (j - centre) @ rot.T + centre, depth_dir


def _dropouts(j: np.ndarray, confidence: np.ndarray, fps: float, level: float, rng) -> None:
    """Limbs (or the whole body) unseen for a few frames, filled in by interpolation (in place)."""
    t = j.shape[0]
    groups = [[_J[n] for n in names] for names in _DROPOUT_GROUPS] + [list(range(NUM_JOINTS))]
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


def mediapipe_noise(joints: np.ndarray, fps: float, rng: np.random.Generator) -> Observed:
    """Jitter, depth error along a camera ray, camera tilt, root drift and dropouts."""
    t = joints.shape[0]
    level = rng.uniform(0.3, 1.2)  # some clips are much cleaner than others
    j, depth_dir = _camera_tilt(joints.copy(), rng)
    # per-joint jitter, heavier at the extremities
    extremity = np.ones(NUM_JOINTS)
    for name in _EXTREMITIES:
        extremity[_J[name]] = 1.8
    j += rng.normal(0, 0.008 * level, j.shape) * extremity[None, :, None]
    # depth error: slowly varying, per joint, along the camera ray
    depth = lowpass_noise(rng, (t, NUM_JOINTS), fps, 0.4) * 0.035 * level
    j += depth[..., None] * depth_dir
    # root error: the whole body drifts slowly (translation estimate from monocular video)
    drift = lowpass_noise(rng, (t, 3), fps, 1.5) * np.array([0.04, 0.02, 0.07]) * level
    j += drift[:, None, :]
    # per-frame bone-length wobble (scale about the pelvis)
    scale = 1.0 + lowpass_noise(rng, (t,), fps, 0.3) * 0.015 * level
    pelvis = j[:, :1]
    j = pelvis + (j - pelvis) * scale[:, None, None]
    confidence = np.clip(rng.normal(0.93, 0.04, (t, NUM_JOINTS)), 0.6, 1.0).astype(np.float32)
    _dropouts(j, confidence, fps, level, rng)
    return Observed(j, confidence)
