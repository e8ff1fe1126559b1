"""Raw MediaPipe tracks (33 landmarks) -> a clean canonical Motion (pure numpy, no MediaPipe).

Steps, and why: an identity-switch check (another person walked in: keep the longest
consistent track); the 33 -> 22 mapping with the change of frame (x, -y, -z); the body's
translation from the image hip centre scaled by body size (world landmarks are re-centred on
the hips in every frame); zero-lag smoothing; gap filling with confidence 0; warnings.
"""

from __future__ import annotations

import numpy as np

from llamo.errors import LlamoError, clock
from llamo.motion import VISIBILITY_SEEN, Motion
from llamo.motion_ops import (
    Camera,
    detect_identity_switches,
    fill_gaps,
    longest_track,
    mediapipe_to_canonical,
    root_trajectory,
    runs,
    smooth_segments,
    visibility_warnings,
)
from llamo.skeleton import JOINT_INDEX


def landmarks_to_motion(
    world: np.ndarray,
    image: np.ndarray,
    found: np.ndarray,
    times: np.ndarray,
    fps: float,
    image_size: tuple[int, int],
    *,
    keep_all_tracks: bool = False,
    max_gap_s: float = 0.5,
    name: str = "the video",
) -> Motion:
    """Raw MediaPipe tracks (N, 33, 4) on a uniform `fps` grid -> a clean canonical Motion."""
    world, image, found = world.copy(), image.copy(), found.copy()
    n = len(found)
    if not found.any():
        raise LlamoError(f"No person was found in {name}.")
    warnings: list[str] = []
    switches = detect_identity_switches(image, found, fps)
    if switches:
        for s in switches:
            warnings.append(f"another person was tracked from {clock(times[s.frame] - times[0])}")
        if not keep_all_tracks:
            a, b = longest_track(n, found, switches)
            drop = np.ones(n, bool)
            drop[a:b] = False
            found[drop] = False
            world[drop] = np.nan
            image[drop] = np.nan
            span = f"{clock(times[a] - times[0])}-{clock(times[b - 1] - times[0])}"
            warnings.append(f"kept the longest consistent track ({span})")
    # pose relative to the pelvis, canonical frame
    local, vis = mediapipe_to_canonical(np.nan_to_num(world))
    local = local - local[:, JOINT_INDEX["pelvis"] : JOINT_INDEX["pelvis"] + 1]
    local = smooth_segments(local, found, fps, window_s=0.3)
    # root from the image
    cam = Camera(*image_size)
    root, _ = root_trajectory(world, image, cam, fps)
    ok = found & np.all(np.isfinite(root), axis=1)
    if ok.sum() == 0:
        root = np.zeros((n, 3), np.float32)
        warnings.append("the hips were never clearly visible, so the body's translation is unknown")
    else:
        idx = np.flatnonzero(ok)
        root = np.stack([np.interp(np.arange(n), idx, root[idx, d]) for d in range(3)], axis=1).astype(
            np.float32
        )
        root = smooth_segments(root, found, fps, window_s=0.5)
    joints = local + root[:, None, :]
    joints, long_gaps = fill_gaps(joints, found, fps, max_gap_s)
    # anchor: start at x = z = 0, floor (lowest feet) at y = 0
    first = int(np.flatnonzero(found)[0])
    joints[..., 0] -= joints[first, JOINT_INDEX["pelvis"], 0]
    joints[..., 2] -= joints[first, JOINT_INDEX["pelvis"], 2]
    feet = [JOINT_INDEX[j] for j in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    floor = np.percentile(joints[found][:, feet, 1].min(axis=1), 5)
    joints[..., 1] -= floor
    conf = np.where(found[:, None], np.clip(vis, 0.0, 1.0), 0.0).astype(np.float32)
    for a, b in long_gaps:
        warnings.append(
            f"no person from {clock(times[a] - times[0])} to {clock(times[b - 1] - times[0] + 1 / fps)}; "
            "the pose is held there with confidence 0"
        )
    warnings += visibility_warnings(image, found, image_size)
    return Motion(
        joints=joints.astype(np.float32),
        fps=fps,
        confidence=conf,
        source_times=times,
        source_kind="video",
        image_size=tuple(int(x) for x in image_size),
        landmarks_world=world,
        landmarks_image=image,
        person_found=found,
        warnings=warnings,
        meta={
            "extractor": "mediapipe-pose 0.10.21 complexity 1, tracking mode",
            "visibility_seen": VISIBILITY_SEEN,
            "camera_hfov_deg": cam.hfov_deg,
            "switch_frames": [s.frame for s in switches],
            "long_gaps": [[int(a), int(b)] for a, b in long_gaps],
            "person_runs": len(runs(found)),
        },
    )
