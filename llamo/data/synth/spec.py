"""What can be asked of the generator: which actions take a side or a direction, their timing, and
one segment's spec.

The names (actions, sides, directions) live in llamo.labels, shared with the model's heads. The
segment spec is checked here, once, so every action function can trust what it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from llamo.errors import LlamoError
from llamo.labels import ACTIONS, DIRECTIONS, OTHER, SIDES

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


@dataclass
class SegmentSpec:
    action: str
    reps: int = 3
    side: str = "both"
    direction: str = "forward"
    tempo: float = 1.0
    amplitude: float = 1.0


def normalise(spec: SegmentSpec) -> SegmentSpec:
    """Check a spec and say what will actually be generated (side and direction only where they apply)."""
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
