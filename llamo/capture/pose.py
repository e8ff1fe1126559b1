"""MediaPipe Pose (0.10.21, model_complexity=1): 33 world and image landmarks per frame.

Complexity 1 is the only model inside the wheel (0 and 2 try to download). Tracking mode
reuses the previous frame's box; static mode detects afresh (one image).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from llamo.errors import LlamoError
from llamo.video import read_image

POSE_SETTINGS = {"model_complexity": 1, "smooth_landmarks": True, "min_detection_confidence": 0.5,
                 "min_tracking_confidence": 0.5}  # fmt: skip


class Pose(NamedTuple):
    """One frame's landmarks: world (33, 4) metres in MediaPipe's frame, image (33, 4) px; + visibility."""

    world: np.ndarray
    image: np.ndarray


class _NativeStderr:
    """Points file descriptor 2 at /dev/null, reference-counted. fd 2 belongs to the whole
    process, so this count is process-wide too (the one shared instance below)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved = -1

    def enter(self) -> None:
        with self.lock:
            if self.depth == 0:
                sys.stderr.flush()
                self.saved = os.dup(2)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            self.depth += 1

    def exit(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                sys.stderr.flush()
                os.dup2(self.saved, 2)
                os.close(self.saved)
                self.saved = -1


_NATIVE_STDERR = _NativeStderr()


@contextlib.contextmanager
def quiet_native_stderr():
    """MediaPipe's C++ logs (TFLite delegate, absl warnings, some from its own threads) go
    straight to file descriptor 2: point fd 2 at /dev/null while tracking. Reference-counted,
    so concurrent extractions in threads restore it exactly once. Python's own stderr writes
    in that window are hidden too (the extract command writes progress to a copy of the
    original descriptor). Set LLAMO_VERBOSE=1 to keep everything."""
    if os.environ.get("LLAMO_VERBOSE"):
        yield
        return
    _NATIVE_STDERR.enter()
    try:
        yield
    finally:
        _NATIVE_STDERR.exit()


class PoseTracker:
    """MediaPipe Pose (complexity 1). `process(rgb)` -> a Pose (image landmarks in pixels) or None."""

    def __init__(self, static: bool = False):
        with quiet_native_stderr():
            import mediapipe as mp

            self._pose = mp.solutions.pose.Pose(
                static_image_mode=static, enable_segmentation=False, **POSE_SETTINGS
            )

    def process(self, rgb: np.ndarray) -> Pose | None:
        res = self._pose.process(rgb)
        if res.pose_landmarks is None or res.pose_world_landmarks is None:
            return None
        h, w = rgb.shape[:2]
        img = np.array(
            [(p.x * w, p.y * h, p.z * w, p.visibility) for p in res.pose_landmarks.landmark], np.float32
        )
        wld = np.array([(p.x, p.y, p.z, p.visibility) for p in res.pose_world_landmarks.landmark], np.float32)
        return Pose(wld, img)

    def close(self) -> None:
        self._pose.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def pose_image(image: str | Path | np.ndarray) -> Pose:
    """Static-mode MediaPipe on one image (a path or an RGB array)."""
    rgb = read_image(image) if not isinstance(image, np.ndarray) else image
    with quiet_native_stderr(), PoseTracker(static=True) as tracker:
        out = tracker.process(rgb)
    if out is None:
        raise LlamoError("No person was found in the image.")
    return out
