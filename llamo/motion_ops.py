"""Operations on motions and raw pose tracks: resampling, 33->22 mapping, root trajectory,
gap filling, lag-free smoothing, identity-switch detection and human-readable warnings.

Everything here is plain numpy/scipy on arrays, so it is fast to test without MediaPipe.
Conventions: canonical joints are metres, right-handed, +y up (see llamo.skeleton). MediaPipe's
world frame is x right, y down, z away from the camera; the canonical frame is (x, -y, -z), a
180 degree rotation about x (flipping y alone would mirror the person and swap left and right).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from llamo.motion import VISIBILITY_SEEN, Motion
from llamo.skeleton import JOINT_INDEX, NUM_JOINTS

# MediaPipe -> canonical: (x, y, z) -> (x, -y, -z)
MP_TO_CANONICAL = np.array([1.0, -1.0, -1.0], np.float32)

# Direct 33 -> 22 correspondences (MediaPipe index per canonical joint).
_DIRECT = {
    "left_hip": 23,
    "right_hip": 24,
    "left_knee": 25,
    "right_knee": 26,
    "left_ankle": 27,
    "right_ankle": 28,
    "left_foot": 31,  # foot_index (toe tip); the SMPL foot joint sits at the ball of the foot
    "right_foot": 32,
    "left_shoulder": 11,
    "right_shoulder": 12,
    "left_elbow": 13,
    "right_elbow": 14,
    "left_wrist": 15,
    "right_wrist": 16,
}
# Spine joints as fractions of the pelvis -> shoulder-centre vector (SMPL-like proportions).
SPINE_FRACTIONS = {"spine1": 0.25, "spine2": 0.55, "spine3": 0.75}
COLLAR_FRACTION = 0.45  # collar = lerp(shoulder centre, shoulder, 0.45)
NECK_FRACTION = 0.35  # neck = lerp(shoulder centre, mouth centre, 0.35)


def mediapipe_to_canonical(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe landmarks (T, 33, 4: x, y, z, visibility) -> joints (T, 22, 3), visibility (T, 22).

    Works for world landmarks (metres; gives canonical metres, y up) and is also used on image
    landmarks with the frame change skipped (see `map_33_to_22`).
    """
    joints, vis = map_33_to_22(lm)
    return joints * MP_TO_CANONICAL, vis


def map_33_to_22(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 33 -> 22 mapping in MediaPipe's own frame: (T, 33, 4) -> (T, 22, 3), (T, 22).

    Pelvis, spine, neck and collars come from hips and shoulders (and the mouth for the neck);
    the head is the centre of the ears, feet are the foot-index landmarks. A derived joint's
    visibility is the minimum of the landmarks it uses.
    """
    lm = np.asarray(lm, np.float32)
    p, v = lm[..., :3], lm[..., 3]
    t = lm.shape[0]
    out = np.zeros((t, NUM_JOINTS, 3), np.float32)
    vis = np.zeros((t, NUM_JOINTS), np.float32)
    for name, i in _DIRECT.items():
        out[:, JOINT_INDEX[name]] = p[:, i]
        vis[:, JOINT_INDEX[name]] = v[:, i]
    hip_c = 0.5 * (p[:, 23] + p[:, 24])
    sh_c = 0.5 * (p[:, 11] + p[:, 12])
    torso_v = np.minimum(np.minimum(v[:, 23], v[:, 24]), np.minimum(v[:, 11], v[:, 12]))
    out[:, JOINT_INDEX["pelvis"]] = hip_c
    vis[:, JOINT_INDEX["pelvis"]] = np.minimum(v[:, 23], v[:, 24])
    for name, f in SPINE_FRACTIONS.items():
        out[:, JOINT_INDEX[name]] = hip_c + f * (sh_c - hip_c)
        vis[:, JOINT_INDEX[name]] = torso_v
    mouth = 0.5 * (p[:, 9] + p[:, 10])
    out[:, JOINT_INDEX["neck"]] = sh_c + NECK_FRACTION * (mouth - sh_c)
    vis[:, JOINT_INDEX["neck"]] = np.minimum(np.minimum(v[:, 11], v[:, 12]), np.minimum(v[:, 9], v[:, 10]))
    out[:, JOINT_INDEX["head"]] = 0.5 * (p[:, 7] + p[:, 8])
    vis[:, JOINT_INDEX["head"]] = np.minimum(v[:, 7], v[:, 8])
    for side, s in (("left", 11), ("right", 12)):
        out[:, JOINT_INDEX[f"{side}_collar"]] = sh_c + COLLAR_FRACTION * (p[:, s] - sh_c)
        vis[:, JOINT_INDEX[f"{side}_collar"]] = np.minimum(v[:, 11], v[:, 12])
    return out, vis


# ---------------------------------------------------------------------------------------------
# Root trajectory from image landmarks


@dataclass
class Camera:
    """A pinhole guess: focal length from an assumed horizontal field of view (no calibration)."""

    width: int
    height: int
    hfov_deg: float = 60.0

    @property
    def focal_px(self) -> float:
        return 0.5 * self.width / np.tan(np.radians(self.hfov_deg) / 2)


# Segments used for the body scale: (a, b) MediaPipe indices. Foreshortening only shortens a
# segment in the image, so the largest pixels-per-metre ratio among them is the least biased.
_SCALE_SEGMENTS = ((11, 12), (23, 24), (11, 23), (12, 24), (23, 25), (24, 26), (25, 27), (26, 28))


def pixels_per_metre(world: np.ndarray, image: np.ndarray) -> np.ndarray:
    """(T, 33, 4) world + image landmarks -> (T,) pixels per metre at the person's depth (NaN if none)."""
    ratios = []
    for a, b in _SCALE_SEGMENTS:
        w = np.linalg.norm(world[:, a, :3] - world[:, b, :3], axis=-1)
        px = np.linalg.norm(image[:, a, :2] - image[:, b, :2], axis=-1)
        seen = np.minimum(image[:, a, 3], image[:, b, 3]) >= VISIBILITY_SEEN
        r = np.where(seen & (w > 0.05), px / np.maximum(w, 1e-6), np.nan)
        ratios.append(r)
    ratios = np.stack(ratios, axis=1)  # (T, S)
    with np.errstate(all="ignore"):
        # the second largest is robust to one bad segment and still near the unforeshortened ratio
        ordered = np.sort(np.where(np.isnan(ratios), -np.inf, ratios), axis=1)
        ppm = ordered[:, -2]
    ppm[~np.isfinite(ppm)] = np.nan
    return ppm


def _rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    out = np.full_like(x, np.nan)
    half = window // 2
    for i in range(len(x)):
        seg = x[max(0, i - half) : i + half + 1]
        seg = seg[np.isfinite(seg)]
        if seg.size:
            out[i] = np.median(seg)
    return out


def root_trajectory(
    world: np.ndarray, image: np.ndarray, camera: Camera, fps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pelvis position in the canonical frame from the hip centre in pixels, (T, 3), and ppm (T,).

    Back-projects the hip centre through a pinhole camera at the depth implied by the body's
    size in the image (pixels per metre, median over about a second so depth does not jitter).
    The result is relative to the camera (x right, y up, the person at -z); the caller re-anchors it.
    """
    ppm = _rolling_median(pixels_per_metre(world, image), max(3, int(round(fps)) | 1))
    hip_px = 0.5 * (image[:, 23, :2] + image[:, 24, :2])
    f = camera.focal_px
    depth = f / ppm
    x = (hip_px[:, 0] - camera.width / 2) / ppm
    y = -(hip_px[:, 1] - camera.height / 2) / ppm
    return np.stack([x, y, -depth], axis=-1).astype(np.float32), ppm


# ---------------------------------------------------------------------------------------------
# Identity switches


@dataclass
class Switch:
    frame: int
    reason: str


def body_centre_size(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 2) hip centre and (T,) body size (torso length + half the shoulder width), in px, of
    (T, 33, >=2) image landmarks: what tells one person from another between frames."""
    hip = 0.5 * (image[:, 23, :2] + image[:, 24, :2])
    sh = 0.5 * (image[:, 11, :2] + image[:, 12, :2])
    size = np.linalg.norm(sh - hip, axis=-1) + 0.5 * np.linalg.norm(
        image[:, 11, :2] - image[:, 12, :2], axis=-1
    )
    return hip, size


def detect_identity_switches(
    image: np.ndarray, found: np.ndarray, fps: float, *, jump: float = 0.8, size_ratio: float = 1.5
) -> list[Switch]:
    """Frames where the tracked person probably changed: the hip centre jumps by more than `jump`
    torso lengths within a frame (scaled to 20 fps), or the torso size changes by `size_ratio`.

    image: (T, 33, 4) image landmarks in px (NaN where nothing was found); found: (T,) bool.
    """
    hip, size = body_centre_size(image)
    switches: list[Switch] = []
    idx = np.flatnonzero(found)
    for a, b in zip(idx[:-1], idx[1:], strict=False):
        gap_frames = b - a
        # allowed motion grows with time between the two detections (a person moves < ~4 torso/s)
        allowed = jump * max(1.0, gap_frames * 20.0 / fps)
        ref = max(min(size[a], size[b]), 1e-6)
        moved = np.linalg.norm(hip[b] - hip[a]) / ref
        ratio = max(size[a], size[b]) / ref
        if moved > allowed:
            switches.append(Switch(int(b), f"the hip centre jumped {moved:.1f} body sizes"))
        elif ratio > size_ratio and gap_frames <= fps:
            switches.append(Switch(int(b), f"the body size changed {ratio:.1f}x"))
    return switches


def longest_track(num_frames: int, found: np.ndarray, switches: list[Switch]) -> tuple[int, int]:
    """[start, stop) of the segment between switches with the most frames with a person."""
    cuts = [0] + [s.frame for s in switches] + [num_frames]
    best, best_n = (0, num_frames), -1
    for a, b in zip(cuts[:-1], cuts[1:], strict=False):
        n = int(found[a:b].sum())
        if n > best_n:
            best, best_n = (a, b), n
    return best


# ---------------------------------------------------------------------------------------------
# Gaps and smoothing


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) runs where mask is True."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=False))


def fill_gaps(
    joints: np.ndarray, found: np.ndarray, fps: float, max_gap_s: float = 0.5
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Fill frames without a person: short inner gaps (<= max_gap_s) by linear interpolation,
    long gaps and the clip's ends by holding the nearest seen pose. Returns the filled joints and
    the long gaps [start, stop) so the caller can report them instead of pretending they are real.
    """
    joints = joints.copy()
    t = len(found)
    seen = np.flatnonzero(found)
    if seen.size == 0:
        return joints, [(0, t)]
    long_gaps = []
    for a, b in runs(~found):
        if a == 0 or b == t:
            src = seen[0] if a == 0 else seen[-1]
            joints[a:b] = joints[src]
            if (b - a) / fps > max_gap_s:
                long_gaps.append((a, b))
        elif (b - a) / fps <= max_gap_s:
            w = (np.arange(a, b) - (a - 1)) / (b - a + 1)
            joints[a:b] = (1 - w)[:, None, None] * joints[a - 1] + w[:, None, None] * joints[b]
        else:
            half = (a + b) // 2
            joints[a:half] = joints[a - 1]
            joints[half:b] = joints[b]
            long_gaps.append((a, b))
    return joints, long_gaps


def smooth(x: np.ndarray, fps: float, window_s: float = 0.3, polyorder: int = 2) -> np.ndarray:
    """Zero-lag Savitzky-Golay smoothing along time (axis 0). Centred, so peaks are not delayed."""
    from scipy.signal import savgol_filter

    window = int(round(window_s * fps)) | 1
    if len(x) < 5 or window <= polyorder + 1:
        return x.copy()
    window = min(window, len(x) if len(x) % 2 else len(x) - 1)
    if window <= polyorder + 1:
        return x.copy()
    return savgol_filter(x, window, polyorder, axis=0, mode="interp").astype(x.dtype)


def smooth_segments(x: np.ndarray, found: np.ndarray, fps: float, window_s: float = 0.3) -> np.ndarray:
    """Smooth each run of frames with a person separately, so filled gaps do not leak in."""
    out = x.copy()
    for a, b in runs(found):
        out[a:b] = smooth(x[a:b], fps, window_s)
    return out


# ---------------------------------------------------------------------------------------------
# Warnings


_PART_LANDMARKS = {
    "legs": (25, 26, 27, 28),
    "arms": (13, 14, 15, 16),
    "head": (0, 7, 8),
}


def visibility_warnings(
    image: np.ndarray, found: np.ndarray, size: tuple[int, int], min_share=0.2
) -> list[str]:
    """'legs out of frame for 40% of the clip' for parts unseen in at least `min_share` of frames."""
    out = []
    t = len(found)
    if t == 0:
        return out
    w, h = size
    for part, idx in _PART_LANDMARKS.items():
        lm = image[:, list(idx)]
        unseen = found & np.any(lm[..., 3] < VISIBILITY_SEEN, axis=1)
        share = unseen.sum() / t
        if share < min_share:
            continue
        x, y = lm[..., 0], lm[..., 1]
        outside = found & np.any((x < 0) | (x > w) | (y < 0) | (y > h), axis=1)
        how = "out of frame" if (outside & unseen).sum() >= 0.5 * unseen.sum() else "hidden"
        verb = "is" if part == "head" else "are"
        out.append(f"{part} {how} for {share:.0%} of the clip" if how == "out of frame" else
                   f"{part} {verb} hidden for {share:.0%} of the clip")  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# Resampling


def resample(motion: Motion, fps: float) -> Motion:
    """The same motion at `fps` (linear interpolation of joints; raw landmarks take the nearest frame).

    Covers the same time span: frame 0 stays frame 0; the last output frame is at or before the
    last input frame. A filled-in input frame (confidence 0) makes its neighbours' interpolated
    frames 0 too, so confidence never claims more than was seen.
    """
    fps = float(fps)
    if fps <= 0:
        raise ValueError("fps must be positive")
    if abs(fps - motion.fps) < 1e-6 or motion.num_frames == 0:
        return replace(motion, fps=fps, warnings=list(motion.warnings), meta=dict(motion.meta))
    n_out = int(np.floor((motion.num_frames - 1) * fps / motion.fps + 1e-6)) + 1
    t_out = np.arange(n_out) / fps
    pos = np.clip(t_out * motion.fps, 0, motion.num_frames - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, motion.num_frames - 1)
    w = (pos - i0).astype(np.float32)
    joints = (1 - w)[:, None, None] * motion.joints[i0] + w[:, None, None] * motion.joints[i1]
    conf = (1 - w)[:, None] * motion.confidence[i0] + w[:, None] * motion.confidence[i1]
    zero = (motion.confidence[i0] == 0) | ((w[:, None] > 1e-6) & (motion.confidence[i1] == 0))
    conf = np.where(zero, 0.0, conf).astype(np.float32)
    src_t = (1 - w) * motion.source_times[i0] + w * motion.source_times[i1]
    near = np.rint(pos).astype(int)
    pick = lambda a: None if a is None else np.asarray(a)[near]  # noqa: E731
    meta = dict(motion.meta)
    meta["resampled_from_fps"] = motion.fps
    return replace(
        motion,
        joints=joints.astype(np.float32),
        fps=fps,
        confidence=conf,
        source_times=src_t,
        landmarks_world=pick(motion.landmarks_world),
        landmarks_image=pick(motion.landmarks_image),
        person_found=pick(motion.person_found),
        warnings=list(motion.warnings),
        meta=meta,
    )
