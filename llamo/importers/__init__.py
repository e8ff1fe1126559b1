"""`load_motion`: the one entry point that reads any supported file as a canonical Motion.

Formats, one module each: video (`llamo.capture`), BVH (`bvh`, with `bvh_parse` and
`bvh_retarget`), HumanML3D `.npy` (`humanml3d`) and our own `.npz` (`llamo.motion`). The CLI,
the app, the trainer's data and the evaluation all load through here, so a file reads the
same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from llamo.capture import extract_video
from llamo.errors import LlamoError
from llamo.importers.bvh import BVH_NAMES, load_bvh, save_bvh
from llamo.importers.bvh_parse import Bvh, BvhJoint, bvh_positions, parse_bvh
from llamo.importers.bvh_retarget import SPINE_ARC_FRACTIONS, UNIT_SCALES, bvh_to_canonical
from llamo.importers.humanml3d import HUMANML3D_FPS, load_humanml3d, save_humanml3d
from llamo.motion import Motion
from llamo.motion_ops import resample

VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".webm", ".avi", ".mkv", ".m4v")
MOTION_SUFFIXES: tuple[str, ...] = (".bvh", ".npy", ".npz")
VIDEO_FPS = 20.0  # the rate videos are extracted at when no `fps` is asked for

Progress = Callable[[float, str], None]
# Each reader checks the frame rate and frame count against `max_duration` before reading data.
_READERS: dict[str, Callable[..., Motion]] = {
    ".bvh": load_bvh,
    ".npy": load_humanml3d,
    ".npz": Motion.load,
}

__all__ = [
    "BVH_NAMES", "Bvh", "BvhJoint", "HUMANML3D_FPS", "MOTION_SUFFIXES", "SPINE_ARC_FRACTIONS", "UNIT_SCALES",
    "VIDEO_FPS", "VIDEO_SUFFIXES", "bvh_positions", "bvh_to_canonical", "iter_inputs", "load_bvh",
    "load_humanml3d", "load_motion", "parse_bvh", "save_bvh", "save_humanml3d",
]  # fmt: skip


def _check_file(path: Path) -> str:
    """The lower-case suffix of a readable, non-empty file of a supported format."""
    if not path.exists():
        raise LlamoError(f"{path} does not exist.")
    if path.is_dir():
        raise LlamoError(f"{path} is a folder; give a file (extract accepts folders).")
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES + MOTION_SUFFIXES:
        raise LlamoError(
            f"{path.name} has an unsupported format ({suffix or 'no suffix'}); expected a video "
            f"({' '.join(VIDEO_SUFFIXES)}) or a motion file ({' '.join(MOTION_SUFFIXES)})."
        )
    if path.stat().st_size == 0:
        raise LlamoError(f"{path.name} is empty (0 bytes).")
    return suffix


def load_motion(
    path: str | Path,
    *,
    fps: float | None = None,
    max_duration: float = 600.0,
    progress: Progress | None = None,
    keep_all_tracks: bool = False,
    subject=None,
) -> Motion:
    """Any supported file -> Motion, dispatched on the suffix.

    `fps=None` keeps a motion file's own rate and extracts videos at 20 fps; a number resamples
    (`motion_ops.resample`). `max_duration` refuses longer clips, in seconds (0: no limit; a
    video is refused before decoding). `progress(fraction, message)` is called during video
    extraction and once at the end. `keep_all_tracks` keeps every tracked person of a video;
    `subject` picks the person to track (see `extract_video`).
    """
    path = Path(path)
    if fps is not None and not 0 < fps <= 240:
        raise LlamoError(f"the frame rate must be between 0 and 240, got {fps}.")
    suffix = _check_file(path)
    if suffix in VIDEO_SUFFIXES:
        return extract_video(path, fps=fps or VIDEO_FPS, max_duration=max_duration, progress=progress,
                             keep_all_tracks=keep_all_tracks, subject=subject)  # fmt: skip
    motion = _READERS[suffix](path, max_duration=max_duration)
    if max_duration and motion.duration > max_duration:
        raise LlamoError(
            f"{path.name} lasts {motion.duration:.0f} s, over the limit of {max_duration:.0f} s."
        )
    if fps and abs(fps - motion.fps) > 1e-6:
        motion = resample(motion, fps)
    if progress:
        progress(1.0, f"{motion.num_frames} frames")
    return motion


def iter_inputs(folder: str | Path) -> list[Path]:
    """Supported files in a folder (recursive, sorted, hidden files skipped)."""
    folder = Path(folder)
    out = []
    for p in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in p.relative_to(folder).parts)
        if p.is_file() and not hidden and p.suffix.lower() in VIDEO_SUFFIXES + MOTION_SUFFIXES:
            out.append(p)
    return out
