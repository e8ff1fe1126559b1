"""`Motion`: the one motion format every part of LLaMo consumes.

A motion is the canonical 22-joint skeleton over time (see `llamo.skeleton`), in metres,
right-handed with +y up. It saves to and loads from a single `.npz` file (format in README).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

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
        if not self.fps or self.fps <= 0:
            raise LlamoError("Motion fps must be positive.")
        self.fps = float(self.fps)

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
    def load(cls, path: str | Path) -> Motion:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                if "header" not in data.files or "joints" not in data.files:
                    raise LlamoError(f"{path.name} is not a LLaMo motion file (no header or joints).")
                header = json.loads(bytes(data["header"]).decode())
                arrays = {k: data[k] for k in data.files if k != "header"}
        except (OSError, ValueError, zipfile.BadZipFile, json.JSONDecodeError, EOFError) as exc:
            raise LlamoError(f"{path.name} could not be read as a motion file ({exc}).") from None
        version = int(header.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise LlamoError(
                f"{path.name} uses motion format {version}, newer than this LLaMo ({FORMAT_VERSION})."
            )
        image_size = header.get("image_size")
        return cls(
            joints=arrays["joints"],
            fps=header["fps"],
            confidence=arrays["confidence"],
            source_times=arrays["source_times"],
            source_path=header.get("source_path", ""),
            source_sha256=header.get("source_sha256", ""),
            source_kind=header.get("source_kind", ""),
            image_size=tuple(image_size) if image_size else None,
            rotation=int(header.get("rotation", 0)),
            landmarks_world=arrays.get("landmarks_world"),
            landmarks_image=arrays.get("landmarks_image"),
            person_found=arrays.get("person_found"),
            warnings=list(header.get("warnings", [])),
            meta=dict(header.get("meta", {})),
            format_version=FORMAT_VERSION,
        )

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
