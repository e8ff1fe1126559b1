"""HumanML3D joints files (`new_joints/*.npy`): (T, 22, 3), metres, y up, 20 fps."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from llamo import npyio
from llamo.errors import LlamoError
from llamo.fileio import atomic_path, sha256_file
from llamo.motion import Motion
from llamo.motion_ops import resample
from llamo.skeleton import NUM_JOINTS

HUMANML3D_FPS = 20.0


def load_humanml3d(path: str | Path, *, max_duration: float = 0.0) -> Motion:
    """HumanML3D `new_joints/*.npy`: (T, 22, 3) metres, y up, 20 fps.

    The header's shape and dtype are checked, and T against `max_duration` (0: only the
    absolute frame cap), before the data is read; only the bytes the shape needs are read."""
    path = Path(path)
    name = path.name
    try:
        with open(path, "rb") as fh:
            head = npyio.read_header(fh, name, "the array")
            if len(head.shape) != 3 or head.shape[1:] != (NUM_JOINTS, 3) or head.shape[0] < 1:
                raise LlamoError(f"{name} has shape {head.shape}; a HumanML3D joints file is (T, 22, 3).")
            npyio.check_frames(name, head.shape[0], HUMANML3D_FPS, max_duration)
            joints = npyio.read_data(fh, head, name, "the array")
    except OSError as exc:
        raise LlamoError(f"{name} is not a readable .npy array ({exc.strerror or exc}).") from None
    if not np.all(np.isfinite(joints)):
        raise LlamoError(f"{name} contains non-finite values (NaN or infinity).")
    return Motion.from_joints(joints.astype(np.float32), HUMANML3D_FPS, source_path=os.fspath(path),
                              source_sha256=sha256_file(path), source_kind="humanml3d")  # fmt: skip


def save_humanml3d(motion: Motion, path: str | Path) -> Path:
    """Write joints as a HumanML3D-style .npy (for round trips and exports); resample to 20 fps first."""
    m = resample(motion, HUMANML3D_FPS)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, m.joints.astype(np.float32))
    return Path(path)
