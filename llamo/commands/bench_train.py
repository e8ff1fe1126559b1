"""Moved: the benchmark is `python -m bench.train`; the reference loss is in `llamo.testing`."""

# shim (issue 15): remove in the import sweep
from llamo.testing import full_vocabulary_loss  # noqa: F401
