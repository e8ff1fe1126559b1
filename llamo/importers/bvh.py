"""BVH files: `load_bvh` (parse, forward kinematics, retarget by joint name) and `save_bvh`."""

from __future__ import annotations

import math
import os
from pathlib import Path

from llamo import npyio
from llamo.errors import LlamoError
from llamo.fileio import atomic_path, sha256_file
from llamo.importers.bvh_parse import parse_bvh
from llamo.importers.bvh_retarget import bvh_to_canonical
from llamo.motion import Motion
from llamo.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

# frames x joints: forward kinematics keeps a 3x3 rotation per pair (72 bytes), so 4M is ~0.3 GB.
MAX_FRAME_JOINTS = 4_000_000


def load_bvh(path: str | Path, *, max_duration: float = 0.0) -> Motion:
    """A BVH file, retargeted onto the canonical skeleton at its own frame rate.

    The frame rate (1-240 fps), the frame count (`max_duration`, 0: only the absolute cap) and
    frames x joints are checked before forward kinematics allocates its arrays."""
    path = Path(path)
    try:
        text = path.read_text(errors="strict")
    except (UnicodeDecodeError, OSError) as exc:
        raise LlamoError(f"{path.name} is not a readable BVH text file ({type(exc).__name__}).") from None
    bvh = parse_bvh(text, path.name)
    fps = npyio.check_fps(path.name, 1.0 / bvh.frame_time if bvh.frame_time > 1e-300 else math.inf)
    if abs(fps - round(fps)) < 0.01:
        fps = float(round(fps))
    npyio.check_frames(path.name, bvh.data.shape[0], fps, max_duration)
    if bvh.data.shape[0] * len(bvh.joints) > MAX_FRAME_JOINTS:
        raise LlamoError(
            f"{path.name} has {bvh.data.shape[0]:,} frames of {len(bvh.joints):,} joints; "
            f"at most {MAX_FRAME_JOINTS:,} frame-joints are read."
        )
    joints, notes = bvh_to_canonical(bvh, path.name)
    warnings = []
    if notes["bvh_units"].startswith("unknown"):
        warnings.append(
            "the BVH units are not m, cm, mm or inches; the body was scaled to a 1.6 m head height"
        )
    return Motion.from_joints(joints, fps, meta=notes, warnings=warnings, source_path=os.fspath(path),
                              source_sha256=sha256_file(path), source_kind="bvh")  # fmt: skip


# Mixamo-style names for the canonical joints (what `save_bvh` writes; `load_bvh` reads them back).
BVH_NAMES = {
    "pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck", "head": "Head",
    **{f"{s}_{j}": f"{s.capitalize()}{n}" for s in ("left", "right") for j, n in (
        ("hip", "UpLeg"), ("knee", "Leg"), ("ankle", "Foot"), ("foot", "ToeBase"), ("collar", "Shoulder"),
        ("shoulder", "Arm"), ("elbow", "ForeArm"), ("wrist", "Hand"))},
}  # fmt: skip


def save_bvh(motion: Motion, path: str | Path, names: dict[str, str] | None = None) -> Path:
    """Write a motion as a BVH of the canonical skeleton (translation-only channels, centimetres).

    Each joint carries its own 3 position channels (no rotations): an exact, simple encoding of
    joint positions that round-trips through `load_bvh` and opens in BVH viewers as a point cloud.
    """
    cm = motion.joints * 100.0
    children: dict[int, list[int]] = {i: [] for i in range(NUM_JOINTS)}
    for c, p in enumerate(PARENTS):
        if p >= 0:
            children[p].append(c)
    lines: list[str] = ["HIERARCHY"]
    order: list[int] = []
    rest = cm[0]

    def emit(j, depth):
        pad = "  " * depth
        kw = "ROOT" if PARENTS[j] < 0 else "JOINT"
        off = rest[j] - (rest[PARENTS[j]] if PARENTS[j] >= 0 else 0)
        name = (names or BVH_NAMES)[JOINT_NAMES[j]]
        lines.append(f"{pad}{kw} {name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {off[0]:.4f} {off[1]:.4f} {off[2]:.4f}")
        lines.append(f"{pad}  CHANNELS 3 Xposition Yposition Zposition")
        order.append(j)
        for c in children[j]:
            emit(c, depth + 1)
        if not children[j]:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 0 0", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    local = cm.copy()
    for j in order:
        if PARENTS[j] >= 0:
            local[:, j] = cm[:, j] - cm[:, PARENTS[j]]
    for f in range(motion.num_frames):
        lines.append(" ".join(f"{v:.4f}" for j in order for v in local[f, j]))
    with atomic_path(path) as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n")
    return Path(path)
