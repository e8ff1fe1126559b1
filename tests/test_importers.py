"""Importers, resampling and motion_ops: fast, no MediaPipe."""

from __future__ import annotations

import numpy as np
import pytest

from llamo.errors import LlamoError
from llamo.importers import load_bvh, load_motion, parse_bvh, save_bvh, save_humanml3d
from llamo.motion import Motion
from llamo.motion_ops import detect_identity_switches, fill_gaps, longest_track, resample, smooth
from llamo.skeleton import JOINT_INDEX, bone_lengths, facing_direction

SPINE = [JOINT_INDEX[n] for n in ("spine1", "spine2", "spine3")]


def walking(t: int = 60, fps: float = 20.0) -> Motion:
    """A stick figure facing +z (left = +x), walking forward at 1 m/s, with swinging arms."""
    rest = np.array([
        [0, 0.95, 0], [0.09, 0.88, 0], [-0.09, 0.88, 0], [0, 1.05, 0], [0.1, 0.5, 0.02], [-0.1, 0.5, 0.02],
        [0, 1.18, 0], [0.1, 0.08, -0.03], [-0.1, 0.08, -0.03], [0, 1.26, 0], [0.1, 0.02, 0.12],
        [-0.1, 0.02, 0.12], [0, 1.45, 0], [0.08, 1.38, 0], [-0.08, 1.38, 0], [0, 1.6, 0.02],
        [0.18, 1.38, 0], [-0.18, 1.38, 0], [0.2, 1.1, 0], [-0.2, 1.1, 0], [0.21, 0.85, 0.05], [-0.21, 0.85, 0.05],
    ], np.float32)  # fmt: skip
    time = np.arange(t) / fps
    joints = np.repeat(rest[None], t, axis=0)
    joints[:, :, 2] += time[:, None]  # forward
    swing = 0.1 * np.sin(2 * np.pi * time)
    joints[:, [18, 20], 2] += swing[:, None]
    joints[:, [19, 21], 2] -= swing[:, None]
    return Motion.from_joints(joints, fps, source_kind="synthetic")


def test_humanml3d_round_trip(tmp_path):
    m = walking()
    path = save_humanml3d(m, tmp_path / "clip.npy")
    back = load_motion(path)
    assert back.fps == 20 and back.source_kind == "humanml3d" and back.source_sha256
    np.testing.assert_allclose(back.joints, m.joints, atol=1e-6)
    at30 = load_motion(path, fps=30)
    assert at30.fps == 30 and at30.num_frames == 89


def test_npz_round_trip_keeps_every_field(tmp_path):
    t = 12
    m = walking(t)
    m.confidence[3] = 0
    m.landmarks_world = np.random.default_rng(0).normal(size=(t, 33, 4)).astype(np.float32)
    m.landmarks_image = np.random.default_rng(1).normal(size=(t, 33, 4)).astype(np.float32)
    m.person_found = np.arange(t) % 3 > 0
    m.image_size, m.rotation, m.source_kind = (720, 1280), 90, "video"
    m.warnings = ["legs out of frame for 40% of the clip"]
    m.meta = {"a": [1, 2]}
    back = load_motion(m.save(tmp_path / "m.npz"))
    for key in ("joints", "confidence", "source_times", "landmarks_world", "landmarks_image", "person_found"):
        np.testing.assert_array_equal(getattr(back, key), getattr(m, key))
    assert (back.image_size, back.rotation, back.warnings, back.meta) == ((720, 1280), 90, m.warnings, m.meta)


def test_bvh_round_trip(tmp_path):
    m = walking(40, fps=30)
    path = save_bvh(m, tmp_path / "walk.bvh")
    back = load_bvh(path)
    assert back.fps == 30 and back.meta["bvh_units"] == "cm" and back.num_frames == 40
    others = [j for j in range(22) if j not in SPINE]
    np.testing.assert_allclose(back.joints[:, others], m.joints[:, others], atol=1e-4)
    # spine joints are re-placed by arc length along the source chain: near, not identical
    assert np.abs(back.joints[:, SPINE] - m.joints[:, SPINE]).max() < 0.08


CMU_LIKE = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT LeftUpLeg { OFFSET 0.1 0 -0.05 CHANNELS 3 Zrotation Yrotation Xrotation
    JOINT LeftLeg { OFFSET 0 0 -0.42 CHANNELS 3 Zrotation Yrotation Xrotation
      JOINT LeftFoot { OFFSET 0 0 -0.42 CHANNELS 3 Zrotation Yrotation Xrotation
        End Site { OFFSET 0 -0.12 -0.05 } } } }
  JOINT RightUpLeg { OFFSET -0.1 0 -0.05 CHANNELS 3 Zrotation Yrotation Xrotation
    JOINT RightLeg { OFFSET 0 0 -0.42 CHANNELS 3 Zrotation Yrotation Xrotation
      JOINT RightFoot { OFFSET 0 0 -0.42 CHANNELS 3 Zrotation Yrotation Xrotation
        End Site { OFFSET 0 -0.12 -0.05 } } } }
  JOINT Spine { OFFSET 0 0 0.2 CHANNELS 3 Zrotation Yrotation Xrotation
    JOINT Neck { OFFSET 0 0 0.3 CHANNELS 3 Zrotation Yrotation Xrotation
      JOINT Head { OFFSET 0 0 0.15 CHANNELS 3 Zrotation Yrotation Xrotation
        End Site { OFFSET 0 0 0.1 } }
      JOINT LeftArm { OFFSET 0.18 0 -0.05 CHANNELS 3 Zrotation Yrotation Xrotation
        JOINT LeftForeArm { OFFSET 0.28 0 0 CHANNELS 3 Zrotation Yrotation Xrotation
          JOINT LeftHand { OFFSET 0.25 0 0 CHANNELS 3 Zrotation Yrotation Xrotation
            End Site { OFFSET 0.08 0 0 } } } }
      JOINT RightArm { OFFSET -0.18 0 -0.05 CHANNELS 3 Zrotation Yrotation Xrotation
        JOINT RightForeArm { OFFSET -0.28 0 0 CHANNELS 3 Zrotation Yrotation Xrotation
          JOINT RightHand { OFFSET -0.25 0 0 CHANNELS 3 Zrotation Yrotation Xrotation
            End Site { OFFSET -0.08 0 0 } } } } } }
}
MOTION
Frames: 2
Frame Time: 0.0083333
"""


def test_bvh_three_channel_joints_metres_z_up_and_spine_interpolation(tmp_path):
    n_ch = 6 + 3 * 15
    rows = [
        [0, 0, 0.95] + [0] * (n_ch - 3),
        [0, 0.5, 0.95, 90] + [0] * (n_ch - 4),
    ]  # 2nd: turned 90 deg about z
    path = tmp_path / "cmu.bvh"
    path.write_text(CMU_LIKE + "\n".join(" ".join(map(str, r)) for r in rows) + "\n")
    m = load_bvh(path)
    assert m.fps == 120 and m.meta["bvh_units"] == "m" and m.meta["bvh_up_axis"] == "z"
    assert m.meta["bvh_spine_chain"] == ["Hips", "Spine", "Neck"]
    j0 = m.joints[0]
    assert j0[JOINT_INDEX["head"], 1] == pytest.approx(0.95 + 0.65, abs=1e-4)  # y up now
    assert j0[JOINT_INDEX["left_ankle"], 1] == pytest.approx(0.95 - 0.05 - 0.84, abs=1e-4)
    # spine1..3 on the pelvis->spine->neck polyline (length 0.5) at 0.2, 0.45, 0.62 of it
    np.testing.assert_allclose(j0[SPINE, 1], 0.95 + 0.5 * np.array([0.2, 0.45, 0.62]), atol=1e-4)
    # toe from the ankle's End Site; collar halfway between spine3 and the shoulder
    assert j0[JOINT_INDEX["left_foot"], 1] == pytest.approx(0.95 - 0.05 - 0.84 - 0.05, abs=1e-4)
    bl = bone_lengths(m.joints)
    assert np.allclose(bl[0], bl[1], atol=1e-5)  # rigid under the root rotation


@pytest.mark.parametrize(
    "text",
    [
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xrotation Yrotation Zrotation\n MOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n",
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n}\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n",
        "ROOT Hips { OFFSET 0 0 0 }",
        "HIERARCHY\nJOINT Hips\n{\n OFFSET 0 0 0\n}\nMOTION\n",
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xrotation Yrotation Wrotation\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n",
    ],
)
def test_broken_bvh_hierarchy_is_one_sentence(text):
    with pytest.raises(LlamoError) as err:
        parse_bvh(text, "bad.bvh")
    assert "bad.bvh" in str(err.value) and "\n" not in str(err.value)


def test_resample_span_and_confidence():
    m = walking(41, fps=20)
    m.confidence[10] = 0
    r = resample(m, 10)
    assert r.fps == 10 and r.num_frames == 21 and r.duration == pytest.approx(2.1)
    np.testing.assert_allclose(r.joints[5], m.joints[10], atol=1e-6)
    assert (r.confidence[5] == 0).all() and (r.confidence[4] == 1).all()
    up = resample(m, 30)
    assert up.num_frames == 61
    np.testing.assert_allclose(up.joints[3], m.joints[2], atol=1e-6)
    assert (up.confidence[15] == 0).all() and (up.confidence[14] == 0).all()  # t=0.5: between 9/10 and at 10


def test_fill_gaps_short_interpolated_long_reported():
    t, fps = 40, 20.0
    joints = np.zeros((t, 22, 3), np.float32)
    joints[:, :, 0] = np.arange(t)[:, None]
    found = np.ones(t, bool)
    found[5:8] = False  # 0.15 s: interpolate
    found[15:35] = False  # 1.0 s: report
    joints[~found] = 999
    filled, long_gaps = fill_gaps(joints, found, fps, max_gap_s=0.5)
    np.testing.assert_allclose(filled[5:8, 0, 0], [5, 6, 7])
    assert long_gaps == [(15, 35)] and filled[15:35].max() < 999


def test_identity_switch_detected_and_longest_track_kept():
    t, fps = 60, 20.0
    image = np.zeros((t, 33, 4), np.float32)
    image[..., 3] = 1
    hip_x = np.where(np.arange(t) < 40, 200.0, 600.0)  # another person at frame 40
    for i, dy in ((11, -100), (12, -100), (23, 0), (24, 0)):
        image[:, i, 0] = hip_x + (20 if i in (11, 23) else -20)
        image[:, i, 1] = 400 + dy
    found = np.ones(t, bool)
    sw = detect_identity_switches(image, found, fps)
    assert [s.frame for s in sw] == [40]
    assert longest_track(t, found, sw) == (0, 40)
    assert detect_identity_switches(image[:40], found[:40], fps) == []


def test_smoothing_has_no_lag():
    fps = 20.0
    time = np.arange(200) / fps
    clean = np.sin(2 * np.pi * 0.5 * time)
    noisy = clean + np.random.default_rng(0).normal(0, 0.05, time.shape)
    out = smooth(noisy[:, None], fps)[:, 0]
    lags = np.arange(-5, 6)
    best = lags[np.argmax([np.dot(np.roll(out, k), clean) for k in lags])]
    assert best == 0 and np.std(out - clean) < np.std(noisy - clean)


def test_bandai_bvh_all_import_plausibly_and_walks_move_forward(shared_data):
    files = sorted((shared_data / "mocap" / "bandai_ds1").glob("*.bvh"))
    assert len(files) == 20
    names = {JOINT_INDEX[n]: n for n in ("left_knee", "left_ankle", "left_elbow", "left_wrist", "right_knee")}
    bone_child = [c for c in range(1, 22)]
    for f in files:
        m = load_motion(f)
        assert m.fps == 30 and m.meta["bvh_units"] == "cm", f.name
        bl = bone_lengths(m.joints)
        for k, c in enumerate(bone_child):
            if c in names:
                assert 0.2 < np.median(bl[:, k]) < 0.55, (f.name, names[c])
        assert bl.std(axis=0).max() < 0.005, f.name  # rigid bones
        height = np.percentile(m.joints[:, 15, 1] - m.joints[:, [7, 8, 10, 11], 1].min(1), 90)
        assert 1.1 < height < 1.9, f.name
        step = np.diff(m.joints[:, 0], axis=0)
        facing = facing_direction(m.joints)[:-1]
        left = np.cross([0.0, 1.0, 0.0], facing)
        fwd = float(np.sum(step * facing, axis=1).sum())
        side = float(np.sum(step * left, axis=1).sum())
        content = f.name.split("_")[1]
        if content in ("walk", "run", "dash"):
            assert fwd > 0.8, f.name
        if content == "walk-back":
            assert fwd < -0.3, f.name
        if content == "walk-left":
            assert side > 0.3, f.name
        if content == "walk-right":
            assert side < -0.3, f.name


def test_extract_folder_and_info_commands(tmp_path, capsys):
    from llamo.cli import main

    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    save_humanml3d(walking(40), src / "a.npy")
    save_bvh(walking(30, fps=30), src / "sub" / "b.bvh")
    (src / "notes.txt").write_text("ignored")
    (src / "broken.bvh").write_text("HIERARCHY\nROOT Hips\n{\n")
    out = tmp_path / "out"
    assert main(["extract", str(src), "-o", str(out)]) == 1  # one clip failed, the others converted
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("2 of 3 clips converted")
    assert "a.npy -> " in lines[0] and "40 frames, 20 fps, 2.0 s, person 100%, no warnings" in lines[0]
    assert lines[1].startswith("broken.bvh: error: ") and "b.bvh -> " in lines[2]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.npz")) == ["a.npz", "sub/b.npz"]
    assert load_motion(out / "sub" / "b.npz").fps == 20  # resampled from 30 by default
    assert main(["info", str(out / "a.npz")]) == 0
    info = capsys.readouterr().out
    assert "frames 40, 20 fps, 2.00 s" in info and "no warnings" in info


SMPL_NAMES = {
    "pelvis": "Pelvis", "spine1": "Spine1", "spine2": "Spine2", "spine3": "Spine3", "neck": "Neck", "head": "Head",
    **{f"{s}_{j}": f"{s[0].upper()}_{j.capitalize()}" for s in ("left", "right")
       for j in ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist")},
}  # fmt: skip


def test_bvh_smpl_names_map_shoulder_and_foot_correctly(tmp_path):
    """SMPL names: L_Collar + L_Shoulder (upper arm), L_Ankle + L_Foot (toe); in metres."""
    m = walking(10)
    path = save_bvh(
        Motion.from_joints(m.joints / 100.0, 20), tmp_path / "smpl.bvh", names=SMPL_NAMES
    )  # -> metres
    back = load_bvh(path)
    assert back.meta["bvh_units"] == "m"
    assert (
        back.meta["bvh_roles"]["left_shoulder"] == "L_Shoulder"
        and back.meta["bvh_roles"]["left_collar"] == "L_Collar"
    )
    assert (
        back.meta["bvh_roles"]["left_ankle"] == "L_Ankle" and back.meta["bvh_roles"]["left_foot"] == "L_Foot"
    )
    others = [j for j in range(22) if j not in SPINE]
    np.testing.assert_allclose(back.joints[:, others], m.joints[:, others], atol=1e-4)


def test_bvh_unknown_units_are_scaled_and_said(tmp_path):
    m = walking(5)
    path = save_bvh(Motion.from_joints(m.joints * 0.1, 20), tmp_path / "odd.bvh")  # 16 units tall
    back = load_bvh(path)
    assert back.meta["bvh_units"].startswith("unknown") and back.warnings
    height = back.joints[0, 15, 1] - back.joints[0, [7, 8, 10, 11], 1].min()
    assert height == pytest.approx(1.6, abs=1e-3)
