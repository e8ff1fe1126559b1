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
