"""The one PyAV module: probe a video, read its frames upright, write H.264.

Capture (frames on a time grid), the overlay (every frame) and the video tower (frames at given
times) all read through here, so they agree on rotation, frame times, scaling and error
sentences:
- rotation: phones store a display rotation instead of turning the pixels; every reader turns
  the decoded frame counter-clockwise by it (`rotate`), so frames are as people saw them;
- times: a frame's own presentation time in seconds (the previous one plus 1/fps where a
  frame has none), on the stream's clock, as `Motion.source_times` records them;
- size: frames whose long side exceeds `max_side` are scaled down (even sizes); `Frame.scale`
  maps their pixels back to the full-size frame;
- errors: each problem is one `LlamoError` sentence naming the file.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np

from llamo.errors import LlamoError, clock
from llamo.fileio import atomic_path

MAX_DECODE_FPS = 240.0  # frames decoded per second of the limit, whatever the timestamps say
MAX_SIDE = 1280  # the pose model works on 256 px crops; larger frames only cost decode time


@dataclass
class VideoInfo:
    path: str
    duration: float  # seconds
    fps: float  # average frame rate
    width: int  # displayed size, after rotation
    height: int
    rotation: int  # degrees counter-clockwise applied to decoded frames to display them
    codec: str
    num_frames: int  # from the container, or estimated from duration x fps
    rate: Fraction | None = None  # the exact average rate, for writing a video at the same rate


class Frame(NamedTuple):
    """One decoded frame, upright. `index` is its grid slot (grid readers) or decode order."""

    index: int
    time: float  # seconds on the stream's clock
    rgb: np.ndarray  # (H, W, 3) uint8, rotated
    scale: float  # full-size pixels per pixel of `rgb`


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(":")[-1].strip().rstrip(".") or type(exc).__name__


def _open(path: str | Path):
    """Open a container and its first video stream, or raise one clear LlamoError."""
    path = Path(path)
    if not path.exists():
        raise LlamoError(f"{path} does not exist.")
    if path.is_dir():
        raise LlamoError(f"{path} is a folder, not a video.")
    if path.stat().st_size == 0:
        raise LlamoError(f"{path.name} is empty (0 bytes).")
    try:
        container = av.open(str(path), metadata_errors="replace")  # odd tag bytes are not fatal
    except av.error.FFmpegError as exc:
        raise LlamoError(f"{path.name} is not a readable video ({_reason(exc)}).") from None
    if not container.streams.video:
        container.close()
        raise LlamoError(f"{path.name} has no video stream.")
    return container, container.streams.video[0]


def probe_video(path: str | Path) -> VideoInfo:
    """Duration, rate, size, rotation and codec; decodes at most the first frame (for rotation)."""
    path = Path(path)
    container, stream = _open(path)
    try:
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate or 0.0)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1e6
        else:
            duration = 0.0
        try:
            first = next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise LlamoError(
                f"{path.name} is a corrupt video (the first frame cannot be decoded: {_reason(exc)})."
            ) from None
        if first is None:
            raise LlamoError(f"{path.name} contains no video frames.")
        rotation = int(round(first.rotation or 0)) % 360
        w, h = first.width, first.height
        if rotation in (90, 270):
            w, h = h, w
        if fps <= 0:
            raise LlamoError(f"{path.name} has no usable frame rate.")
        num = int(stream.frames or 0) or int(round(duration * fps))
        if duration <= 0:
            duration = num / fps
        codec = stream.codec_context.name
        return VideoInfo(str(path), duration, fps, w, h, rotation, codec, num, Fraction(rate))
    finally:
        container.close()


def rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a decoded frame counter-clockwise by `rotation` degrees (a multiple of 90)."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The decode size: unchanged up to `max_side`, else scaled down to it (even sizes)."""
    scale = max(1.0, max(width, height) / max_side)
    if scale == 1.0:
        return width, height
    return int(round(width / scale)) // 2 * 2, int(round(height / scale)) // 2 * 2


def _upright(frame, size: tuple[int, int], rotation: int) -> tuple[np.ndarray, float]:
    """RGB at `size` (unrotated width, height), rotated; and the full-size scale."""
    if size != (frame.width, frame.height):
        rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
    else:
        rgb = frame.to_ndarray(format="rgb24")
    return rotate(rgb, rotation), frame.width / size[0]


class _Decoder:
    """Walks one stream, giving each frame its time; decode errors become one LlamoError."""

    def __init__(self, path: str | Path, max_seconds: float = 0.0):
        self.path = Path(path)
        self.max_seconds = max_seconds  # 0: no limit
        self.container, self.stream = _open(self.path)
        self.stream.thread_type = "AUTO"
        self.fps = float(self.stream.average_rate or self.stream.guessed_rate or 25.0)
        start = self.stream.start_time
        self.t0 = float(start * self.stream.time_base) if start is not None else None
        self.last_t = 0.0
        self.decoded = 0

    def frames(self, seek_s: float | None = None) -> Iterator[tuple[float, av.VideoFrame]]:
        """(time, frame) for every frame, from the keyframe at or before `seek_s` (seconds on
        the stream's clock) if given; closes the container when done or abandoned."""
        try:
            if seek_s is not None:
                target = max(0, int(seek_s / self.stream.time_base))
                self.container.seek(target, stream=self.stream, backward=True)
            for frame in self.container.decode(self.stream):
                t = float(frame.time) if frame.time is not None else self.last_t + 1.0 / self.fps
                self.decoded += 1
                if self.t0 is None:
                    self.t0 = t
                self.last_t = t
                self._check_time(t)
                yield t, frame
        except av.error.FFmpegError as exc:
            raise LlamoError(
                f"{self.path.name} is a corrupt or truncated video "
                f"(decoding failed near {clock(self.last_t)}: {_reason(exc)})."
            ) from None
        finally:
            self.container.close()
        if self.decoded == 0:
            raise LlamoError(f"{self.path.name} contains no decodable video frames.")

    def _check_time(self, t: float) -> None:
        """Stop at the limit whatever the container says: time is counted from the frames'
        own clock, and frames are counted too (at most `MAX_DECODE_FPS` per second), so neither
        a missing duration nor bogus timestamps let a long video through."""
        if not self.max_seconds:
            return
        elapsed = max(t - (self.t0 or 0.0), self.decoded / MAX_DECODE_FPS)
        if elapsed > self.max_seconds + 1.0:
            raise LlamoError(
                f"{self.path.name} lasts more than {clock(self.max_seconds)}, the limit "
                f"(found while decoding; raise it with --max-duration)."
            )


def iter_grid_frames(
    path: str | Path,
    fps: float,
    info: VideoInfo,
    max_side: int = MAX_SIDE,
    start_k: int = 0,
    stop_k: int | None = None,
    max_duration: float = 0.0,
) -> Iterator[Frame]:
    """The frames nearest a uniform `fps` grid (index = grid slot), upright.

    Only kept frames are converted to RGB (the others are decoded, because later frames depend
    on them). [start_k, stop_k) restricts the grid (a worker's chunk: it seeks to a keyframe
    before its start). Raises LlamoError on decode errors, on truncated files, and as soon as
    decoding passes `max_duration` seconds (0: no limit).
    """
    dec = _Decoder(path, max_duration)
    half = 0.5 / max(info.fps, fps)
    next_t = start_k / fps
    # decoded (unrotated) size, scaled so the long side is at most max_side
    dw, dh = (info.height, info.width) if info.rotation in (90, 270) else (info.width, info.height)
    size = fit_size(dw, dh, max_side)
    seek_s = dec.t0 + start_k / fps - 1.0 if start_k > 0 and dec.t0 is not None else None
    with contextlib.closing(dec.frames(seek_s)) as frames:
        for t, frame in frames:
            rel = t - dec.t0
            if rel + half * 0.999 < next_t:
                continue
            k = int(round(rel * fps))
            if stop_k is not None and k >= stop_k:
                return
            next_t = (k + 1) / fps
            yield Frame(k, t, *_upright(frame, size, info.rotation))
    if info.duration > 2.0 and (dec.last_t - dec.t0) < 0.9 * info.duration - 1.0:
        raise LlamoError(
            f"{dec.path.name} is truncated: frames stop at {clock(dec.last_t - dec.t0)} "
            f"of {clock(info.duration)}."
        )


def iter_frames(
    path: str | Path,
    *,
    max_side: int = MAX_SIDE,
    rotation: int | None = None,
    info: VideoInfo | None = None,
) -> Iterator[Frame]:
    """Every frame, upright, at even sizes (what an encoder takes). `rotation` overrides the
    file's own (a motion records the rotation its landmarks were measured in)."""
    info = info or probe_video(path)
    rotation = info.rotation if rotation is None else rotation
    dw, dh = (info.height, info.width) if info.rotation in (90, 270) else (info.width, info.height)
    w, h = fit_size(dw, dh, max_side)
    size = (w // 2 * 2, h // 2 * 2)
    with contextlib.closing(_Decoder(path).frames()) as frames:
        for i, (t, frame) in enumerate(frames):
            yield Frame(i, t, *_upright(frame, size, rotation))


def frames_at(path: str | Path, times: Iterable[float], size: int) -> np.ndarray:
    """(N, size, size, 3) uint8 upright: for each time (sorted), the first frame at or after it.

    Times past the end repeat the last frame read, so N always equals the number of times.
    """
    want = sorted(float(t) for t in times)
    out: list[np.ndarray] = []
    rotation = probe_video(path).rotation
    with contextlib.closing(_Decoder(path).frames()) as frames:
        for t, frame in frames:
            if len(out) == len(want):
                break
            while len(out) < len(want) and t >= want[len(out)] - 1e-3:
                out.append(_upright(frame, (size, size), rotation)[0])
    if not out:
        raise LlamoError(f"no frames could be read from {Path(path).name}.")
    out += [out[-1]] * (len(want) - len(out))
    return np.stack(out)


def read_image(path: str | Path) -> np.ndarray:
    """An image file (jpg, png, ...) as RGB uint8."""
    try:
        with av.open(str(path)) as c:
            return next(c.decode(video=0)).to_ndarray(format="rgb24")
    except (av.error.FFmpegError, StopIteration) as exc:
        raise LlamoError(f"{Path(path).name} is not a readable image ({exc}).") from None


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: float | Fraction,
    *,
    rotation: int = 0,
    faststart: bool = False,
    codec: str = "libx264",
    codec_options: dict[str, str] | None = None,
    container_format: str | None = None,
) -> Path:
    """Encode RGB uint8 frames (H, W, 3) to a video (H.264 by default), atomically.

    The first frame sets the size (cropped to even). `rotation` stores display-rotation
    metadata (counter-clockwise degrees, as phones do), so tests and benchmarks can make
    rotated clips. A float `fps` is written as the nearest fraction with a denominator up to
    1001 (29.97 -> 2997/100); a Fraction (a source's exact rate) is kept as it is.
    """
    path = Path(path)
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise LlamoError(f"no frames to write to {path.name}.")
    h, w = first.shape[0] // 2 * 2, first.shape[1] // 2 * 2
    options = {"movflags": "+faststart"} if faststart else {}
    ext = path.suffix.lstrip(".").lower()
    fmt = container_format or {"mkv": "matroska", "m4v": "mp4"}.get(ext, ext) or None
    rate = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
    with atomic_path(path) as tmp, av.open(str(tmp), "w", format=fmt, options=options) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if codec_options:
            stream.options = dict(codec_options)
        if rotation:
            stream.set_display_rotation(rotation)
        for i, img in enumerate(itertools.chain([first], frames)):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[:h, :w]), format="rgb24")
            frame.pts, frame.time_base = i, 1 / rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path
