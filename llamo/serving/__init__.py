"""Serving many chat sessions at once: a continuous-batching scheduler over their KV caches."""

from llamo.serving.scheduler import Scheduler
from llamo.serving.turn import Sampling, TurnDecoder

__all__ = ["Sampling", "Scheduler", "TurnDecoder"]
