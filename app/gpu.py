"""ZeroGPU: `gpu(fn)` wraps fn in `spaces.GPU` when the `spaces` package is importable; it is a
pass-through off ZeroGPU (and `spaces` is in requirements.txt, so it installs everywhere).
Only model work is wrapped: pose extraction runs on the CPU outside it, so it never holds a
GPU slot. The wrapped function runs in another process on ZeroGPU: it must be pure (inputs
in, results out; see `app.chatting._stream` and tests/test_gpu_pure.py)."""

from __future__ import annotations

import os

try:  # must be imported before CUDA is initialised; app/__init__.py imports this module first
    import spaces  # type: ignore
except ImportError:  # not installed (a minimal install)
    spaces = None


def gpu(fn=None, *, duration: int = 60):
    def wrap(f):
        return spaces.GPU(duration=duration)(f) if spaces is not None else f

    return wrap(fn) if fn is not None else wrap


ON_ZEROGPU = spaces is not None and os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true")
"""A ZeroGPU Space (the `spaces` package's own test: SPACES_ZERO_GPU=true), not merely `spaces` installed."""
