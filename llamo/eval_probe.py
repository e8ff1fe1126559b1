"""A development probe for the kicking leg: real bodies whose legs move on one side.

The test set's kick (bandai_ds1) is the only real one-legged movement here, and it must not be
chosen on. ds2 has none: its takes walk, run, wave and raise the arms. So the probe grafts the
kicking leg of a clean synthetic kick onto a real standing ds2 validation take (a wave or a
raise): the trunk, the arms and the standing leg stay real, and only hip → knee → ankle → foot
of one side comes from the generator, scaled to the real leg and turned to the real body's
facing. The action tokens have seen no such clip, so the probe asks whether "which leg?" is
answered from the measured side (the evidence line's "leg used: ..."), which is what a real kick
needs. It is partly synthetic: it ranks checkpoints, it does not stand in for real kicks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from llamo.data.synth import synthesize
from llamo.motion import Motion
from llamo.skeleton import JOINT_INDEX as J
from llamo.skeleton import heading, rotate_y

LEG_CHAIN = ("knee", "ankle", "foot")


def _leg_length(joints: np.ndarray, side: str) -> float:
    hip, knee, ankle = (joints[0, J[f"{side}_{j}"]] for j in ("hip", "knee", "ankle"))
    return float(np.linalg.norm(knee - hip) + np.linalg.norm(ankle - knee))


def graft_leg(body: Motion, donor: Motion, side: str) -> Motion:
    """`body` with the `side` leg (knee, ankle, foot relative to the hip) taken from `donor`,
    frame by frame, as long as the shorter of the two."""
    if abs(body.fps - donor.fps) > 1e-6:
        raise ValueError("graft_leg needs two motions at the same frame rate.")
    n = min(body.num_frames, donor.num_frames)
    b = body.joints[:n].astype(np.float64)
    d = donor.joints[:n].astype(np.float64)
    hip = J[f"{side}_hip"]
    chain = [J[f"{side}_{j}"] for j in LEG_CHAIN]
    scale = _leg_length(b, side) / max(_leg_length(d, side), 1e-6)
    rel = rotate_y(d[:, chain] - d[:, [hip]], heading(b) - heading(d))  # (n, 3, 3) in the body's heading
    out = b.copy()
    out[:, chain] = b[:, [hip]] + scale * rel
    return Motion(
        out.astype(np.float32),
        body.fps,
        confidence=body.confidence[:n],
        source_times=body.source_times[:n],
        source_kind="probe",
        meta={"probe": f"{side} leg of a synthetic kick grafted onto a real take"},
    )


class Probe(NamedTuple):
    motion: Motion
    side: str  # left | right: the grafted kicking leg


def kick_probe(bodies: list[Motion], seed: int = 0) -> list[Probe]:
    """One grafted clip per standing body, the kicking side taken in turn."""
    out = []
    for i, body in enumerate(bodies):
        side = ("left", "right")[i % 2]
        donor = synthesize("kick", reps=3, side=side, noise=False, seed=seed + i, fps=body.fps)
        out.append(Probe(graft_leg(body, donor, side), side))
    return out


# A second probe whose leg does not come from `synthesize` (which the grafted training kicks of
# docs/training.md's trial E came from): four one-legged movements drawn from hand-written knots of
# hip flexion, hip abduction and knee flexion (degrees, at phases 0 → 1 of one repetition).
SWINGS: dict[str, dict[str, tuple[float, ...]]] = {
    "front kick": {"hip": (0, 45, 75, 35, 0), "abd": (0, 0, 0, 0, 0), "knee": (0, 100, 10, 60, 0)},
    "side raise": {"hip": (0, 10, 15, 10, 0), "abd": (0, 25, 45, 25, 0), "knee": (0, 10, 5, 10, 0)},
    "knee raise": {"hip": (0, 60, 90, 60, 0), "abd": (0, 5, 5, 5, 0), "knee": (0, 80, 95, 80, 0)},
    "back swing": {"hip": (0, -15, -30, -15, 0), "abd": (0, 0, 0, 0, 0), "knee": (0, 50, 70, 40, 0)},
}
KNOTS = (0.0, 0.3, 0.5, 0.75, 1.0)


def swing_curves(n: int, fps: float, swing: str, rng: np.random.Generator) -> np.ndarray:
    """(n, 3) radians of hip flexion, abduction and knee flexion: repetitions of `swing` with
    random durations (0.7-1.4 s), amplitudes (x0.8-1.2) and rests (0.3-0.9 s), smoothed over 5 frames."""
    knots = SWINGS[swing]
    out = np.zeros((n, 3))
    t = int(0.3 * fps)
    while True:
        length = int(rng.uniform(0.7, 1.4) * fps)
        if t + length > n:
            if out.any():
                break
            length = n - t  # a short clip still gets one repetition
        phase = np.linspace(0.0, 1.0, length)
        amp = rng.uniform(0.8, 1.2)
        for k, key in enumerate(("hip", "abd", "knee")):
            out[t : t + length, k] = amp * np.interp(phase, KNOTS, knots[key])
        t += length + int(rng.uniform(0.3, 0.9) * fps)
    kernel = np.ones(5) / 5
    smooth = np.stack([np.convolve(out[:, k], kernel, mode="same") for k in range(3)], axis=1)
    return np.radians(smooth)


def _bone(joints: np.ndarray, side: str, a: str, b: str) -> float:
    return float(np.linalg.norm(joints[0, J[f"{side}_{b}"]] - joints[0, J[f"{side}_{a}"]]))


def swing_leg(body: Motion, side: str, swing: str, seed: int = 0) -> Motion:
    """`body` with its `side` leg moved by `swing_curves`, hung from the real hip at the real
    bone lengths and turned with the body's facing."""
    b = body.joints.astype(np.float64)
    n = len(b)
    hip_flex, abd, knee = swing_curves(n, body.fps, swing, np.random.default_rng(seed)).T
    out_x = 1.0 if side == "left" else -1.0  # the body's local +x is the person's left
    shank = hip_flex - knee

    def local(angle: np.ndarray, spread: np.ndarray) -> np.ndarray:  # (n, 3), forward = +z
        return np.stack(
            [out_x * np.sin(spread), -np.cos(angle) * np.cos(spread), np.sin(angle) * np.cos(spread)], 1
        )

    yaw = heading(b)
    hip = b[:, J[f"{side}_hip"]]
    knee_at = hip + _bone(b, side, "hip", "knee") * rotate_y(local(hip_flex, abd), yaw)
    ankle_at = knee_at + _bone(b, side, "knee", "ankle") * rotate_y(local(shank, abd), yaw)
    toes = local(shank + np.radians(60), np.zeros(n))  # the foot points 60 deg ahead of the shank
    foot_at = ankle_at + _bone(b, side, "ankle", "foot") * rotate_y(toes, yaw)
    out = b.copy()
    for name, at in (("knee", knee_at), ("ankle", ankle_at), ("foot", foot_at)):
        out[:, J[f"{side}_{name}"]] = at
    return Motion(
        out.astype(np.float32),
        body.fps,
        confidence=body.confidence,
        source_times=body.source_times,
        source_kind="probe",
        meta={"probe": f"{side} leg: {swing} from hand-written angle curves, on a real take"},
    )


def swing_probe(bodies: list[Motion], seed: int = 0) -> list[Probe]:
    """One clip per standing body; the movement cycles through `SWINGS` and the side alternates,
    its order swapped each cycle (12 bodies: 3 of each movement, each on both sides)."""
    names = list(SWINGS)
    out = []
    for i, body in enumerate(bodies):
        side = ("left", "right")[(i // len(names) + i) % 2]
        swing = names[i % len(names)]
        out.append(Probe(swing_leg(body, side, swing, seed + i), side))
    return out
