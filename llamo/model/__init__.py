"""The LLaMo model (see docs on the model): `LlamoConfig`, `Llamo`, `load_default`, checkpoints.

llamo.py      the model: encoder -> enhancer -> motion tokens -> projector, spliced into the LM
processor.py  prompts (the chat template) and batches (`collate`), feature preparation
tokens.py     one strategy per motion-token mode (cross_talker, mean_pool, all_frames, vq_tokens, none)
checkpoint.py save / load, the model card, `checkpoint_card` (report + provenance for display)
"""

from llamo.model.checkpoint import CheckpointCard, checkpoint_card
from llamo.model.config import MOTION_TOKEN_MODES, LlamoConfig
from llamo.model.llamo import Llamo, LlamoOutput, load_default
from llamo.model.tokens import MotionState
from llamo.model.vq import MotionVQVAE, train_vqvae

__all__ = [
    "MOTION_TOKEN_MODES",
    "CheckpointCard",
    "Llamo",
    "LlamoConfig",
    "LlamoOutput",
    "MotionState",
    "MotionVQVAE",
    "checkpoint_card",
    "load_default",
    "train_vqvae",
]
