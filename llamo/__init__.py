"""LLaMo: the Large Language and Human Motion Assistant."""

from llamo.errors import LlamoError
from llamo.motion import Motion

__all__ = ["LlamoError", "Motion"]
__version__ = "0.1.0"
