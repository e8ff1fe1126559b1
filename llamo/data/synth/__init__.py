"""Procedural human motion with exact labels: the synthetic half of LLaMo's training data.

No motion QA dataset can be downloaded here, so we make motions ourselves. A small pose model
(joint angles on the canonical 22-joint skeleton, `body`) is driven by per-action repetition
phases (one function per action, `actions` and `locomotion`), then posed with forward
kinematics, put on the ground, given a body, a facing and a place (`compose`), and finally
corrupted the way MediaPipe corrupts real people (jitter, depth error, dropouts, root drift:
`noise`). `spec` says what can be asked for; `sampling` draws random clips.

Conventions (llamo.skeleton): metres, +y up, right-handed. In the body frame the person faces +z
and their own left is +x. Angles are degrees. Directions and sides are the person's own.

Labels in `motion.meta["labels"]`:
- segments: [{"action", "start", "end", "reps", "side", "direction", "tempo", "amplitude"}],
  frame indices, `end` exclusive;
- rep_peaks: frame index of each repetition's extreme (deepest squat, apex of a jump, heel strike
  of a step, the hand's outermost point of a wave, ...), over all segments, in time order;
- rep_spans: [start, end) frames of each repetition (for per-frame phase targets).
"""

from llamo.data.synth.body import POSE_PARAMS, Body
from llamo.data.synth.compose import synthesize, synthesize_sequence
from llamo.data.synth.sampling import random_clip, random_sequence_specs, random_spec
from llamo.data.synth.spec import (
    ACTION_DIRECTIONS,
    BASE_PERIOD,
    MAX_SEGMENT_SECONDS,
    ONE_SHOT,
    PEAK_PHASE,
    SIDED,
    SegmentSpec,
)
from llamo.labels import ACTIONS, DIRECTIONS, OTHER, SIDES

__all__ = [
    "ACTIONS",
    "ACTION_DIRECTIONS",
    "BASE_PERIOD",
    "DIRECTIONS",
    "MAX_SEGMENT_SECONDS",
    "ONE_SHOT",
    "OTHER",
    "PEAK_PHASE",
    "POSE_PARAMS",
    "SIDED",
    "SIDES",
    "Body",
    "SegmentSpec",
    "random_clip",
    "random_sequence_specs",
    "random_spec",
    "synthesize",
    "synthesize_sequence",
]
