"""`extract_video`: a video file -> canonical Motion (probe, track, convert, resample)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from llamo.capture.landmarks import landmarks_to_motion
from llamo.capture.subject import Subject
from llamo.capture.tracking import Progress, auto_workers, track
from llamo.errors import LlamoError, clock
from llamo.fileio import sha256_file
from llamo.motion import Motion
from llamo.motion_ops import resample
from llamo.video import probe_video


def extract_video(
    path: str | Path,
    *,
    fps: float = 20.0,
    max_duration: float = 600.0,
    progress: Progress | None = None,
    keep_all_tracks: bool = False,
    threaded: bool = True,
    workers: int | None = None,
    subject: Subject | str | tuple[float, ...] | None = None,
) -> Motion:
    """A video file -> canonical Motion at `fps` (frames nearest a uniform grid; lower-rate
    sources are tracked at their own rate, then interpolated up).

    The probe comes first, so over-long or broken files are refused before any work.
    `subject`: who to track when several people are seen, a point (X, Y) or a box
    (X0, Y0, X1, Y1) in normalised coordinates of the first frame where they appear (see
    `llamo.capture.people.people_still`); kept in `meta["subject"]`."""
    path = Path(path)
    subject = None if subject is None else Subject.parse(subject)
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
    workers = 1 if subject is not None else workers  # one chunk: the subject is acquired once
    tracks = track(path, info, track_fps, progress, threaded=threaded, workers=workers,
                   max_duration=max_duration, subject=subject)  # fmt: skip
    if subject is not None and tracks.subject_frame is None:
        raise LlamoError(
            f"nobody was found at the chosen point ({subject.x:.2f}, {subject.y:.2f}) of {path.name}."
        )
    motion = landmarks_to_motion(tracks.world, tracks.image, tracks.found, tracks.times, track_fps,
                                 (info.width, info.height), name=path.name,
                                 keep_all_tracks=keep_all_tracks)  # fmt: skip
    if abs(track_fps - fps) > 1e-6:
        motion = resample(motion, fps)
    motion.source_path = os.fspath(path)
    motion.source_sha256 = sha256_file(path)
    motion.rotation = info.rotation
    motion.meta.update({"source_fps": info.fps, "codec": info.codec, "tracked_fps": track_fps, "workers": workers,
                        "seams": tracks.seams, "extract_seconds": round(time.perf_counter() - start, 3),
                        "reacquired_frames": tracks.reacquired, "rejected_poses": tracks.rejected})  # fmt: skip
    if subject is not None:
        motion.meta["subject"] = subject.as_meta() | {"first_frame": tracks.subject_frame}
    if progress:
        progress(1.0, f"{motion.num_frames} frames")
    return motion
