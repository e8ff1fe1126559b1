"""MediaPipe over a video's grid frames, with decoding and inference overlapped.

A decoder thread walks the stream (`llamo.video.iter_grid_frames`) while pose inference runs in
the calling thread; both release the GIL. On clips of 20 s or more, two trackers (each with its
own decode thread) take the two halves in parallel; MediaPipe uses about one core each.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from llamo.capture.pose import PoseTracker, quiet_native_stderr
from llamo.capture.subject import Follower, Subject
from llamo.video import VideoInfo, iter_grid_frames

Progress = Callable[[float, str], None]


@dataclass
class Tracks:
    """Raw tracks on the grid: NaN landmarks where no person was found."""

    world: np.ndarray  # (N, 33, 4) metres, MediaPipe frame, + visibility
    image: np.ndarray  # (N, 33, 4) px of the full-size upright frame, + visibility
    found: np.ndarray  # (N,) bool
    times: np.ndarray  # (N,) seconds on the stream's clock
    seams: list[int] = field(default_factory=list)  # grid slots where a worker's chunk starts
    reacquired: int = 0  # frames where the subject was found again in their region of interest
    rejected: int = 0  # tracker poses refused as another person
    subject_frame: int | None = None  # grid slot where the chosen subject was first found


class _Row(NamedTuple):
    world: np.ndarray | None
    image: np.ndarray | None
    time: float


def prefetch(gen: Iterator, maxsize: int = 8) -> Iterator:
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


def auto_workers(duration: float) -> int:
    """Trackers to run in parallel: 2 on clips of 20 s or more when there are 2+ cores
    (MediaPipe uses about one core; the seam costs one re-detection), else 1."""
    return 2 if duration >= 20.0 and (os.cpu_count() or 1) >= 2 else 1


@dataclass(frozen=True)
class _Job:
    """What every chunk of one tracking run shares."""

    path: str | Path
    info: VideoInfo
    fps: float
    threaded: bool
    max_duration: float  # seconds of decoded video before it is refused (0: no limit)
    subject: Subject | None = None  # who to keep (None: whoever the tracker finds first)


def _track_chunk(job: _Job, start_k, stop_k, rows, counter, stop, stats: list[Follower], report=None):
    frames = iter_grid_frames(job.path, job.fps, job.info, start_k=start_k, stop_k=stop_k,
                              max_duration=job.max_duration)  # fmt: skip
    threaded = job.threaded
    if threaded:
        frames = prefetch(frames)
    follow = Follower(job.fps, job.subject)
    try:
        with PoseTracker() as tracker:
            _follow_frames(frames, tracker, follow, rows, counter, stop, report)
    finally:
        follow.close()
    stats.append(follow)


def _follow_frames(frames, tracker, follow: Follower, rows, counter, stop, report) -> None:
    for k, t, rgb, scale in frames:
        if stop.is_set():
            return
        out = follow.step(k, rgb, tracker)
        for j, back in follow.take_back().items():  # refused, then restored as a new person
            back.image[:, :3] *= scale
            rows[j] = _Row(back.world, back.image, rows[j].time)
        if out is not None:
            out.image[:, :3] *= scale
            rows[k] = _Row(out.world, out.image, t)
        else:
            rows[k] = _Row(None, None, t)
        counter[0] += 1
        if report:
            report()


def _assemble(rows: dict[int, _Row], fps: float, seams: list[int]) -> Tracks:
    n = max(rows) + 1 if rows else 0
    world = np.full((n, 33, 4), np.nan, np.float32)
    image = np.full((n, 33, 4), np.nan, np.float32)
    found = np.zeros(n, bool)
    times = np.arange(n) / fps + (min(r.time for r in rows.values()) if rows else 0.0)
    for k, row in rows.items():
        times[k] = row.time
        if row.world is not None:
            world[k], image[k], found[k] = row.world, row.image, True
    return Tracks(world, image, found, times, seams)


def track(
    path: str | Path,
    info: VideoInfo,
    fps: float,
    progress: Progress | None = None,
    threaded: bool = True,
    workers: int = 1,
    max_duration: float = 0.0,
    subject: Subject | None = None,
) -> Tracks:
    """Run the tracker on the grid frames.

    With `workers` > 1 the grid is cut into contiguous chunks, each tracked by its own MediaPipe
    graph in its own thread (decode and inference release the GIL); the calling thread takes the
    first chunk and reports progress. `Tracks.seams` lists the cut frames. Decoding stops with
    a LlamoError once it passes `max_duration` seconds (0: no limit), whatever the probe said.
    Each chunk keeps one person (`subject.Follower`); a chosen `subject` needs one chunk, so
    it tracks with one worker.
    """
    job = _Job(path, info, fps, threaded, max_duration, subject)
    if subject is not None:
        workers = 1
    expected = max(1, int(info.duration * fps))
    workers = max(1, min(int(workers), expected // 40 or 1))
    bounds = [round(i * expected / workers) for i in range(workers)] + [None]
    rows: dict[int, _Row] = {}
    counter = [0]
    stop = threading.Event()
    errors: list[BaseException] = []
    stats: list[Follower] = []
    last = [0]

    def report():
        n = counter[0]
        if progress and n - last[0] >= 20:
            last[0] = n
            progress(min(0.99, n / expected), f"tracking frame {n} of about {expected}")

    def worker(a, b):
        try:
            _track_chunk(job, a, b, rows, counter, stop, stats)
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    with quiet_native_stderr():
        threads = [threading.Thread(target=worker, args=(bounds[i], bounds[i + 1]), daemon=True)
                   for i in range(1, workers)]  # fmt: skip
        for th in threads:
            th.start()
        try:
            _track_chunk(job, bounds[0], bounds[1], rows, counter, stop, stats, report)
        except BaseException:
            stop.set()
            raise
        finally:
            for th in threads:
                th.join()
    if errors:
        raise errors[0]
    tracks = _assemble(rows, fps, list(bounds[1:-1]))
    tracks.reacquired = sum(f.reacquired for f in stats)
    tracks.rejected = sum(f.rejected for f in stats)
    firsts = [f.first_k for f in stats if f.first_k is not None]
    tracks.subject_frame = min(firsts) if firsts else None
    return tracks
