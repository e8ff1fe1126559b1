"""Bounded reading of `.npy` arrays and `.npz` members, and the limits every motion file obeys.

A small file can claim a huge array (a 3 MB `.npz` unpacked a 3 GiB member; a `.npy` header
claimed (2e9, 22, 3)), so every shape, dtype and size is checked from the `.npy` header and the
zip directory before a byte of data is read, and only the bytes the shape needs are read.
"""

from __future__ import annotations

import math
import tokenize
import zipfile
from dataclasses import dataclass
from typing import IO

import numpy as np

from llamo.errors import LlamoError, clock

MIN_FPS = 1.0
MAX_FPS = 240.0
# Whatever the duration limit (0 = none): 500,000 frames of a video motion are about 0.7 GB.
MAX_FRAMES = 500_000
_NUMERIC_KINDS = "biuf"


@dataclass(frozen=True)
class ArrayHeader:
    """What a `.npy` header declares: enough to size the read before reading."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    offset: int  # bytes of magic + header before the data

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def number_text(value: float) -> str:
    """1000000 -> '1,000,000'; 0.5 -> '0.5'; huge or odd values stay short."""
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def check_fps(name: str, fps: object) -> float:
    """A declared frame rate as a float in [1, 240], or one sentence saying what is wrong."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)):
        raise LlamoError(f"{name} declares its frame rate as {str(fps)[:40]!r}, not a number.")
    try:
        value = float(fps)
    except OverflowError:
        raise LlamoError(f"{name} declares an impossible frame rate ({str(fps)[:20]}...).") from None
    if not math.isfinite(value):
        raise LlamoError(f"{name} declares a frame rate of {value}; it must be a finite number.")
    if value > MAX_FPS:
        raise LlamoError(f"{name} declares {number_text(value)} fps; at most {MAX_FPS:.0f} is allowed.")
    if value < MIN_FPS:
        raise LlamoError(f"{name} declares {number_text(value)} fps; at least {MIN_FPS:.0f} is needed.")
    return value


def frame_limit(fps: float, max_duration: float) -> int:
    """The most frames a clip at `fps` may have under `max_duration` seconds (0: no limit)."""
    if not max_duration:
        return MAX_FRAMES
    return min(MAX_FRAMES, int(math.floor(max_duration * fps + 1e-6)) + 1)


def check_frames(name: str, frames: int, fps: float, max_duration: float) -> None:
    """Refuse no frames, or a frame count over the duration limit x fps (or the absolute cap),
    before reading."""
    if frames < 1:
        raise LlamoError(f"{name} has no frames.")
    if frames <= frame_limit(fps, max_duration):
        return
    length = clock(frames / fps) if frames / fps < 1e7 else "far too long"
    if max_duration and frames <= MAX_FRAMES:
        limit = f"the limit of {clock(max_duration)}"
    else:
        limit = f"the limit of {MAX_FRAMES:,} frames"
    raise LlamoError(f"{name} declares {frames:,} frames at {number_text(fps)} fps ({length}), over {limit}.")


def read_header(fh: IO[bytes], name: str, what: str) -> ArrayHeader:
    """Parse a `.npy` header (magic, dict) without touching the data; numeric dtypes only."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (
        ValueError,
        EOFError,
        OSError,
        SyntaxError,
        TypeError,
        tokenize.TokenError,
        zipfile.BadZipFile,
    ) as exc:
        reason = str(exc).split("\n")[0][:80] or type(exc).__name__
        raise LlamoError(f"{name}: {what} is not a valid .npy array ({reason}).") from None
    if any(d < 0 for d in shape):
        raise LlamoError(f"{name}: {what} declares a negative size {shape}.")
    if dtype.hasobject or dtype.kind not in _NUMERIC_KINDS or dtype.itemsize == 0:
        raise LlamoError(f"{name}: {what} holds {dtype} values, not plain numbers.")
    offset = 6 + 2 + (2 if version == (2, 0) else 0)
    return ArrayHeader(tuple(int(d) for d in shape), dtype, bool(fortran), offset)


def check_shape(name: str, what: str, header: ArrayHeader, want: tuple[int | None, ...]) -> None:
    """`want` with None for a free dimension, e.g. (None, 22, 3)."""
    ok = len(header.shape) == len(want) and all(
        w is None or w == d for d, w in zip(header.shape, want, strict=False)
    )
    if not ok:
        shown = "(" + ", ".join("T" if w is None else str(w) for w in want) + ")"
        raise LlamoError(f"{name}: {what} has shape {header.shape}; expected {shown}.")


def read_data(fh: IO[bytes], header: ArrayHeader, name: str, what: str) -> np.ndarray:
    """Exactly the bytes the (already checked) header declares, as an array."""
    want = header.nbytes
    try:
        buf = fh.read(want)
    except (OSError, EOFError, zipfile.BadZipFile, ValueError) as exc:
        raise LlamoError(
            f"{name}: {what} could not be read ({str(exc)[:80] or type(exc).__name__})."
        ) from None
    if len(buf) != want:
        raise LlamoError(f"{name} is truncated: {what} declares {want:,} bytes, {len(buf):,} are present.")
    arr = np.frombuffer(buf, dtype=header.dtype)
    return arr.reshape(header.shape, order="F" if header.fortran_order else "C")
