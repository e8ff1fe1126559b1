"""Overlay video: the source video with the 2D skeleton drawn on every frame, as H.264 MP4.

Every source frame is kept, so the overlay plays at the source's frame rate; the motion was
usually extracted at a lower rate (20 fps), so the image landmarks are interpolated linearly
between the two nearest kept frames (by `Motion.source_times`). A joint whose visibility is
below `VISIBILITY_SEEN` is drawn as a hollow grey ring and its bones thin and grey, so people see
where the estimator was guessing. Frames without a person get no skeleton.

Encoded with PyAV's libx264 (the opencv wheel has no H.264 encoder), yuv420p, +faststart, so
browsers play it. Audio is not copied.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from llamo.errors import LlamoError
from llamo.motion import VISIBILITY_SEEN, Motion
from llamo.skeleton import MEDIAPIPE_CONNECTIONS
from llamo.video import VideoInfo, iter_frames, probe_video, write_video

# BGR-free: frames are RGB here. Left blue, right red, centre light grey (as the 3D view).
RGB = {"left": (31, 119, 180), "right": (214, 39, 40), "centre": (235, 235, 235), "low": (150, 150, 150)}


LANDMARK_SIDES = tuple("centre" if i == 0 else ("left" if i % 2 == 1 else "right") for i in range(33))


@dataclass(frozen=True)
class OverlayConfig:
    max_side: int = 1280  # frames larger than this (long side) are scaled down
    crf: int = 23
    preset: str = "superfast"  # 40% faster than veryfast, files about 1.5x larger
    min_visibility: float = VISIBILITY_SEEN


@dataclass
class OverlayResult:
    path: Path
    frames: int
    fps: float
    width: int
    height: int
    seconds: float  # wall time to render
    video_seconds: float  # duration of the output

    @property
    def realtime_factor(self) -> float:
        """Render seconds per video second (< 1 is faster than real time)."""
        return self.seconds / max(self.video_seconds, 1e-9)


def landmarks_at(motion: Motion, times: np.ndarray) -> np.ndarray:
    """Image landmarks (N, 33, 4) at source times, linear between kept frames; NaN where unknown.

    A time further than one motion frame from any detected frame gets NaN (no skeleton).
    """
    lm = motion.landmarks_image
    st = motion.source_times
    out = np.full((len(times), 33, 4), np.nan, np.float32)
    if lm is None or len(st) == 0:
        return out
    ok = np.isfinite(lm[:, :, :2]).all(axis=(1, 2))
    if not ok.any():
        return out
    st_ok, lm_ok = st[ok], lm[ok].astype(np.float64)
    i = np.clip(np.searchsorted(st_ok, times), 1, max(1, len(st_ok) - 1))
    if len(st_ok) == 1:
        a = b = np.zeros(len(times), int)
        w = np.zeros(len(times))
    else:
        a, b = i - 1, i
        w = np.clip((times - st_ok[a]) / np.maximum(st_ok[b] - st_ok[a], 1e-9), 0.0, 1.0)
    interp = lm_ok[a] * (1 - w)[:, None, None] + lm_ok[b] * w[:, None, None]
    gap = 1.5 / motion.fps  # neighbours further apart than this: a gap without a person
    near = np.minimum(np.abs(times - st_ok[a]), np.abs(times - st_ok[b]))
    span_ok = (st_ok[b] - st_ok[a]) <= gap
    valid = (near <= gap) & (span_ok | (near <= 0.5 / motion.fps))
    out[valid] = interp[valid]
    return out


def draw_skeleton(img: np.ndarray, lm: np.ndarray, scale: float, min_visibility: float) -> None:
    """Draw one frame's landmarks (33, 4: x px, y px, z, visibility) onto an RGB image in place."""
    if not np.isfinite(lm[:, :2]).all():
        return
    h, w = img.shape[:2]
    th = max(2, int(round(min(w, h) / 240)))
    pts = np.round(lm[:, :2] * scale).astype(np.int32)
    seen = lm[:, 3] >= min_visibility
    for a, b in MEDIAPIPE_CONNECTIONS:
        if seen[a] and seen[b]:
            colour = RGB[LANDMARK_SIDES[b]] if LANDMARK_SIDES[a] == LANDMARK_SIDES[b] else RGB["centre"]
            cv2.line(img, tuple(pts[a]), tuple(pts[b]), colour, th, cv2.LINE_AA)
        else:
            cv2.line(img, tuple(pts[a]), tuple(pts[b]), RGB["low"], max(1, th // 2), cv2.LINE_AA)
    r = th + 2
    for i in range(33):
        if seen[i]:
            cv2.circle(img, tuple(pts[i]), r, RGB[LANDMARK_SIDES[i]], -1, cv2.LINE_AA)
            cv2.circle(img, tuple(pts[i]), r, (255, 255, 255), 1, cv2.LINE_AA)
        else:
            cv2.circle(img, tuple(pts[i]), r, RGB["low"], max(1, th // 2), cv2.LINE_AA)


def _drawn_frames(motion: Motion, video_path: Path, info: VideoInfo, cfg: OverlayConfig,
                  sizes: list[tuple[int, int]], progress):  # fmt: skip
    """Every source frame, upright, with the skeleton drawn; appends each (height, width) to `sizes`."""
    for frame in iter_frames(video_path, max_side=cfg.max_side, rotation=motion.rotation, info=info):
        img = frame.rgb
        # landmarks are in pixels of the full-size upright frame (motion.image_size)
        full_w = motion.image_size[0] if motion.image_size else img.shape[1] * frame.scale
        draw_skeleton(img, landmarks_at(motion, np.array([frame.time]))[0], img.shape[1] / full_w,
                      cfg.min_visibility)  # fmt: skip
        sizes.append(img.shape[:2])
        n = len(sizes)
        if progress and n % 30 == 0:  # also without a frame count: each call may cancel the job
            total = info.num_frames or max(n, motion.num_frames)
            progress(min(1.0, n / total), f"overlay frame {n}/{total}")
        yield img


def render_overlay(
    motion: Motion,
    video_path: str | Path,
    out_path: str | Path,
    config: OverlayConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> OverlayResult:
    """Write the overlay MP4 (H.264) atomically and return what was written."""
    cfg = config or OverlayConfig()
    video_path, out_path = Path(video_path), Path(out_path)
    if motion.landmarks_image is None:
        raise LlamoError(
            "This motion has no image landmarks; the overlay needs a motion extracted from video."
        )
    start = time.perf_counter()
    info = probe_video(video_path)
    rate = info.rate or Fraction(motion.fps).limit_denominator(1001)
    sizes: list[tuple[int, int]] = []
    frames = _drawn_frames(motion, video_path, info, cfg, sizes, progress)
    write_video(out_path, frames, rate, faststart=True, container_format="mp4",
                codec_options={"crf": str(cfg.crf), "preset": cfg.preset})  # fmt: skip
    h, w = sizes[0]
    return OverlayResult(
        path=out_path, frames=len(sizes), fps=float(rate), width=w, height=h,
        seconds=time.perf_counter() - start, video_seconds=len(sizes) / float(rate),
    )  # fmt: skip
