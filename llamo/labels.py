"""Label vocabularies: the names of actions, sides and directions, on the ground floor.

The synthetic generator draws from these names and the model's per-frame heads predict them, so
neither imports the other. A checkpoint stores the vocabulary its heads were built with
(`LlamoConfig.label_*`), so its head shapes come from the checkpoint, never from this module.
"""

from __future__ import annotations

from dataclasses import dataclass

# The actions the synthetic generator can make, in head order.
ACTIONS: tuple[str, ...] = (
    "walk",
    "run",
    "jump",
    "squat",
    "lunge",
    "jumping_jack",
    "arm_raise",
    "wave",
    "punch",
    "kick",
    "bow",
    "bend_forward",
    "torso_twist",
    "sit_down",
    "stand_up",
    "idle",
)
# Not one of ACTIONS: unfamiliar movement (smooth random joint angles) for the "can't tell" class.
OTHER = "other"
# Between actions: a frame class of the heads, never an action of a clip.
REST = "rest"
SIDES: tuple[str, ...] = ("left", "right", "both")
DIRECTIONS: tuple[str, ...] = ("forward", "backward", "left", "right", "turn_left", "turn_right", "none")

# Per-frame classes of the encoder's heads (pretraining targets and summary tokens).
AUX_ACTIONS: tuple[str, ...] = ACTIONS + (OTHER, REST)
AUX_SIDES: tuple[str, ...] = SIDES
AUX_DIRECTIONS: tuple[str, ...] = DIRECTIONS


@dataclass(frozen=True)
class LabelVocab:
    """The head vocabulary of one model: class names in head order."""

    actions: tuple[str, ...] = AUX_ACTIONS
    sides: tuple[str, ...] = AUX_SIDES
    directions: tuple[str, ...] = AUX_DIRECTIONS

    @property
    def rest(self) -> int:
        """Index of the "rest" class, which never gets a summary token."""
        return self.actions.index(REST)


# The vocabulary of checkpoints saved before llamo_config.json stored one. Frozen on purpose:
# written out rather than derived from ACTIONS, so adding an action leaves old checkpoints loadable.
_LEGACY_ACTIONS = (
    "walk run jump squat lunge jumping_jack arm_raise wave punch kick bow bend_forward "
    "torso_twist sit_down stand_up idle other rest"
)
LEGACY_VOCAB = LabelVocab(
    actions=tuple(_LEGACY_ACTIONS.split()),
    sides=("left", "right", "both"),
    directions=("forward", "backward", "left", "right", "turn_left", "turn_right", "none"),
)
