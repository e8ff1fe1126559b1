"""Video -> canonical Motion with PyAV and MediaPipe Pose (0.10.21, model_complexity=1, tracking).

Pipeline (why each step exists):
1. `probe_video`: PyAV reads duration, rate, size, codec and the display rotation without
   decoding the whole file, so over-long or broken files are refused before any work.
2. A decoder thread walks the stream and converts to RGB only the frames nearest a 20 fps grid
   (the others are decoded, because later frames depend on them, but never converted). Rotation
   metadata from phones is applied with `np.rot90`. Decoding overlaps with pose inference,
   which runs in the calling thread (both release the GIL).
3. MediaPipe Pose in tracking mode gives 33 world landmarks (metres, re-centred on the hips
   in every frame) and 33 image landmarks. On clips of 20 s or more, two trackers (each with
   its own decode thread) take the two halves in parallel; MediaPipe uses about one core.
4. `landmarks_to_motion` (pure numpy): identity-switch check, 33->22 mapping with the change of
   frame (x, -y, -z), root trajectory from the image hip centre scaled by body size, zero-lag
   smoothing, gap filling with confidence 0, and warnings.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from llamo.errors import LlamoError
from llamo.fileio import sha256_file
from llamo.motion import VISIBILITY_SEEN, Motion
from llamo.motion_ops import (
    Camera,
    clock,
    detect_identity_switches,
    fill_gaps,
    longest_track,
    mediapipe_to_canonical,
    resample,
    root_trajectory,
    runs,
    smooth_segments,
    visibility_warnings,
)
from llamo.skeleton import JOINT_INDEX

Progress = Callable[[float, str], None]
MAX_SIDE = 1280  # frames larger than this are scaled down before pose inference (landmarks are
# mapped back to full-resolution pixels); the pose model works on 256 px crops anyway.
POSE_SETTINGS = {"model_complexity": 1, "smooth_landmarks": True, "min_detection_confidence": 0.5,
                 "min_tracking_confidence": 0.5}  # fmt: skip


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


def _av():
    import av

    return av


def _open(path: str | Path):
    """Open a container and its first video stream, or raise one clear LlamoError."""
    av = _av()
    path = Path(path)
    if not path.exists():
        raise LlamoError(f"{path} does not exist.")
    if path.is_dir():
        raise LlamoError(f"{path} is a folder, not a video.")
    if path.stat().st_size == 0:
        raise LlamoError(f"{path.name} is empty (0 bytes).")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise LlamoError(f"{path.name} is not a readable video ({_reason(exc)}).") from None
    if not container.streams.video:
        container.close()
        raise LlamoError(f"{path.name} has no video stream.")
    return container, container.streams.video[0]


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(":")[-1].strip().rstrip(".") or type(exc).__name__


def probe_video(path: str | Path) -> VideoInfo:
    """Duration, rate, size, rotation and codec; decodes at most the first frame (for rotation)."""
    av = _av()
    path = Path(path)
    container, stream = _open(path)
    try:
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
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
        return VideoInfo(str(path), duration, fps, w, h, rotation, stream.codec_context.name, num)
    finally:
        container.close()


def _rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


def iter_kept_frames(
    path: str | Path,
    fps: float,
    info: VideoInfo,
    max_side: int = MAX_SIDE,
    start_k: int = 0,
    stop_k: int | None = None,
):
    """Yield (grid_index, time_s, rgb uint8 (H, W, 3) rotated, scale) for frames nearest a `fps` grid.

    Only kept frames are converted to RGB. `scale` maps the yielded image's pixels back to the
    full-resolution rotated frame. [start_k, stop_k) restricts the grid (a worker's chunk: it
    seeks to a keyframe before its start). Raises LlamoError on decode errors.
    """
    av = _av()
    path = Path(path)
    container, stream = _open(path)
    stream.thread_type = "AUTO"
    src_fps = info.fps
    half = 0.5 / max(src_fps, fps)
    next_t = start_k / fps
    t0 = float(stream.start_time * stream.time_base) if stream.start_time is not None else None
    # decoded (unrotated) size, scaled so the long side is at most max_side
    dw, dh = (info.height, info.width) if info.rotation in (90, 270) else (info.width, info.height)
    scale = max(1.0, max(dw, dh) / max_side)
    ow, oh = int(round(dw / scale)) // 2 * 2, int(round(dh / scale)) // 2 * 2
    last_t = 0.0
    decoded = 0
    try:
        if start_k > 0 and t0 is not None:
            target = t0 + start_k / fps - 1.0
            container.seek(max(0, int(target / stream.time_base)), stream=stream, backward=True)
        for frame in container.decode(stream):
            t = float(frame.time) if frame.time is not None else last_t + 1.0 / src_fps
            decoded += 1
            if t0 is None:
                t0 = t
            rel = t - t0
            last_t = t
            if rel + half * 0.999 < next_t:
                continue
            k = int(round(rel * fps))
            if stop_k is not None and k >= stop_k:
                return
            next_t = (k + 1) / fps
            if scale > 1.0:
                rgb = frame.to_ndarray(format="rgb24", width=ow, height=oh)
            else:
                rgb = frame.to_ndarray(format="rgb24")
            yield k, t, _rotate(rgb, info.rotation), (dw / rgb.shape[1])
    except av.error.FFmpegError as exc:
        raise LlamoError(
            f"{path.name} is a corrupt or truncated video (decoding failed near {clock(last_t)}: {_reason(exc)})."
        ) from None
    finally:
        container.close()
    if decoded == 0:
        raise LlamoError(f"{path.name} contains no decodable video frames.")
    if info.duration > 2.0 and (last_t - t0) < 0.9 * info.duration - 1.0:
        raise LlamoError(
            f"{path.name} is truncated: frames stop at {clock(last_t - t0)} of {clock(info.duration)}."
        )


def _threaded(gen, maxsize: int = 8):
    """Run a generator in a thread (decode) while the caller consumes (inference).

    Errors raised in the thread are re-raised in the caller; if the caller stops early, the
    thread stops too and closes the generator (and so its container)."""
    q: queue.Queue = queue.Queue(maxsize=maxsize)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for item in gen:
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer
            put(exc)
        finally:
            gen.close()

    th = threading.Thread(target=work, name="llamo-decode", daemon=True)
    th.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        th.join(timeout=5)


_QUIET = {"lock": threading.Lock(), "depth": 0, "saved": -1}


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
    with _QUIET["lock"]:
        if _QUIET["depth"] == 0:
            sys.stderr.flush()
            _QUIET["saved"] = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        _QUIET["depth"] += 1
    try:
        yield
    finally:
        with _QUIET["lock"]:
            _QUIET["depth"] -= 1
            if _QUIET["depth"] == 0:
                sys.stderr.flush()
                os.dup2(_QUIET["saved"], 2)
                os.close(_QUIET["saved"])
                _QUIET["saved"] = -1


class PoseTracker:
    """MediaPipe Pose (complexity 1). `process(rgb)` -> (world (33, 4), image (33, 4) px) or None."""

    def __init__(self, static: bool = False):
        with quiet_native_stderr():
            import mediapipe as mp

            self._pose = mp.solutions.pose.Pose(
                static_image_mode=static, enable_segmentation=False, **POSE_SETTINGS
            )

    def process(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        res = self._pose.process(rgb)
        if res.pose_landmarks is None or res.pose_world_landmarks is None:
            return None
        h, w = rgb.shape[:2]
        img = np.array(
            [(p.x * w, p.y * h, p.z * w, p.visibility) for p in res.pose_landmarks.landmark], np.float32
        )
        wld = np.array([(p.x, p.y, p.z, p.visibility) for p in res.pose_world_landmarks.landmark], np.float32)
        return wld, img

    def close(self) -> None:
        self._pose.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_image(path: str | Path) -> np.ndarray:
    """An image file (jpg, png, ...) as RGB uint8, decoded with PyAV."""
    av = _av()
    try:
        with av.open(str(path)) as c:
            return next(c.decode(video=0)).to_ndarray(format="rgb24")
    except (av.error.FFmpegError, StopIteration) as exc:
        raise LlamoError(f"{Path(path).name} is not a readable image ({exc}).") from None


def pose_image(image: str | Path | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Static-mode MediaPipe on one image: (world (33, 4) metres MediaPipe frame, image (33, 4) px)."""
    rgb = read_image(image) if not isinstance(image, np.ndarray) else image
    with quiet_native_stderr(), PoseTracker(static=True) as tracker:
        out = tracker.process(rgb)
    if out is None:
        raise LlamoError("No person was found in the image.")
    return out


def auto_workers(duration: float) -> int:
    """Trackers to run in parallel: 2 on clips of 20 s or more when there are 2+ cores
    (MediaPipe uses about one core; the seam costs one re-detection), else 1."""
    return 2 if duration >= 20.0 and (os.cpu_count() or 1) >= 2 else 1


def _track_chunk(path, info, fps, start_k, stop_k, rows, counter, stop, threaded, report=None):
    frames = iter_kept_frames(path, fps, info, start_k=start_k, stop_k=stop_k)
    if threaded:
        frames = _threaded(frames)
    with PoseTracker() as tracker:
        for k, t, rgb, scale in frames:
            if stop.is_set():
                return
            out = tracker.process(rgb)
            if out is not None:
                wld, img = out
                img[:, :3] *= scale
                rows[k] = (wld, img, t)
            else:
                rows[k] = (None, None, t)
            counter[0] += 1
            if report:
                report()


def track(
    path: str | Path,
    info: VideoInfo,
    fps: float,
    progress: Progress | None = None,
    threaded: bool = True,
    workers: int = 1,
):
    """Run the tracker on the kept frames. Returns world, image (N, 33, 4; NaN = none), found (N,), times (N,).

    With `workers` > 1 the grid is cut into contiguous chunks, each tracked by its own MediaPipe
    graph in its own thread (decode and inference release the GIL); the calling thread takes the
    first chunk and reports progress. `meta["seams"]` of the motion lists the cut frames.
    """
    expected = max(1, int(info.duration * fps))
    workers = max(1, min(int(workers), expected // 40 or 1))
    bounds = [round(i * expected / workers) for i in range(workers)] + [None]
    rows: dict[int, tuple] = {}
    counter = [0]
    stop = threading.Event()
    errors: list[BaseException] = []
    last = [0]

    def report():
        n = counter[0]
        if progress and n - last[0] >= 20:
            last[0] = n
            progress(min(0.99, n / expected), f"tracking frame {n} of about {expected}")

    def worker(a, b):
        try:
            _track_chunk(path, info, fps, a, b, rows, counter, stop, threaded)
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    with quiet_native_stderr():
        threads = [threading.Thread(target=worker, args=(bounds[i], bounds[i + 1]), daemon=True)
                   for i in range(1, workers)]  # fmt: skip
        for th in threads:
            th.start()
        try:
            _track_chunk(path, info, fps, bounds[0], bounds[1], rows, counter, stop, threaded, report)
        except BaseException:
            stop.set()
            raise
        finally:
            for th in threads:
                th.join()
    if errors:
        raise errors[0]
    n = max(rows) + 1 if rows else 0
    world = np.full((n, 33, 4), np.nan, np.float32)
    image = np.full((n, 33, 4), np.nan, np.float32)
    found = np.zeros(n, bool)
    times = np.arange(n) / fps + (min(r[2] for r in rows.values()) if rows else 0.0)
    for k, (wld, img, t) in rows.items():
        times[k] = t
        if wld is not None:
            world[k], image[k], found[k] = wld, img, True
    return world, image, found, times, [b for b in bounds[1:-1]]


def landmarks_to_motion(
    world: np.ndarray,
    image: np.ndarray,
    found: np.ndarray,
    times: np.ndarray,
    fps: float,
    image_size: tuple[int, int],
    *,
    keep_all_tracks: bool = False,
    max_gap_s: float = 0.5,
    name: str = "the video",
) -> Motion:
    """Raw MediaPipe tracks (N, 33, 4) on a uniform `fps` grid -> a clean canonical Motion."""
    world, image, found = world.copy(), image.copy(), found.copy()
    n = len(found)
    if not found.any():
        raise LlamoError(f"No person was found in {name}.")
    warnings: list[str] = []
    switches = detect_identity_switches(image, found, fps)
    if switches:
        for s in switches:
            warnings.append(f"another person was tracked from {clock(times[s.frame] - times[0])}")
        if not keep_all_tracks:
            a, b = longest_track(n, found, switches)
            drop = np.ones(n, bool)
            drop[a:b] = False
            found[drop] = False
            world[drop] = np.nan
            image[drop] = np.nan
            span = f"{clock(times[a] - times[0])}-{clock(times[b - 1] - times[0])}"
            warnings.append(f"kept the longest consistent track ({span})")
    # pose relative to the pelvis, canonical frame
    local, vis = mediapipe_to_canonical(np.nan_to_num(world))
    local = local - local[:, JOINT_INDEX["pelvis"] : JOINT_INDEX["pelvis"] + 1]
    local = smooth_segments(local, found, fps, window_s=0.3)
    # root from the image
    cam = Camera(*image_size)
    root, _ = root_trajectory(world, image, cam, fps)
    ok = found & np.all(np.isfinite(root), axis=1)
    if ok.sum() == 0:
        root = np.zeros((n, 3), np.float32)
        warnings.append("the hips were never clearly visible, so the body's translation is unknown")
    else:
        idx = np.flatnonzero(ok)
        root = np.stack([np.interp(np.arange(n), idx, root[idx, d]) for d in range(3)], axis=1).astype(
            np.float32
        )
        root = smooth_segments(root, found, fps, window_s=0.5)
    joints = local + root[:, None, :]
    joints, long_gaps = fill_gaps(joints, found, fps, max_gap_s)
    # anchor: start at x = z = 0, floor (lowest feet) at y = 0
    first = int(np.flatnonzero(found)[0])
    joints[..., 0] -= joints[first, JOINT_INDEX["pelvis"], 0]
    joints[..., 2] -= joints[first, JOINT_INDEX["pelvis"], 2]
    feet = [JOINT_INDEX[j] for j in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    floor = np.percentile(joints[found][:, feet, 1].min(axis=1), 5)
    joints[..., 1] -= floor
    conf = np.where(found[:, None], np.clip(vis, 0.0, 1.0), 0.0).astype(np.float32)
    for a, b in long_gaps:
        warnings.append(
            f"no person from {clock(times[a] - times[0])} to {clock(times[b - 1] - times[0] + 1 / fps)}; "
            "the pose is held there with confidence 0"
        )
    warnings += visibility_warnings(image, found, image_size)
    return Motion(
        joints=joints.astype(np.float32),
        fps=fps,
        confidence=conf,
        source_times=times,
        source_kind="video",
        image_size=tuple(int(x) for x in image_size),
        landmarks_world=world,
        landmarks_image=image,
        person_found=found,
        warnings=warnings,
        meta={
            "extractor": "mediapipe-pose 0.10.21 complexity 1, tracking mode",
            "visibility_seen": VISIBILITY_SEEN,
            "camera_hfov_deg": cam.hfov_deg,
            "switch_frames": [s.frame for s in switches],
            "long_gaps": [[int(a), int(b)] for a, b in long_gaps],
            "person_runs": len(runs(found)),
        },
    )


def extract_video(
    path: str | Path,
    *,
    fps: float = 20.0,
    max_duration: float = 600.0,
    progress: Progress | None = None,
    keep_all_tracks: bool = False,
    threaded: bool = True,
    workers: int | None = None,
) -> Motion:
    """A video file -> canonical Motion at `fps` (frames nearest a uniform grid; lower-rate
    sources are tracked at their own rate, then interpolated up)."""
    path = Path(path)
    if not fps or fps <= 0 or fps > 240:
        raise LlamoError(f"the frame rate must be between 0 and 240, got {fps}.")
    start = time.perf_counter()
    info = probe_video(path)
    if max_duration and info.duration > max_duration:
        raise LlamoError(
            f"{path.name} lasts {clock(info.duration)}, over the limit of {clock(max_duration)} "
            f"(raise it with --max-duration)."
        )
    track_fps = min(float(fps), info.fps)
    if progress:
        progress(0.0, f"decoding {path.name} ({clock(info.duration)}, {info.fps:.0f} fps)")
    workers = auto_workers(info.duration) if workers is None else workers
    world, image, found, times, seams = track(
        path, info, track_fps, progress, threaded=threaded, workers=workers
    )
    motion = landmarks_to_motion(world, image, found, times, track_fps, (info.width, info.height), name=path.name,
                                 keep_all_tracks=keep_all_tracks)  # fmt: skip
    if abs(track_fps - fps) > 1e-6:
        motion = resample(motion, fps)
    motion.source_path = os.fspath(path)
    motion.source_sha256 = sha256_file(path)
    motion.rotation = info.rotation
    motion.meta.update({"source_fps": info.fps, "codec": info.codec, "tracked_fps": track_fps, "workers": workers, "seams": seams,
                        "extract_seconds": round(time.perf_counter() - start, 3)})  # fmt: skip
    if progress:
        progress(1.0, f"{motion.num_frames} frames")
    return motion


def write_video(path: str | Path, frames, fps: float, *, rotation: int = 0, faststart: bool = False,
                codec: str = "libx264") -> Path:  # fmt: skip
    """Encode RGB uint8 frames (H, W, 3) to a video with PyAV (H.264 by default), atomically.

    `rotation` stores display-rotation metadata (counter-clockwise degrees, as phones do), so
    tests and benchmarks can make rotated, looped or synthetic clips.
    """
    from llamo.fileio import atomic_path

    av = _av()
    path = Path(path)
    frames = iter(frames)
    first = next(frames)
    h, w = first.shape[:2]
    options = {"movflags": "faststart"} if faststart else {}
    ext = path.suffix.lstrip(".").lower()
    fmt = {"mkv": "matroska", "m4v": "mp4"}.get(ext, ext) or None
    rate = Fraction(fps).limit_denominator(1001)
    with atomic_path(path) as tmp, av.open(str(tmp), "w", format=fmt, options=options) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = w // 2 * 2, h // 2 * 2, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        for img in (first, *frames):
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(img[: h // 2 * 2, : w // 2 * 2]), format="rgb24"
            )
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
