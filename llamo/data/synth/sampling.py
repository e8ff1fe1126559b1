"""Random clips for training data: random specs, sensible sequences, and whole random clips."""

from __future__ import annotations

import numpy as np

from llamo.data.synth.compose import compose
from llamo.data.synth.spec import ACTION_DIRECTIONS, BASE_PERIOD, MAX_SEGMENT_SECONDS, SIDED, SegmentSpec
from llamo.labels import ACTIONS, SIDES
from llamo.motion import Motion


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
    return compose(specs, seed=seed, fps=20.0, noise=bool(rng.random() < 0.85))
