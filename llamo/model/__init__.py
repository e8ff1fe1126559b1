"""The LLaMo model (see the README section "The LLaMo model"): `LlamoConfig`, `Llamo`, `load_default`."""

from llamo.model.config import MOTION_TOKEN_MODES, LlamoConfig
from llamo.model.llamo import Llamo, LlamoOutput, MotionState, load_default
from llamo.model.vq import MotionVQVAE, train_vqvae

__all__ = [
    "MOTION_TOKEN_MODES",
    "Llamo",
    "LlamoConfig",
    "LlamoOutput",
    "MotionState",
    "MotionVQVAE",
    "load_default",
    "train_vqvae",
]
