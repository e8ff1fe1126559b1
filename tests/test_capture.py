"""Video capture: frame selection, rotation, change of frame, and MediaPipe on real footage.

MediaPipe-on-video tests are marked slow and kept lean (the squat clip is 65 frames).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import find_peaks

from llamo.capture import extract_video, pose_image
from llamo.motion import VISIBILITY_SEEN
from llamo.motion_ops import MP_TO_CANONICAL, map_33_to_22, mediapipe_to_canonical
from llamo.skeleton import BONES, JOINT_INDEX, bone_lengths, facing_direction
from llamo.video import probe_video, write_video


def test_change_of_frame_forward_agrees_with_nose(shared_data):
    """On reference world landmarks: (x, -y, -z) keeps the person's forward on the nose's side;
    flipping y alone mirrors the body and points forward away from the nose."""
    world = np.array(
        json.loads((shared_data / "videos" / "pose_squats_3d.full.json").read_text()), np.float32
    )
    lm = np.concatenate([world, np.ones(world.shape[:2] + (1,), np.float32)], axis=-1)
    joints, _ = mediapipe_to_canonical(lm)
    nose = world[:, 0] * MP_TO_CANONICAL - joints[:, JOINT_INDEX["pelvis"]]
    nose[:, 1] = 0
    agree = np.sum(facing_direction(joints) * nose, axis=1) > 0
    assert agree.mean() > 0.95
    flipped, _ = map_33_to_22(lm)
    flipped = flipped * np.array([1, -1, 1], np.float32)
    nose_f = world[:, 0] * np.array([1, -1, 1]) - flipped[:, 0]
    nose_f[:, 1] = 0
    assert (np.sum(facing_direction(flipped) * nose_f, axis=1) > 0).mean() < 0.05
    # the body faces the camera (+z in the canonical frame: the camera sits at +z)
    assert np.median(facing_direction(joints)[:, 2]) > 0.5


@pytest.mark.slow
def test_reference_image_matches_mediapipe_expected(shared_data):
    ref = json.loads((shared_data / "reference" / "pose_expected.json").read_text())
    world, image = pose_image(shared_data / "reference" / "pose.jpg")
    px = np.abs(image[:, :2] - np.array(ref["image_landmarks_px"]))
    m = np.abs(world[:, :3] - np.array(ref["world_landmarks_m"]))
    assert px.max() <= ref["thresholds"]["image_px"], px.max()
    assert m.max() <= ref["thresholds"]["world_m"], m.max()


@pytest.fixture(scope="module")
def squats():
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "videos" / "pose_squats.mp4"
    if not path.exists():
        pytest.skip(f"real recordings not present at {SHARED_DATA}")
    calls = []
    motion = extract_video(path, progress=lambda f, msg: calls.append(f))
    ref = np.array(json.loads((SHARED_DATA / "videos" / "pose_squats.full.json").read_text()), np.float32)
    return motion, ref, calls


@pytest.mark.slow
def test_squats_bones_steady_and_human(squats):
    motion, _, calls = squats
    assert motion.fps == 20 and motion.person_fraction == 1.0 and motion.warnings == []
    assert calls[0] == 0.0 and calls[-1] == 1.0 and calls == sorted(calls)
    seen = motion.confidence >= VISIBILITY_SEEN
    bl = bone_lengths(motion.joints)
    child = {c: k for k, (_, c) in enumerate(BONES)}
    human = {"left_knee": (0.3, 0.55), "right_knee": (0.3, 0.55), "left_ankle": (0.3, 0.55),
             "right_ankle": (0.3, 0.55), "left_elbow": (0.2, 0.4), "right_elbow": (0.2, 0.4),
             "left_wrist": (0.15, 0.35), "right_wrist": (0.15, 0.35)}  # fmt: skip
    for name, (lo, hi) in human.items():
        j = JOINT_INDEX[name]
        x = bl[seen[:, j], child[j]]
        assert lo < np.median(x) < hi, (name, np.median(x))
        assert np.std(x) / np.median(x) < 0.12, (name, np.std(x) / np.median(x))
    hip_w = np.median(bl[:, child[JOINT_INDEX["left_hip"]]]) * 2
    assert 0.15 < hip_w < 0.4


@pytest.mark.slow
def test_squats_face_camera_with_left_on_image_right(squats):
    motion, ref, _ = squats
    assert np.median(facing_direction(motion.joints)[:, 2]) > 0.5
    li = motion.landmarks_image
    assert (li[:, 23, 0] > li[:, 24, 0]).mean() > 0.9  # left hip right of right hip in the image
    assert (li[:, 11, 0] > li[:, 12, 0]).mean() > 0.9
    # and our raw image landmarks match the reference ones (tracked at the source's 5 fps)
    src_frame = np.rint(motion.source_times * 5).astype(int)
    keep = np.abs(motion.source_times * 5 - src_frame) < 1e-3
    err = np.linalg.norm(li[keep, :, :2] - ref[src_frame[keep], :, :2], axis=-1)
    assert np.median(err) < 10, np.median(err)


@pytest.mark.slow
def test_squats_pelvis_goes_down_and_up_each_squat(squats):
    motion, ref, _ = squats
    y = motion.joints[:, JOINT_INDEX["pelvis"], 1]
    # squats in the reference: hip centre dips in the image (pixel y goes up)
    hip_ref = ref[:, [23, 24], 1].mean(axis=1)
    ref_peaks, _ = find_peaks(hip_ref, prominence=0.3 * np.ptp(hip_ref))  # 3 squats, the last unfinished
    our_dips, props = find_peaks(-y, prominence=0.15)
    assert len(ref_peaks) >= 3 and len(our_dips) == len(ref_peaks), (ref_peaks, our_dips)
    # clearly down and back up, in metres (the clip ends half-way up the last squat)
    assert props["prominences"].min() > 0.15 and np.median(props["prominences"]) > 0.3
    t_ref = ref_peaks / 5.0
    t_our = motion.source_times[our_dips]
    assert np.abs(t_ref - t_our).max() <= 0.4
    # pelvis height follows the image hip height (negatively: image y grows downward)
    hip_interp = np.interp(motion.source_times, np.arange(len(hip_ref)) / 5.0, hip_ref)
    assert np.corrcoef(hip_interp, y)[0, 1] < -0.9


@pytest.mark.slow
def test_identity_switch_is_detected_on_real_footage(shared_data, tmp_path):
    import av

    def frames(name):
        with av.open(str(shared_data / "videos" / name)) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]

    dancer = frames("pose_1.mp4")[:30]  # 1 s at 30 fps, 576x576
    small = [f[::5, ::5] for f in frames("pose_squats.mp4")[:9]]  # 144x256, another person
    other = []
    for f in small:
        canvas = np.full((576, 576, 3), 40, np.uint8)
        canvas[260:516, 420:564] = f
        other += [canvas] * 6  # 5 fps -> 30 fps
    path = write_video(tmp_path / "two.mp4", dancer + other[:45], 30)
    motion = extract_video(path)
    assert any(w.startswith("another person was tracked from 0:01") for w in motion.warnings), motion.warnings
    assert any("kept the longest consistent track" in w for w in motion.warnings)
    found = motion.person_found
    assert not found[:15].any() and found[25:].mean() > 0.9  # the longer (second) track is kept


@pytest.mark.slow
def test_two_trackers_agree_with_one(shared_data):
    path = shared_data / "videos" / "pose_1.mp4"
    one = extract_video(path, workers=1)
    two = extract_video(path, workers=2)
    assert two.meta["seams"] == [40] and one.num_frames == two.num_frames == 80
    np.testing.assert_array_equal(one.source_times, two.source_times)
    rel = lambda m: m.joints - m.joints[:, :1]  # noqa: E731
    dev = np.linalg.norm(rel(one) - rel(two), axis=-1)
    assert np.median(dev) < 0.015 and np.median(dev[40:50]) < 0.03


@pytest.mark.slow
def test_legs_out_of_frame_are_reported(shared_data, tmp_path):
    import av

    with av.open(str(shared_data / "videos" / "pose_squats.mp4")) as c:
        top = [f.to_ndarray(format="rgb24")[:720] for i, f in enumerate(c.decode(video=0)) if i < 25]
    motion = extract_video(write_video(tmp_path / "top.mp4", top, 5))  # the upper body only
    assert any(w.startswith("legs out of frame for") and w.endswith("% of the clip") for w in motion.warnings)
    ankles = [JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]]
    assert (motion.confidence[:, ankles] < VISIBILITY_SEEN).mean() > 0.9
    assert (motion.confidence[:, JOINT_INDEX["left_shoulder"]] >= VISIBILITY_SEEN).mean() > 0.9


@pytest.mark.slow
def test_long_gap_is_reported_and_filled_with_zero_confidence(shared_data, tmp_path):
    import av

    with av.open(str(shared_data / "videos" / "pose_1.mp4")) as c:
        dancer = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)][:60]
    blank = [np.full_like(dancer[0], 90)] * 30
    motion = extract_video(write_video(tmp_path / "gap.mp4", dancer[:30] + blank + dancer[30:], 30))
    gap = slice(21, 39)  # 1.0 s..2.0 s at 20 fps, minus a frame of slack at each edge
    assert not motion.person_found[gap].any() and motion.person_found[:19].all()
    assert (motion.confidence[gap] == 0).all() and np.isfinite(motion.joints).all()
    assert any(w.startswith("no person from 0:01 to 0:02") for w in motion.warnings), motion.warnings
    assert not any("another person" in w for w in motion.warnings)


@pytest.mark.slow
def test_phone_rotation_gives_the_same_motion(squats, tmp_path):
    """The squat clip stored sideways with a 90 degree display rotation (as phones write it)."""
    import av

    from tests.conftest import SHARED_DATA

    motion, _, _ = squats
    with av.open(str(SHARED_DATA / "videos" / "pose_squats.mp4")) as c:
        stored = [
            np.rot90(f.to_ndarray(format="rgb24"), -1) for i, f in enumerate(c.decode(video=0)) if i < 20
        ]
    path = write_video(tmp_path / "phone.mp4", stored, 5, rotation=90)
    info = probe_video(path)
    assert (info.width, info.height, info.rotation) == (720, 1280, 90)
    rotated = extract_video(path)
    assert rotated.image_size == (720, 1280) and rotated.rotation == 90
    n = rotated.num_frames
    err = np.linalg.norm(rotated.landmarks_image[:, :, :2] - motion.landmarks_image[:n, :, :2], axis=-1)
    assert np.nanmedian(err) < 5, np.nanmedian(err)
    assert np.median(facing_direction(rotated.joints)[:, 2]) > 0.5


def _reference_tracks(shared_data):
    world = np.array(
        json.loads((shared_data / "videos" / "pose_squats_3d.full.json").read_text()), np.float32
    )
    image = np.array(json.loads((shared_data / "videos" / "pose_squats.full.json").read_text()), np.float32)
    ones = np.ones(world.shape[:2] + (1,), np.float32)
    return np.concatenate([world, ones], -1), np.concatenate([image, ones], -1)


def test_post_processing_on_reference_tracks_and_identity_switch(shared_data):
    """landmarks_to_motion alone (no MediaPipe) on the reference landmarks of the squat clip."""
    from llamo.capture import landmarks_to_motion

    world, image = _reference_tracks(shared_data)
    n = len(world)
    times = np.arange(n) / 5.0
    found = np.ones(n, bool)
    m = landmarks_to_motion(world, image, found, times, 5.0, (720, 1280))
    y = m.joints[:, JOINT_INDEX["pelvis"], 1]
    assert m.warnings == [] and np.ptp(y) > 0.3 and np.isfinite(m.joints).all()
    assert np.abs(m.joints[..., 1].min()) < 0.1  # floor near y = 0
    # another, smaller person on the right from frame 40 (8.0 s)
    other = image.copy()
    other[40:, :, :2] = other[40:, :, :2] * 0.5 + np.array([400.0, 500.0])
    m2 = landmarks_to_motion(world, other, found, times, 5.0, (720, 1280))
    assert m2.warnings[0] == "another person was tracked from 0:08"
    assert m2.warnings[1] == "kept the longest consistent track (0:00-0:08)"
    assert m2.person_found[:40].all() and not m2.person_found[40:].any()
    assert (m2.confidence[40:] == 0).all() and np.isnan(m2.landmarks_image[40:]).all()
    m3 = landmarks_to_motion(world, other, found, times, 5.0, (720, 1280), keep_all_tracks=True)
    assert m3.person_found.all() and m3.warnings == ["another person was tracked from 0:08"]
