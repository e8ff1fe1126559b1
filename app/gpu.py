"""ZeroGPU: `gpu(fn)` wraps fn in `spaces.GPU` when the `spaces` package is importable (on a
Hugging Face Space); elsewhere it returns fn unchanged. Only model work is wrapped: pose
extraction runs on the CPU outside it, so it never holds a GPU slot."""

from __future__ import annotations

try:  # must be imported before CUDA is initialised; app/__init__.py imports this module first
    import spaces  # type: ignore
except ImportError:  # not on a Space
    spaces = None


def gpu(fn=None, *, duration: int = 60):
    def wrap(f):
        return spaces.GPU(duration=duration)(f) if spaces is not None else f

    return wrap(fn) if fn is not None else wrap


ON_ZEROGPU = spaces is not None
