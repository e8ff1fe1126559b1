"""Views: plotly skeleton (traces, slider, size), GLB (parsed by hand + Khronos validator),
overlay MP4 (decoded back), kinematics figure, CSV and the render command."""

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from llamo.data.synth import synthesize
from llamo.motion import Motion
from llamo.skeleton import BONES, JOINT_NAMES, bone_lengths, facing_direction

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR_DIR = ROOT / ".cache" / "npm"  # gitignored; `npm install --prefix .cache/npm gltf-validator`


def clip(seconds: float = 30.0) -> Motion:
    reps = max(1, int(seconds / 2.2))
    return synthesize("squat", reps=reps, seed=0)


# --- plotly skeleton -----------------------------------------------------------------------------


def test_skeleton_figure_traces_slider_and_size():
    from llamo.views.skeleton3d import CHAIN_INDEX, skeleton_view

    m = synthesize("squat", reps=14, seed=0)  # > 30 s at 20 fps
    assert m.duration >= 30
    fig, size = skeleton_view(m)
    names = [t.name for t in fig.data]
    assert names == ["left", "right", "centre", "ground"]
    steps = fig.layout.sliders[0].steps
    assert abs(len(steps) - m.duration * 10) <= 2  # capped at ~10 fps
    assert all(s.method == "restyle" for s in steps)
    assert size <= 1_000_000, size
    # a step carries each side's joints for its frame, in millimetres, +y up -> plotly z
    f = 20  # step 20 shows frame 40 at 20 fps
    x, y, z = (steps[f].args[0][k][0] for k in "xyz")
    idx = CHAIN_INDEX["left"]
    want = m.joints[40, idx[idx >= 0]]
    got = np.array([[a, b, c] for a, b, c in zip(x, y, z, strict=True) if a is not None])
    floor = m.joints[:, [7, 8, 10, 11], 1].min()
    assert np.allclose(got[:, 0], want[:, 0], atol=6e-4)
    assert np.allclose(got[:, 1], -want[:, 2], atol=6e-4)
    assert np.allclose(got[:, 2], want[:, 1] - floor, atol=6e-4)
    # no base64 float64 blobs: the data went in as lists
    assert '"bdata"' not in fig.to_json()
    # equal scale: aspect ratio proportional to the ranges
    sc = fig.layout.scene
    spans = [r[1] - r[0] for r in (sc.xaxis.range, sc.yaxis.range, sc.zaxis.range)]
    ratios = [sc.aspectratio.x, sc.aspectratio.y, sc.aspectratio.z]
    assert np.allclose(np.array(spans) / max(spans), ratios, atol=1e-6)


def test_long_clips_keep_the_slider_bounded():
    from llamo.views.skeleton3d import shown_frames, skeleton_view

    assert len(shown_frames(12_000, 20.0, 10.0, 600)) == 600  # 10 min at 20 fps
    assert len(shown_frames(600, 20.0, 10.0, 600)) == 300
    m = Motion.from_joints(np.tile(synthesize("squat", reps=14, seed=0).joints, (20, 1, 1)), 20.0)  # > 10 min
    fig, size = skeleton_view(m)
    assert len(fig.layout.sliders[0].steps) <= 600 and size < 1_000_000, (m.duration, size)


def test_camera_faces_the_person():
    from llamo.views.skeleton3d import skeleton_figure

    m = synthesize("squat", reps=1, seed=0)
    fig = skeleton_figure(m)
    f = facing_direction(m.joints).mean(0)  # in plotly coordinates the facing is (fx, -fz)
    eye = fig.layout.scene.camera.eye
    assert eye.x * f[0] + eye.y * -f[2] > 0.8 * np.hypot(eye.x, eye.y)


# --- GLB -----------------------------------------------------------------------------------------


def parse_glb(data: bytes) -> tuple[dict, bytes]:
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert magic == b"glTF" and version == 2 and length == len(data)
    jlen, jtype = struct.unpack_from("<I4s", data, 12)
    assert jtype == b"JSON"
    gltf = json.loads(data[20 : 20 + jlen])
    blen, btype = struct.unpack_from("<I4s", data, 20 + jlen)
    assert btype == b"BIN\x00"
    return gltf, data[28 + jlen : 28 + jlen + blen]


def read_accessor(gltf: dict, binary: bytes, i: int) -> np.ndarray:
    acc = gltf["accessors"][i]
    view = gltf["bufferViews"][acc["bufferView"]]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc["type"]]
    dtype = {5126: np.float32, 5125: np.uint32}[acc["componentType"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    arr = np.frombuffer(binary, dtype, acc["count"] * width, start)
    return arr.reshape(acc["count"], width) if width > 1 else arr


def test_glb_animation_keyframes_and_bone_lengths(tmp_path):
    from llamo.views.glb import write_glb

    m = synthesize("jumping_jack", reps=2, seed=1)
    path = write_glb(m, tmp_path / "m.glb")
    gltf, binary = parse_glb(path.read_bytes())
    assert len(gltf["animations"]) == 1
    anim = gltf["animations"][0]
    nodes = gltf["nodes"]
    assert not any("matrix" in n for n in nodes)
    pos = {}
    for ch in anim["channels"]:
        sampler = anim["samplers"][ch["sampler"]]
        times = read_accessor(gltf, binary, sampler["input"])
        assert len(times) == m.num_frames
        assert times[-1] == pytest.approx((m.num_frames - 1) / m.fps, rel=1e-5)
        out = read_accessor(gltf, binary, sampler["output"])
        assert len(out) == m.num_frames
        name = nodes[ch["target"]["node"]]["name"]
        if ch["target"]["path"] == "translation":
            pos[name] = out
        if ch["target"]["path"] == "scale":  # bone cylinder: (1, length, 1)
            p, c = BONES[[f"bone_{JOINT_NAMES[a]}_{JOINT_NAMES[b]}" for a, b in BONES].index(name)]
            want = np.linalg.norm(m.joints[:, c] - m.joints[:, p], axis=-1)
            assert np.allclose(out[:, 1], want, atol=1e-4)
    assert set(pos) == set(JOINT_NAMES)
    joints = np.stack([pos[n] for n in JOINT_NAMES], axis=1)  # (T, 22, 3), turned but same lengths
    assert np.allclose(bone_lengths(joints), bone_lengths(m.joints), atol=1e-4)
    assert joints[..., 1].min() == pytest.approx(0.0, abs=1e-4)  # floor at y = 0


def _validator() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so Khronos' gltf-validator cannot run")
    pkg = VALIDATOR_DIR / "node_modules" / "gltf-validator"
    if not pkg.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so gltf-validator cannot be installed")
        r = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(VALIDATOR_DIR), "gltf-validator"],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        if r.returncode or not pkg.exists():
            pytest.skip(f"could not npm install gltf-validator: {r.stderr.strip()[-200:]}")
    return pkg


def test_glb_passes_khronos_validator(tmp_path):
    from llamo.views.glb import write_glb

    pkg = _validator()
    path = write_glb(synthesize("walk", reps=4, seed=0), tmp_path / "w.glb")
    script = (
        f"const v=require({json.dumps(str(pkg))});const fs=require('fs');"
        f"v.validateBytes(new Uint8Array(fs.readFileSync({json.dumps(str(path))})))"
        ".then(r=>{console.log(JSON.stringify(r.issues));}).catch(e=>{console.error(e);process.exit(1);});"
    )
    r = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    issues = json.loads(r.stdout)
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, issues["messages"][:5]


# --- kinematics figure and CSV -------------------------------------------------------------------


def test_kinematics_figure_marks_repetitions():
    from llamo.kinematics import count_repetitions
    from llamo.views.kinematics_plot import kinematics_figure

    m = synthesize("squat", reps=3, seed=0)
    reps = count_repetitions(m)
    fig = kinematics_figure(m, reps)
    names = {t.name for t in fig.data}
    for want in ("left knee flexion", "right hip flexion", "left elbow flexion", "right shoulder elevation",
                 "trunk lean", "pelvis height (m)", "pelvis speed (m/s)", "left leg confidence", "repetitions"):  # fmt: skip
        assert want in names
    marks = next(t for t in fig.data if t.name == "repetitions")
    assert len(marks.x) == 3 and fig.layout.title.text.startswith("3 repetitions")
    assert len(fig.layout.shapes) == 3
    assert fig.layout.xaxis6.title.text == "time (s)"
    assert len(fig.to_json()) < 300_000


def test_csv_header_units_and_rows(tmp_path):
    from llamo.export_csv import write_csv

    m = synthesize("arm_raise", reps=2, seed=0)
    path = write_csv(m, tmp_path / "m.csv")
    lines = path.read_text().splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    assert any("metres" in c and "+y up" in c for c in comments)
    assert any("degrees" in c for c in comments)
    header = lines[len(comments)].split(",")
    assert header[:3] == ["frame", "time_s", "source_time_s"]
    assert "left_knee_flexion_deg" in header and "pelvis_height_m" in header and "left_wrist_conf" in header
    rows = lines[len(comments) + 1 :]
    assert len(rows) == m.num_frames
    reps = [r.split(",")[-1] for r in rows]
    assert [x for x in reps if x] == ["1", "2"]
    col = header.index("left_wrist_y_m")
    assert float(rows[5].split(",")[col]) == pytest.approx(m.joints[5, 20, 1], abs=1e-4)


# --- overlay and the command line ----------------------------------------------------------------


def _extract(shared_data: Path, name: str) -> Motion:
    from llamo.capture import extract_video

    return extract_video(shared_data / "videos" / name)


@pytest.mark.slow
def test_overlay_decodes_as_h264_with_every_source_frame(shared_data, tmp_path):
    import av

    from llamo.views.overlay import render_overlay

    src = shared_data / "videos" / "pose_1.mp4"
    m = _extract(shared_data, "pose_1.mp4")
    m.landmarks_image[10:14, 25:29, 3] = 0.1  # some low-confidence legs, drawn grey
    res = render_overlay(m, src, tmp_path / "o.mp4")
    with av.open(str(res.path)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264"
        frames = list(c.decode(s))
    with av.open(str(src)) as c:
        n_src = sum(1 for _ in c.decode(video=0))
    assert len(frames) == n_src == res.frames == 120
    assert res.fps == pytest.approx(30.0)
    assert res.realtime_factor < 1.0, res.realtime_factor  # faster than real time
    # the skeleton is drawn: the overlay differs from the source near the landmarks
    with av.open(str(src)) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    drawn = frames[0].to_ndarray(format="rgb24").astype(int)
    x, y = m.landmarks_image[0, 11, :2].round().astype(int)  # left shoulder
    assert np.abs(drawn[y - 3 : y + 4, x - 3 : x + 4] - first[y - 3 : y + 4, x - 3 : x + 4]).mean() > 20


def test_landmarks_interpolate_between_kept_frames_and_stop_at_gaps():
    from llamo.views.overlay import landmarks_at

    m = synthesize("squat", reps=1, seed=0).slice(0, 10)  # 20 fps: source times 0, 0.05, ...
    lm = np.zeros((10, 33, 4), np.float32)
    lm[:, :, 0] = np.arange(10)[:, None] * 10.0  # x = 10 px per frame
    lm[:, :, 3] = 1.0
    lm[5:8] = np.nan  # no person in frames 5-7
    m.landmarks_image = lm
    got = landmarks_at(m, np.array([0.025, 0.1, 0.2, 0.3, 0.45, 2.0]))
    assert got[0, 0, 0] == pytest.approx(5.0)  # halfway between frames 0 and 1
    assert got[1, 0, 0] == pytest.approx(20.0)
    assert got[2, 0, 0] == pytest.approx(40.0)
    assert np.isnan(got[3]).all()  # inside the gap
    assert got[4, 0, 0] == pytest.approx(90.0)
    assert np.isnan(got[5]).all()  # long after the last frame


def test_low_confidence_joints_are_drawn_grey():
    from llamo.views.overlay import RGB, draw_skeleton

    lm = np.zeros((33, 4), np.float32)
    lm[:, 0] = 20 + 10 * np.arange(33)  # joints in a row, 10 px apart
    lm[:, 1] = 100
    lm[:, 3] = 0.9
    lm[25, 3] = 0.1  # left knee: low confidence
    img = np.zeros((200, 400, 3), np.uint8)
    draw_skeleton(img, lm, 1.0, 0.5)
    ring = img[100 - 5 : 100 + 6, 270 - 5 : 270 + 6].reshape(-1, 3)  # the left knee's ring
    assert (np.abs(ring.astype(int) - RGB["low"]).sum(-1) < 30).any()
    assert not (np.abs(ring.astype(int) - RGB["left"]).sum(-1) < 30).any()
    seen = img[100 - 3 : 100 + 4, 250 - 3 : 250 + 4].reshape(-1, 3)  # the left hip (23), seen
    assert (np.abs(seen.astype(int) - RGB["left"]).sum(-1) < 30).any()


def test_overlay_needs_image_landmarks(tmp_path):
    from llamo.errors import LlamoError
    from llamo.views.overlay import render_overlay

    with pytest.raises(LlamoError, match="no image landmarks"):
        render_overlay(synthesize("squat", reps=1), tmp_path / "none.mp4", tmp_path / "o.mp4")


def test_render_command_writes_every_view(tmp_path):
    m = synthesize("squat", reps=2, seed=0)
    npz = m.save(tmp_path / "m.npz")
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "llamo", "render", str(npz), "-o", str(out / "s.html"), "--glb", str(out / "s.glb"),
         "--kinematics", str(out / "k.html"), "--csv", str(out / "s.csv")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    for name in ("s.html", "s.glb", "k.html", "s.csv"):
        assert (out / name).stat().st_size > 1000
        assert name in r.stdout
    assert "repetitions: 2" in r.stdout
    assert not list(out.glob("*.part*"))  # atomic writes leave nothing behind
    bad = subprocess.run(
        [sys.executable, "-m", "llamo", "render", str(npz), "--overlay", str(out / "o.mp4")],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "--overlay-video" in bad.stderr


@pytest.mark.slow
def test_overlay_honours_phone_rotation(shared_data, tmp_path):
    """The squat clip stored sideways with a 90 degree display rotation overlays like the upright one."""
    import av

    from llamo.video import write_video
    from llamo.views.overlay import render_overlay

    src = shared_data / "videos" / "pose_squats.mp4"
    ref = np.array(json.loads((shared_data / "videos" / "pose_squats.full.json").read_text()), np.float32)
    with av.open(str(src)) as c:
        decoded = [(f.time, f.to_ndarray(format="rgb24")) for i, f in enumerate(c.decode(video=0)) if i < 12]
    times = np.array([t for t, _ in decoded])
    lm = np.concatenate([ref[: len(times), :, :3], np.ones((len(times), 33, 1), np.float32)], axis=-1)
    m = Motion.from_joints(np.zeros((len(times), 22, 3), np.float32), 5.0, source_times=times)
    m.landmarks_image, m.image_size = lm, (720, 1280)
    upright = write_video(tmp_path / "upright.mp4", [img for _, img in decoded], 5)
    phone = write_video(tmp_path / "phone.mp4", [np.rot90(img, -1) for _, img in decoded], 5, rotation=90)
    a = render_overlay(m, upright, tmp_path / "a.mp4")
    m.rotation = 90
    b = render_overlay(m, phone, tmp_path / "b.mp4")
    assert (a.width, a.height) == (b.width, b.height) == (720, 1280) and a.frames == b.frames == 12
    with av.open(str(a.path)) as ca, av.open(str(b.path)) as cb:
        fa = [f.to_ndarray(format="rgb24").astype(int) for f in ca.decode(video=0)]
        fb = [f.to_ndarray(format="rgb24").astype(int) for f in cb.decode(video=0)]
    for x, y in zip(fa, fb, strict=True):
        assert np.abs(x - y).mean() < 4  # the same picture, skeleton on the person, up to re-encoding
