"""Moved to `llamo.testing`."""

# shim (issue 15): remove in the import sweep
from llamo.testing import random_walk, tiny_backbone, tiny_model, tiny_tokenizer  # noqa: F401
