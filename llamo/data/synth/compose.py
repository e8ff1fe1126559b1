"""Segments -> one clip: timing, posing, placing on the ground and in the world, labels, noise.

One random generator, seeded once per clip, is drawn from in a fixed order (body, facing,
place, lead-in; per segment: timing, action, style; tail; noise), so a seed always gives the
same clip. Change that order and every stored seed means a different clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llamo.data.synth.actions import act
from llamo.data.synth.body import Body, forward_kinematics, rest_pose, ry
from llamo.data.synth.context import ActionContext, ActionOutput, smooth
from llamo.data.synth.noise import mediapipe_noise
from llamo.data.synth.spec import BASE_PERIOD, ONE_SHOT, PEAK_PHASE, SegmentSpec, normalise
from llamo.errors import LlamoError
from llamo.labels import OTHER
from llamo.motion import Motion
from llamo.skeleton import JOINT_INDEX

_J = JOINT_INDEX


@dataclass
class SegmentTiming:
    """Frame count and per-frame phase, repetition index and envelope of one segment."""

    n: int
    p: np.ndarray
    k: np.ndarray
    env: np.ndarray
    peaks: list[int]  # frame of each repetition's extreme, from the segment's start
    spans: list[list[int]]  # [start, end) frames of each repetition, from the segment's start
    period: float  # mean seconds per repetition


@dataclass
class _Placed:
    """A segment in the world, and where the person ends up facing and standing."""

    world: np.ndarray  # (m, 22, 3)
    heading: float
    position: np.ndarray  # world (x, z)


def _still_timing(spec: SegmentSpec, fps: float, period: float, rng) -> SegmentTiming:
    """Idle and unfamiliar movement: a few seconds with no repetitions."""
    dur = rng.uniform(2.0, 6.0)
    n = max(2, int(round(dur * fps)))
    z = np.zeros(n)
    t = np.arange(n) / fps
    env = np.minimum(smooth(t / 0.5), smooth((t[-1] - t) / 0.5)) if spec.action == OTHER else np.ones(n)
    return SegmentTiming(n, z, z.astype(int), env, [], [], period)


def segment_timing(spec: SegmentSpec, fps: float, rng: np.random.Generator) -> SegmentTiming:
    """Per-frame (phase, rep index, envelope) for a segment, plus its repetition spans and peaks."""
    period = BASE_PERIOD[spec.action] / spec.tempo
    if spec.action in ("idle", OTHER):
        return _still_timing(spec, fps, period, rng)
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
        env = np.minimum(smooth(t / ramp), smooth((total - t) / ramp))
    if spec.action == "torso_twist":
        env = np.minimum(smooth(t / 0.5), smooth((total - t) / 0.5))
    peak = PEAK_PHASE.get(spec.action, 0.5 if spec.action not in ONE_SHOT else 1.0)
    peaks = [min(n - 1, int(round((bounds[i] + peak * periods[i]) * fps))) for i in range(spec.reps)]
    spans = [[int(round(bounds[i] * fps)), min(n, int(round(bounds[i + 1] * fps)))] for i in range(spec.reps)]
    return SegmentTiming(n, p, k, env, peaks, spans, period)


def _place(joints_body: np.ndarray, out: ActionOutput, body_rest: np.ndarray) -> np.ndarray:
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


def _hold_first_frame(out: ActionOutput, lead: int) -> None:
    """A moment of standing (or sitting) before the first action: repeat its first frame."""
    first = {key: np.repeat(v[:1], lead) for key, v in out.pose.items()}
    out.pose = {key: np.concatenate([first[key], out.pose[key]]) for key in out.pose}
    if isinstance(out.anchor, np.ndarray):
        out.anchor = np.concatenate([np.repeat(out.anchor[:1], lead), out.anchor])
    for name in ("move", "turn", "lift"):
        v = getattr(out, name)
        if v is not None:
            setattr(out, name, np.concatenate([np.repeat(v[:1], lead, axis=0), v]))


def _to_world(out: ActionOutput, body: Body, rest: np.ndarray, heading: float, position) -> _Placed:
    """Pose, ground and plant the body, then turn it to `heading` and walk its path from `position`."""
    m = len(out.pose["root_pitch"])
    joints = _place(forward_kinematics(out.pose, body), out, rest)
    turn = np.zeros(m) if out.turn is None else out.turn
    move = np.zeros((m, 2)) if out.move is None else out.move
    yaw = heading + turn
    # rotate each frame's body-frame joints by the heading, then add the path
    rot = ry(yaw)
    world = np.einsum("tij,tkj->tki", rot, joints)
    step = np.diff(move, axis=0, prepend=move[:1])
    step3 = np.stack([step[:, 0], np.zeros(m), step[:, 1]], -1)
    path = np.cumsum(np.einsum("tij,tj->ti", rot, step3), axis=0)
    world[:, :, 0] += position[0] + path[:, None, 0]
    world[:, :, 2] += position[1] + path[:, None, 2]
    return _Placed(world, float(yaw[-1]), position + path[-1, [0, 2]])


def _segment_label(spec: SegmentSpec, start: int, n: int) -> dict:
    return {
        "action": spec.action,
        "start": int(start),
        "end": int(start + n),
        "reps": int(spec.reps),
        "side": spec.side,
        "direction": spec.direction,
        "tempo": round(float(spec.tempo), 4),
        "amplitude": round(float(spec.amplitude), 4),
    }


def compose(specs: list[SegmentSpec], seed: int, fps: float, noise: bool, gap: bool = True) -> Motion:
    """The clip of `specs` one after another, with labels in meta (see the package docstring)."""
    rng = np.random.default_rng(seed)
    body = Body.sample(rng)
    rest = forward_kinematics(rest_pose(1), body)[0]
    pieces, segments, peaks, spans = [], [], [], []
    heading = rng.uniform(-180, 180)
    position = rng.uniform(-1.0, 1.0, 2)  # world (x, z)
    frame = 0
    lead = int(round(rng.uniform(0.2, 0.7) * fps)) if gap else 0
    for i, raw in enumerate(specs):
        spec = normalise(raw)
        tm = segment_timing(spec, fps, rng)
        t = np.arange(tm.n) / fps
        ctx = ActionContext(
            t, tm.p, tm.k, tm.env, spec.reps, spec.side, spec.direction, spec.amplitude, tm.period, rng
        )
        out = act(spec.action, ctx)
        # small per-clip style: trunk lean and head tilt
        out.pose["spine_pitch"] = out.pose["spine_pitch"] + rng.normal(0, 3)
        out.pose["neck_pitch"] = out.pose["neck_pitch"] + rng.normal(0, 5)
        offset = lead if i == 0 else 0
        if offset:
            _hold_first_frame(out, offset)
        placed = _to_world(out, body, rest, heading, position)
        pieces.append(placed.world)
        start = frame + offset
        segments.append(_segment_label(spec, start, tm.n))
        peaks += [start + q for q in tm.peaks]
        spans += [[start + a, start + b] for a, b in tm.spans]
        heading, position = placed.heading, placed.position
        frame += len(placed.world)
    if gap:  # a moment of rest at the end
        tail = int(round(rng.uniform(0.2, 0.6) * fps))
        pieces.append(np.repeat(pieces[-1][-1:], tail, axis=0))
    joints = np.concatenate(pieces).astype(np.float64)
    confidence = np.ones(joints.shape[:2], np.float32)
    if noise:
        observed = mediapipe_noise(joints, fps, rng)
        joints, confidence = observed.joints, observed.confidence
    motion = Motion.from_joints(
        joints.astype(np.float32), fps, confidence=confidence, source_kind="synthetic"
    )
    motion.meta["labels"] = {"segments": segments, "rep_peaks": [int(x) for x in peaks], "rep_spans": spans}
    motion.meta["synth"] = {"seed": int(seed), "noise": bool(noise)}
    return motion


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
    """One action as a Motion with exact labels (see the package docstring).

    `side` and `direction` only apply where they make sense (SIDED, ACTION_DIRECTIONS); the labels
    record what was actually generated ("both"/"none" otherwise). Body, facing and place vary
    with `seed`; `noise=False` gives the clean kinematics.
    """
    spec = SegmentSpec(action, reps, side, direction, tempo, amplitude)
    return compose([spec], seed=seed, fps=fps, noise=noise)


def synthesize_sequence(
    specs: list[SegmentSpec], *, seed: int = 0, noise: bool = True, fps: float = 20.0
) -> Motion:
    """Several actions one after another (for before/after questions)."""
    if not specs:
        raise LlamoError("a sequence needs at least one action.")
    return compose(list(specs), seed=seed, fps=fps, noise=noise)
