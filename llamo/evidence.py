"""What was measured: a short, deterministic description of a clip, in plain words with numbers.

The language model gets this text beside the native motion tokens, and the app shows it next to
each answer ("What the model measured") so an expert can check what the answer rests on. It is
built only from `llamo.kinematics` and the joints, so it is the same on every run and for every
wording of a question. Everything is in the person's own frame: "forward" is where the body
faced in the first second, "left" is the person's left.

A few dozen tokens, one clause per fact:

    Measured: 13.0 s; 3 reps (pelvis up-down) at 2.1, 6.0 and 10.2 s; moving 0.4-12.6 s;
    most movement: both legs; in place; peak angles knee 96, hip 80, elbow 30, ... deg.

The expert's form (`Evidence.report`) numbers the repetitions: "1st 2.1 s, 2nd 6.0 s, 3rd 10.2 s".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.ndimage import gaussian_filter1d

from llamo.kinematics import count_repetitions, flight_height, joint_angles
from llamo.motion import Motion
from llamo.skeleton import JOINT_INDEX as J
from llamo.skeleton import facing_direction, yaw_of

LIMBS = {
    "left arm": J["left_wrist"],
    "right arm": J["right_wrist"],
    "left leg": J["left_ankle"],
    "right leg": J["right_ankle"],
}
MOVING_SPEED = 0.25  # m/s of the fastest limb end (relative to the pelvis) that counts as moving
MIN_SEGMENT_S = 0.4  # still/moving spans shorter than this merge into their neighbours
AIRBORNE_M = 0.06  # both feet this far above the local ground is flight
STAY_M = 0.3  # less horizontal travel than this is "stays in place"
BOTH_SIDES = 0.75  # the less travelled limb end within this share of the other: "both"
EVIDENCE_PREFIX = "Measured:"


@dataclass(frozen=True)
class Span:
    start: float  # seconds
    end: float
    moving: bool


@dataclass(frozen=True)
class Evidence:
    """Every measured fact, typed; `text` is what the model and the expert read."""

    duration: float
    rep_count: int
    rep_signal: str
    rep_times: list[float]
    spans: list[Span]
    limb_activity: dict[str, float]  # mean speed of each limb end relative to the pelvis, m/s
    travel_m: float
    travel_direction: str  # forward | backward | left | right | none (person's initial frame)
    turn_deg: float  # + = turned to the person's left
    speed_mps: float  # mean horizontal pelvis speed while moving
    angle_max: dict[str, float] = field(default_factory=dict)
    airborne_times: list[float] = field(default_factory=list)
    arm_side: str = "both"  # left | right | both: the wrist that travels most (`limb_side`)
    leg_side: str = "both"

    @property
    def text(self) -> str:
        """What the model reads."""
        return describe(self)

    @property
    def report(self) -> str:
        """What the expert reads beside the answer ("What the model measured")."""
        return describe(self, full=True)


def _times(ts: list[float]) -> str:
    words = [f"{t:.1f}" for t in ts]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _spans(active: np.ndarray, fps: float) -> list[Span]:
    """Runs of moving / still frames, the short ones merged into their neighbours."""
    if not len(active):
        return []
    edges = np.flatnonzero(np.diff(active.astype(np.int8))) + 1
    bounds = [0, *edges.tolist(), len(active)]
    runs = [[bounds[i], bounds[i + 1], bool(active[bounds[i]])] for i in range(len(bounds) - 1)]
    merged: list[list] = []
    for run in runs:
        short = (run[1] - run[0]) / fps < MIN_SEGMENT_S
        if merged and (short or merged[-1][2] == run[2]):
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    if len(merged) > 1 and (merged[0][1] - merged[0][0]) / fps < MIN_SEGMENT_S:
        merged[1][0] = 0
        merged.pop(0)
    return [Span(round(a / fps, 1), round(b / fps, 1), m) for a, b, m in merged]


def _limb_speeds(joints: np.ndarray, fps: float) -> tuple[dict[str, float], np.ndarray]:
    rel = joints[:, list(LIMBS.values())] - joints[:, [J["pelvis"]]]  # (T, 4, 3)
    rel = gaussian_filter1d(rel.astype(np.float64), max(0.1 * fps, 1e-3), axis=0, mode="nearest")
    speed = np.linalg.norm(np.gradient(rel, axis=0), axis=-1) * fps  # (T, 4)
    mean = {name: float(speed[:, i].mean()) for i, name in enumerate(LIMBS)}
    return mean, speed.max(axis=1)


def limb_paths(joints: np.ndarray, left: int, right: int) -> np.ndarray:
    """(2,) how far the left and the right limb end travel relative to the pelvis, in metres."""
    rel = joints[:, [left, right]] - joints[:, [J["pelvis"]]]
    return np.linalg.norm(np.diff(rel, axis=0), axis=-1).sum(axis=0)


def limb_side(joints: np.ndarray, left: int, right: int) -> str:
    """left / right / both: whose limb end travels further relative to the pelvis. Answers about
    "which arm" or "which leg" rest on this; the real-motion evaluation takes it as its truth."""
    path = limb_paths(joints, left, right)
    if min(path) > BOTH_SIDES * max(path):
        return "both"
    return "left" if path[0] > path[1] else "right"


SIDE_ENDS = {"arm": ("left_wrist", "right_wrist"), "leg": ("left_ankle", "right_ankle")}


def pair_side(joints: np.ndarray, limb: str) -> str:
    """`limb_side` of the arms (wrists) or the legs (ankles): the evidence's and the truth's side."""
    left, right = SIDE_ENDS[limb]
    return limb_side(joints, J[left], J[right])


def most_moving(activity: dict[str, float]) -> str:
    """'right arm', 'both legs', 'whole body' ... from mean limb speeds."""
    arms = activity["left arm"] + activity["right arm"]
    legs = activity["left leg"] + activity["right leg"]
    group, (lft, rgt) = (
        ("arms", ("left arm", "right arm")) if arms >= legs else ("legs", ("left leg", "right leg"))
    )
    if min(arms, legs) > 0.6 * max(arms, legs):
        return "arms and legs alike"
    a, b = activity[lft], activity[rgt]
    if max(a, b) < 1e-6:
        return "nothing"
    if min(a, b) > 0.6 * max(a, b):
        return f"both {group}"
    return lft if a > b else rgt


class Travel(NamedTuple):
    distance_m: float
    direction: str  # forward | backward | left | right | none, in the person's initial frame
    turn_deg: float  # + = turned to the person's left


def travel(joints: np.ndarray, fps: float) -> Travel:
    """Horizontal displacement in the initial body frame, and the yaw turned."""
    head = max(1, min(int(round(fps)), len(joints) // 4))  # the first second, or quarter
    face = facing_direction(joints)
    f0 = face[:head].mean(axis=0)
    f0 = f0 / max(float(np.linalg.norm(f0)), 1e-8)
    left0 = np.cross(np.array([0.0, 1.0, 0.0]), f0)  # up x forward = the person's left
    delta = joints[-head:, J["pelvis"]].mean(axis=0) - joints[:head, J["pelvis"]].mean(axis=0)
    delta[1] = 0.0
    dist = float(np.linalg.norm(delta))
    fwd, lat = float(delta @ f0), float(delta @ left0)
    if dist < STAY_M:
        direction = "none"
    elif abs(fwd) >= abs(lat):
        direction = "forward" if fwd > 0 else "backward"
    else:
        direction = "left" if lat > 0 else "right"
    yaw = gaussian_filter1d(yaw_of(face), max(0.2 * fps, 1e-3), mode="nearest")
    turn = float(np.degrees(yaw[-head:].mean() - yaw[:head].mean()))
    return Travel(dist, direction, turn)


def _airborne_times(motion: Motion) -> list[float]:
    flight = flight_height(motion) > AIRBORNE_M
    spans = [s for s in _spans(flight, motion.fps) if s.moving and s.end - s.start >= 0.1]
    return [round((s.start + s.end) / 2, 1) for s in spans]


def measure(motion: Motion) -> Evidence:
    """All measured facts of one clip (deterministic; about 20 ms for a 10 s clip)."""
    joints = motion.joints.astype(np.float64)
    fps = float(motion.fps)
    if len(joints) < 3:  # too short to differentiate: nothing moves, nothing repeats
        return Evidence(
            round(motion.duration, 1), 0, "", [], [], dict.fromkeys(LIMBS, 0.0), 0.0, "none", 0, 0.0
        )
    reps = count_repetitions(motion)
    activity, fastest = _limb_speeds(joints, fps)
    spans = _spans(fastest > MOVING_SPEED, fps)
    dist, direction, turn = travel(joints, fps)
    pelvis = gaussian_filter1d(joints[:, J["pelvis"]][:, [0, 2]], max(0.1 * fps, 1e-3), axis=0)
    hspeed = np.linalg.norm(np.gradient(pelvis, axis=0), axis=-1) * fps
    moving = fastest > MOVING_SPEED
    angles = joint_angles(motion)
    angle_max = {
        "knee flexion": float(max(np.percentile(angles["left_knee_flexion"], 98), np.percentile(angles["right_knee_flexion"], 98))),
        "hip flexion": float(max(np.percentile(angles["left_hip_flexion"], 98), np.percentile(angles["right_hip_flexion"], 98))),
        "elbow flexion": float(max(np.percentile(angles["left_elbow_flexion"], 98), np.percentile(angles["right_elbow_flexion"], 98))),
        "shoulder elevation": float(max(np.percentile(angles["left_shoulder_elevation"], 98), np.percentile(angles["right_shoulder_elevation"], 98))),
        "trunk lean": float(np.percentile(angles["trunk_lean"], 98)),
    }  # fmt: skip
    return Evidence(
        duration=round(motion.duration, 1),
        rep_count=reps.count,
        rep_signal=reps.signal_name,
        rep_times=[round(t, 1) for t in reps.peak_times],
        spans=spans,
        limb_activity=activity,
        travel_m=round(dist, 1),
        travel_direction=direction,
        turn_deg=round(turn),
        speed_mps=round(float(hspeed[moving].mean()) if moving.any() else 0.0, 1),
        angle_max={k: round(v) for k, v in angle_max.items()},
        airborne_times=_airborne_times(motion),
        arm_side=pair_side(joints, "arm"),
        leg_side=pair_side(joints, "leg"),
    )


# Short names of the repetition signals (`llamo.kinematics.SIGNALS`), to keep the text brief.
SIGNAL_WORDS = {
    "pelvis_height": "pelvis up-down", "jump_height": "jumps", "wrist_height": "hand raises",
    "left_wrist_height": "left hand raises", "right_wrist_height": "right hand raises",
    "wrist_sway": "hand sways", "trunk_lean": "trunk bends", "wrist_reach": "arm reaches",
    "foot_height": "foot lifts", "airborne": "flights", "ankle_gap": "steps", "torso_twist": "twists",
}  # fmt: skip
MAX_LISTED = 6  # more repetitions than this are given as a count and a period


def _reps_clause(ev: Evidence, numbered: bool = False) -> str:
    """'3 reps (pelvis up-down) at 2.1, 6.0 and 10.2 s' for the model (the form it was trained
    on); numbered for the expert ('1st 2.1 s, 2nd 6.0 s, ...'), so that "the second squat is at
    6.0 s" can be checked at a glance. Long runs: the first few, the last and the period."""
    if ev.rep_count == 0:
        return "no repetitions"
    what = SIGNAL_WORDS.get(ev.rep_signal, ev.rep_signal)
    gap = (ev.rep_times[-1] - ev.rep_times[0]) / max(ev.rep_count - 1, 1)
    if numbered and ev.rep_count > 1:
        shown = list(enumerate(ev.rep_times, start=1))
        if ev.rep_count > MAX_LISTED:
            shown = shown[: MAX_LISTED - 2] + shown[-1:]
        listed = ", ".join(f"{_ordinal(n)} {t:.1f} s" for n, t in shown)
        every = f", every {gap:.1f} s" if ev.rep_count > MAX_LISTED else ""
        return f"{ev.rep_count} reps ({what}): {listed}{every}"
    if ev.rep_count > MAX_LISTED:
        return (
            f"{ev.rep_count} reps ({what}), {ev.rep_times[0]:.1f}-{ev.rep_times[-1]:.1f} s, every {gap:.1f} s"
        )
    return f"{ev.rep_count} {'rep' if ev.rep_count == 1 else 'reps'} ({what}) at {_times(ev.rep_times)} s"


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _spans_clause(ev: Evidence) -> str:
    moving = [s for s in ev.spans if s.moving]
    if not moving:
        return "still throughout"
    if len(moving) == 1 and len(ev.spans) == 1:
        return ""
    return "moving " + ", ".join(f"{s.start:.1f}-{s.end:.1f}" for s in moving[:4]) + " s"


def _travel_clause(ev: Evidence) -> str:
    text = (
        "in place" if ev.travel_direction == "none" else f"travels {ev.travel_m:.1f} m {ev.travel_direction}"
    )
    if abs(ev.turn_deg) >= 45:
        text += f", turns {abs(ev.turn_deg):.0f} deg {'left' if ev.turn_deg > 0 else 'right'}"
    return text


ANGLE_WORDS = {"knee flexion": "knee", "hip flexion": "hip", "elbow flexion": "elbow",
               "shoulder elevation": "shoulder", "trunk lean": "lean"}  # fmt: skip


def describe(ev: Evidence, full: bool = False) -> str:
    """The plain-words form of `measure`'s facts, clauses joined by '; '. The model reads the
    short form (about 50 tokens: prefill time grows with every token); the expert sees the full
    one, with the still/moving spans and every joint's peak angle."""
    if full:
        angles = ", ".join(f"{ANGLE_WORDS[k]} {v:.0f}" for k, v in ev.angle_max.items())
    else:
        angles = f"knee {ev.angle_max.get('knee flexion', 0):.0f}"
    clauses = [
        f"{ev.duration:.1f} s",
        _reps_clause(ev, numbered=full),
        _spans_clause(ev) if full else "",
        f"most movement: {most_moving(ev.limb_activity)}",
        f"arm used: {ev.arm_side}, leg used: {ev.leg_side}",
        _travel_clause(ev),
        f"airborne at {_times(ev.airborne_times)} s" if ev.airborne_times else "",
        f"peak angles {angles} deg",
    ]
    return EVIDENCE_PREFIX + " " + "; ".join(c for c in clauses if c) + "."


def with_evidence(question: str, evidence: str) -> str:
    """The first user turn as the model reads it when it takes evidence: the measured facts, then
    the question. Training data and the chat both go through here, so the two never drift."""
    return f"{evidence}\n{question}"


def without_evidence(content: str) -> str:
    """The question alone, as the Cross Talker reads it. The measured facts are about 50 tokens
    against a question's 10: left in the query, they outweighed the question and moved the picked
    frames (the same frames for "which arm?" as for "what is the person doing?")."""
    if content.startswith(EVIDENCE_PREFIX) and "\n" in content:
        return content.split("\n", 1)[1]
    return content
