"""HumanML3D joints files (`new_joints/*.npy`): (T, 22, 3), metres, y up, 20 fps."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from llamo.errors import LlamoError
from llamo.fileio import atomic_path, sha256_file
from llamo.motion import Motion
from llamo.motion_ops import resample
from llamo.skeleton import NUM_JOINTS

HUMANML3D_FPS = 20.0


def load_humanml3d(path: str | Path) -> Motion:
    """HumanML3D `new_joints/*.npy`: (T, 22, 3) metres, y up, 20 fps."""
    path = Path(path)
    try:
        joints = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise LlamoError(f"{path.name} is not a readable .npy array ({exc}).") from None
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or joints.shape[0] < 1:
        raise LlamoError(f"{path.name} has shape {joints.shape}; a HumanML3D joints file is (T, 22, 3).")
    if not np.issubdtype(joints.dtype, np.number) or not np.all(np.isfinite(joints)):
        raise LlamoError(f"{path.name} contains non-finite values.")
    return Motion.from_joints(joints.astype(np.float32), HUMANML3D_FPS, source_path=os.fspath(path),
                              source_sha256=sha256_file(path), source_kind="humanml3d")  # fmt: skip


def save_humanml3d(motion: Motion, path: str | Path) -> Path:
    """Write joints as a HumanML3D-style .npy (for round trips and exports); resample to 20 fps first."""
    m = resample(motion, HUMANML3D_FPS)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, m.joints.astype(np.float32))
    return Path(path)
