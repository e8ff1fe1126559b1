"""Moved to `bench/store.py` (`python -m bench.store`)."""

# shim (issue 15): remove in the import sweep
from bench.store import add_arguments, run  # noqa: F401
