"""Answers to the template questions, from a clip's segment labels: short and regular (the model
is small), plus how a question names a segment and the one-sentence caption of a clip."""

from __future__ import annotations

from llamo.data.synth import SIDED
from llamo.labels import OTHER

ACTION_WORDS: dict[str, tuple[str, str, tuple[str, str] | None]] = {
    "walk": ("walking", "walks", ("steps", "step")),
    "run": ("running", "runs", ("steps", "step")),
    "jump": ("jumping", "jumps", ("jumps", "jump")),
    "squat": ("doing squats", "squats", ("squats", "squat")),
    "lunge": ("doing lunges", "lunges", ("lunges", "lunge")),
    "jumping_jack": ("doing jumping jacks", "does jumping jacks", ("jumping jacks", "jumping jack")),
    "arm_raise": ("raising their arms", "raises their arms", ("arm raises", "arm raise")),
    "wave": ("waving", "waves", ("waves", "wave")),
    "punch": ("punching", "punches", ("punches", "punch")),
    "kick": ("kicking", "kicks", ("kicks", "kick")),
    "bow": ("bowing", "bows", ("bows", "bow")),
    "bend_forward": ("bending forward", "bends forward", ("forward bends", "forward bend")),
    "torso_twist": ("twisting their torso", "twists their torso", ("twists", "twist")),
    "sit_down": ("sitting down", "sits down", None),
    "stand_up": ("standing up", "stands up", None),
    "idle": ("standing still", "stands still", None),
}

CANT_TELL_UNKNOWN = "I can't tell from the motion: it only shows how the body moves, not that."
CANT_TELL_OTHER = "I can't tell: the movement does not look like an action I know."

SIDE_ANSWER = {"left": "The left {limb}.", "right": "The right {limb}.", "both": "Both {limbs}, alternating."}
SIDE_ANSWER_BOTH_TOGETHER = "Both {limbs}."
DIRECTION_ANSWER = {
    "forward": "Forward.",
    "backward": "Backward.",
    "left": "To their left.",
    "right": "To their right.",
    "turn_left": "Forward, turning to their left.",
    "turn_right": "Forward, turning to their right.",
    "none": "They stay in place.",
}


def tempo_label(tempo: float) -> str:
    """The tempo word a question is answered with: under 0.8 slow, over 1.3 fast."""
    return "slow" if tempo < 0.8 else ("fast" if tempo > 1.3 else "moderate")


TEMPO_ANSWER = {"slow": "Slowly.", "moderate": "At a moderate pace.", "fast": "Quickly."}


def action_answer(seg: dict) -> str:
    """'The person is walking to their left.': the action, with its direction and side where told."""
    a = seg["action"]
    if a == OTHER:
        return CANT_TELL_OTHER
    text = ACTION_WORDS[a][0]
    if a in ("walk", "run") and seg["direction"] not in ("forward", "none"):
        text += {"backward": " backward", "left": " to their left", "right": " to their right"}.get(
            seg["direction"], " and turning"
        )
    if a in SIDED and seg["side"] in ("left", "right"):
        text += f" with the {seg['side']} {SIDED[a]}"
    return f"The person is {text}."


def segment_ref(seg: dict) -> str:
    """How a question names a segment: 'the squats', 'walking'."""
    a = seg["action"]
    words = ACTION_WORDS[a]
    if words[2] is not None and a not in ("walk", "run"):
        return f"the {words[2][0]}"
    return words[0].replace("their", "the")


def _segment_phrase(seg: dict) -> str:
    """A segment in a caption: 'does 5 squats', 'walks forward', 'waves 4 times with the left arm'."""
    a = seg["action"]
    if a == OTHER:
        return "moves in an unusual way"
    words = ACTION_WORDS[a]
    reps = seg["reps"]
    if a in ("walk", "run"):
        d = {
            "forward": " forward",
            "backward": " backward",
            "left": " to their left",
            "right": " to their right",
        }
        d.update({"turn_left": ", turning left,", "turn_right": ", turning right,"})
        return f"{words[1]}{d.get(seg['direction'], '')} for {reps} steps".replace(",  for", " for").replace(
            ", for", " for"
        )
    if words[2] is None:
        return words[1]
    noun = words[2][0] if reps != 1 else words[2][1]
    phrase = f"does {reps} {noun}"
    if a == "jump" and seg["direction"] != "none":
        phrase += f" {DIRECTION_ANSWER[seg['direction']].rstrip('.').lower().replace('to their', 'to the')}"
    if a in SIDED and seg["side"] in ("left", "right"):
        phrase += f" with the {seg['side']} {SIDED[a]}"
    return phrase


def caption(segments: list[dict]) -> str:
    parts = [_segment_phrase(s) for s in segments]
    if len(parts) == 1:
        return f"A person {parts[0]}."
    if len(parts) == 2:
        return f"A person {parts[0]}, then {parts[1]}."
    return f"A person {parts[0]}, then {parts[1]}, and finally {parts[2]}."


def count_answer(seg: dict) -> str:
    words = ACTION_WORDS[seg["action"]][2]
    reps = seg["reps"]
    return f"{reps} {words[0] if reps != 1 else words[1]}."
