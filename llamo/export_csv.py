"""CSV of a motion for researchers: joints, angles, pelvis, confidence and repetitions per frame.

The file starts with `#` comment lines naming units and conventions (read it with
`pandas.read_csv(path, comment="#")`), then one header row and one row per frame.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from llamo.fileio import atomic_path
from llamo.kinematics import (
    ANGLE_NAMES,
    Repetitions,
    count_repetitions,
    joint_angles,
    part_confidence,
    pelvis_height,
    pelvis_speed,
)
from llamo.motion import Motion
from llamo.skeleton import JOINT_NAMES


def csv_header_lines(motion: Motion, reps: Repetitions) -> list[str]:
    return [
        "LLaMo motion CSV; lines starting with # are comments (pandas: read_csv(path, comment='#')).",
        f"source: {motion.source_path or '-'} ({motion.source_kind or 'unknown'}); "
        f"{motion.num_frames} frames at {motion.fps:g} fps",
        "coordinates: metres, right-handed, +y up; left/right are the person's own sides; "
        "the floor (lowest foot point of the clip) is the reference for heights.",
        "time_s: seconds from the first frame; source_time_s: seconds into the source file.",
        "angles in degrees: *_flexion 0 = straight (knee, elbow) or in line with the trunk (hip); "
        "hip flexion is signed (+ thigh in front of the trunk); shoulder_elevation 0 = arm hanging, "
        "180 = overhead; trunk_lean 0 = upright.",
        "*_conf: joint confidence 0-1 (MediaPipe visibility; 0 = not seen, filled in); "
        "conf_<part>: mean confidence of a body part.",
        f"repetition: 1-based index at each repetition's extreme frame, else empty "
        f"(signal {reps.signal_name}, {'maxima' if reps.polarity > 0 else 'minima'}; {reps.count} in total).",
    ]


def write_csv(motion: Motion, path: str | Path, reps: Repetitions | None = None) -> Path:
    """Write the per-frame CSV atomically; returns the path."""
    path = Path(path)
    reps = reps if reps is not None else count_repetitions(motion)
    t = motion.num_frames
    angles = joint_angles(motion)
    parts = part_confidence(motion)
    columns: list[tuple[str, np.ndarray, int]] = [
        ("frame", np.arange(t), 0),
        ("time_s", np.arange(t) / motion.fps, 4),
        ("source_time_s", motion.source_times, 4),
    ]
    for j, name in enumerate(JOINT_NAMES):
        for k, axis in enumerate("xyz"):
            columns.append((f"{name}_{axis}_m", motion.joints[:, j, k], 4))
    for name in ANGLE_NAMES:
        columns.append((f"{name}_deg", angles[name], 2))
    columns.append(("pelvis_height_m", pelvis_height(motion), 4))
    columns.append(("pelvis_speed_m_s", pelvis_speed(motion), 4))
    for j, name in enumerate(JOINT_NAMES):
        columns.append((f"{name}_conf", motion.confidence[:, j], 3))
    for part, c in parts.items():
        columns.append((f"conf_{part}", c, 3))
    rep_col = [""] * t
    for i, f in enumerate(reps.peak_frames):
        rep_col[f] = str(i + 1)
    text_cols = [
        [f"{v:.{d}f}" if d else str(int(v)) for v in np.asarray(values, np.float64)]
        for _, values, d in columns
    ]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        for line in csv_header_lines(motion, reps):
            fh.write(f"# {line}\n")
        w = csv.writer(fh)
        w.writerow([name for name, _, _ in columns] + ["repetition"])
        for i in range(t):
            w.writerow([col[i] for col in text_cols] + [rep_col[i]])
    return path
