"""`Motion`: the one motion format every part of LLaMo consumes.

A motion is the canonical 22-joint skeleton over time (see `llamo.skeleton`), in metres,
right-handed with +y up. It saves to and loads from a single `.npz` file (format in README).
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from llamo import npyio
from llamo.errors import LlamoError
from llamo.fileio import atomic_path
from llamo.skeleton import NUM_JOINTS

FORMAT_VERSION = 1
# MediaPipe visibility at or above this counts as "seen"; below it, confidence is kept as the
# visibility itself, and filled-in (interpolated) joints get exactly 0.
VISIBILITY_SEEN = 0.5


@dataclass
class Motion:
    joints: np.ndarray  # (T, 22, 3) float32, metres, +y up
    fps: float
    confidence: np.ndarray  # (T, 22) float32 in [0, 1]; 0 = not seen, filled in
    source_times: np.ndarray  # (T,) float64, seconds into the source for each frame
    source_path: str = ""
    source_sha256: str = ""
    source_kind: str = ""  # video | bvh | humanml3d | npz | synthetic
    image_size: tuple[int, int] | None = None  # (width, height) of the decoded, rotated frames
    rotation: int = 0  # degrees the frames were rotated to honour container metadata
    # Raw MediaPipe output when the motion came from video (NaN where no person was found):
    landmarks_world: np.ndarray | None = None  # (T, 33, 4) x, y, z metres (MediaPipe frame), vis
    landmarks_image: np.ndarray | None = None  # (T, 33, 4) x px, y px, z, visibility
    person_found: np.ndarray | None = None  # (T,) bool
    warnings: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)  # free, JSON-serialisable (labels, settings)
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        self.joints = np.asarray(self.joints, dtype=np.float32)
        if self.joints.ndim != 3 or self.joints.shape[1:] != (NUM_JOINTS, 3):
            raise LlamoError(f"Motion joints must have shape (T, 22, 3), got {self.joints.shape}.")
        t = self.joints.shape[0]
        self.confidence = np.asarray(self.confidence, dtype=np.float32)
        if self.confidence.shape != (t, NUM_JOINTS):
            raise LlamoError(f"Motion confidence must have shape ({t}, 22), got {self.confidence.shape}.")
        self.source_times = np.asarray(self.source_times, dtype=np.float64)
        if self.source_times.shape != (t,):
            raise LlamoError(f"Motion source_times must have shape ({t},), got {self.source_times.shape}.")
        try:
            fps = float(self.fps)
        except (TypeError, ValueError, OverflowError):
            raise LlamoError(f"Motion fps must be a number, got {str(self.fps)[:40]!r}.") from None
        if not math.isfinite(fps) or fps <= 0:
            raise LlamoError(f"Motion fps must be positive and finite, got {fps}.")
        self.fps = fps

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    @property
    def person_fraction(self) -> float:
        """Share of frames with a person detected (1.0 for mocap and synthetic motion)."""
        if self.person_found is None or self.num_frames == 0:
            return 1.0
        return float(np.mean(self.person_found))

    @classmethod
    def from_joints(cls, joints: np.ndarray, fps: float, **kwargs) -> Motion:
        """A fully-confident motion from joints alone (mocap, datasets, synthetic)."""
        joints = np.asarray(joints, dtype=np.float32)
        t = joints.shape[0]
        kwargs.setdefault("confidence", np.ones((t, NUM_JOINTS), np.float32))
        kwargs.setdefault("source_times", np.arange(t) / float(fps))
        return cls(joints=joints, fps=fps, **kwargs)

    def save(self, path: str | Path) -> Path:
        """Write the motion as `.npz`, atomically."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {
            "joints": self.joints,
            "confidence": self.confidence,
            "source_times": self.source_times,
        }
        for name in ("landmarks_world", "landmarks_image"):
            value = getattr(self, name)
            if value is not None:
                arrays[name] = np.asarray(value, np.float32)
        if self.person_found is not None:
            arrays["person_found"] = np.asarray(self.person_found, bool)
        header = {
            "format_version": self.format_version,
            "fps": self.fps,
            "source_path": self.source_path,
            "source_sha256": self.source_sha256,
            "source_kind": self.source_kind,
            "image_size": list(self.image_size) if self.image_size else None,
            "rotation": self.rotation,
            "warnings": self.warnings,
            "meta": self.meta,
        }
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path, *, max_duration: float = 0.0) -> Motion:
        """Read a `.npz` written by `save`, bounded: only the members the format defines are
        read, each after its declared shape, dtype and size were checked, and the frame rate
        and frame count are checked before any joint is read (`max_duration` in seconds, 0:
        only the absolute frame cap)."""
        path = Path(path)
        header, arrays = _read_npz(path, max_duration)
        version = header.get("format_version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise LlamoError(f"{path.name} declares a format version that is not a whole number.")
        if version > FORMAT_VERSION:
            raise LlamoError(
                f"{path.name} uses motion format {version}, newer than this LLaMo ({FORMAT_VERSION})."
            )
        fields = _header_fields(header, path.name)
        return cls(joints=arrays["joints"], fps=header["fps"], confidence=arrays["confidence"],
                   source_times=arrays["source_times"], landmarks_world=arrays.get("landmarks_world"),
                   landmarks_image=arrays.get("landmarks_image"), person_found=arrays.get("person_found"),
                   format_version=FORMAT_VERSION, **fields)  # fmt: skip

    def slice(self, start: int, stop: int) -> Motion:
        """Frames [start, stop) as a new motion (for asking about a part of a clip)."""
        sel = slice(max(0, start), min(self.num_frames, stop))
        pick = lambda a: None if a is None else a[sel]  # noqa: E731
        return Motion(
            joints=self.joints[sel],
            fps=self.fps,
            confidence=self.confidence[sel],
            source_times=self.source_times[sel],
            source_path=self.source_path,
            source_sha256=self.source_sha256,
            source_kind=self.source_kind,
            image_size=self.image_size,
            rotation=self.rotation,
            landmarks_world=pick(self.landmarks_world),
            landmarks_image=pick(self.landmarks_image),
            person_found=pick(self.person_found),
            warnings=list(self.warnings),
            meta=dict(self.meta),
        )


# The members a motion `.npz` may hold: name -> shape (T for the frame count). Others are never read.
_MEMBERS: dict[str, tuple[int | str, ...]] = {
    "joints": ("T", NUM_JOINTS, 3),
    "confidence": ("T", NUM_JOINTS),
    "source_times": ("T",),
    "landmarks_world": ("T", 33, 4),
    "landmarks_image": ("T", 33, 4),
    "person_found": ("T",),
}
_FINITE = ("joints", "confidence", "source_times")
_MAX_HEADER_BYTES = 4 << 20


def _read_member(zf: zipfile.ZipFile, key: str, name: str, frames: int | None) -> np.ndarray:
    """One member of `frames` rows, its shape, dtype and size checked from the .npy header and
    the zip directory before its data is read."""
    info = zf.getinfo(f"{key}.npy")
    what = f"its '{key}' member"
    with zf.open(info) as fh:
        head = npyio.read_header(fh, name, what)
        want = tuple(frames if d == "T" else d for d in _MEMBERS.get(key, (None,)))
        npyio.check_shape(name, what, head, want)
        _check_member_size(info, head, name, what)
        return npyio.read_data(fh, head, name, what)


def _check_member_size(info: zipfile.ZipInfo, head: npyio.ArrayHeader, name: str, what: str) -> None:
    if info.file_size < head.offset + head.nbytes:
        raise LlamoError(
            f"{name} is truncated: {what} declares {head.nbytes:,} bytes, the archive holds less."
        )


def _read_npz(path: Path, max_duration: float) -> tuple[dict, dict[str, np.ndarray]]:
    """The header dict and the known arrays of a motion `.npz`; every problem is one LlamoError."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            present = {n.removesuffix(".npy") for n in zf.namelist()}
            if not {"header", "joints", "confidence", "source_times"} <= present:
                raise LlamoError(f"{name} is not a LLaMo motion file (no header or joints).")
            header = _read_json_header(zf, name)
            fps = npyio.check_fps(name, header.get("fps"))
            with zf.open("joints.npy") as fh:
                what = "its 'joints' member"
                head = npyio.read_header(fh, name, what)
                npyio.check_shape(name, what, head, (None, NUM_JOINTS, 3))
                npyio.check_frames(name, head.shape[0], fps, max_duration)
                _check_member_size(zf.getinfo("joints.npy"), head, name, what)
                arrays = {"joints": npyio.read_data(fh, head, name, what)}
            frames = head.shape[0]
            for key in _MEMBERS:
                if key != "joints" and key in present:
                    arrays[key] = _read_member(zf, key, name, frames)
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise LlamoError(f"{name} could not be read as a motion file ({str(exc)[:100]}).") from None
    for key in _FINITE:
        if not np.all(np.isfinite(arrays[key])):
            raise LlamoError(f"{name} has non-finite values (NaN or infinity) in its {key}.")
    return header, arrays


def _read_json_header(zf: zipfile.ZipFile, name: str) -> dict:
    info = zf.getinfo("header.npy")
    if info.file_size > _MAX_HEADER_BYTES:
        raise LlamoError(
            f"{name} has a {info.file_size:,}-byte header; at most {_MAX_HEADER_BYTES:,} is allowed."
        )
    with zf.open(info) as fh:
        head = npyio.read_header(fh, name, "its header")
        if len(head.shape) != 1 or head.dtype.itemsize != 1 or head.nbytes > _MAX_HEADER_BYTES:
            raise LlamoError(f"{name} has a malformed header (not a short byte string).")
        raw = npyio.read_data(fh, head, name, "its header")
    try:
        header = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise LlamoError(f"{name} has a header that is not valid JSON.") from None
    if not isinstance(header, dict):
        raise LlamoError(f"{name} has a header that is not a JSON object.")
    return header


def _header_fields(header: dict, name: str) -> dict:
    """The optional header fields, each of its declared type, or one sentence naming it."""
    expect = {"source_path": str, "source_sha256": str, "source_kind": str, "warnings": list, "meta": dict}
    out: dict = {}
    for key, kind in expect.items():
        value = header.get(key, kind())
        if not isinstance(value, kind):
            raise LlamoError(f"{name} has a malformed header: '{key}' is not a {kind.__name__}.")
        out[key] = value
    if not all(isinstance(w, str) for w in out["warnings"]):
        raise LlamoError(f"{name} has a malformed header: 'warnings' holds non-text entries.")
    rotation = header.get("rotation", 0)
    if isinstance(rotation, bool) or not isinstance(rotation, int) or rotation % 90:
        raise LlamoError(f"{name} has a malformed header: 'rotation' is not a multiple of 90 degrees.")
    size = header.get("image_size")
    ok = size is None or (isinstance(size, list) and len(size) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 < v < 1 << 16 for v in size))  # fmt: skip
    if not ok:
        raise LlamoError(f"{name} has a malformed header: 'image_size' is not (width, height).")
    out.update(rotation=rotation % 360, image_size=tuple(size) if size else None)
    out["warnings"] = list(out["warnings"])
    out["meta"] = dict(out["meta"])
    return out
