"""`python -m llamo info FILE.npz`: what a motion file holds, in a few lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def add_arguments(parser) -> None:
    parser.add_argument("file", help="a motion .npz (or any file load_motion reads)")


def describe(motion, name: str) -> list[str]:
    from llamo.motion import VISIBILITY_SEEN
    from llamo.skeleton import BONES, JOINT_NAMES, bone_lengths

    j = motion.joints
    lines = [
        f"{name}: {motion.source_kind or 'motion'}, format {motion.format_version}",
        f"frames {motion.num_frames}, {motion.fps:g} fps, {motion.duration:.2f} s, "
        f"person in {motion.person_fraction:.0%} of frames",
        f"source {motion.source_path or '-'} (sha256 {motion.source_sha256[:12] or '-'})",
    ]
    if motion.image_size:
        lines.append(f"image {motion.image_size[0]}x{motion.image_size[1]}, rotation {motion.rotation} deg, "
                     f"raw landmarks {'yes' if motion.landmarks_world is not None else 'no'}")  # fmt: skip
    if motion.num_frames:
        seen = float(np.mean(motion.confidence >= VISIBILITY_SEEN))
        filled = float(np.mean(motion.confidence == 0))
        lines.append(
            f"confidence: {seen:.0%} of joint-frames seen (>= {VISIBILITY_SEEN}), {filled:.0%} filled in"
        )
        lo, hi = j.reshape(-1, 3).min(0), j.reshape(-1, 3).max(0)
        lines.append("extent (m): " + ", ".join(f"{a} {lo[i]:.2f}..{hi[i]:.2f}" for i, a in enumerate("xyz")))
        travel = np.linalg.norm(j[-1, 0, [0, 2]] - j[0, 0, [0, 2]])
        lines.append(f"pelvis travels {travel:.2f} m horizontally; height of head above lowest foot "
                     f"{np.median(j[:, 15, 1] - j[:, [7, 8, 10, 11], 1].min(1)):.2f} m (median)")  # fmt: skip
        bl = np.median(bone_lengths(j), 0)
        named = {JOINT_NAMES[c]: bl[k] for k, (_, c) in enumerate(BONES)}
        pick = ("left_knee", "left_ankle", "left_elbow", "left_wrist")
        lines.append(
            "bones (m, median): " + ", ".join(f"{k.replace('left_', 'to ')} {named[k]:.2f}" for k in pick)
        )
    lines += [f"warning: {w}" for w in motion.warnings] or ["no warnings"]
    if motion.meta:
        lines.append("meta: " + ", ".join(sorted(motion.meta)))
    return lines


def run(args) -> int:
    from llamo.importers import load_motion

    path = Path(args.file)
    motion = load_motion(path, fps=None, max_duration=0)
    print("\n".join(describe(motion, path.name)))
    return 0
