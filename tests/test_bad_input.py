"""Every bad input: exit non-zero, one sentence on stderr, no traceback, no output file."""

from __future__ import annotations

import numpy as np
import pytest

from llamo.cli import main
from llamo.video import write_video


def noise_frames(n, h=64, w=96, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(n))


def refuse(capsys, tmp_path, src, *extra, expect=""):
    out = tmp_path / "out" / "clip.npz"
    code = main(["extract", str(src), "-o", str(out), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    err = [line for line in err if line.startswith("error:")]
    assert code != 0
    assert len(err) == 1, err
    assert "Traceback" not in err[0] and expect.lower() in err[0].lower(), err[0]
    leftovers = list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else []
    assert leftovers == [], leftovers
    return err[0]


def test_empty_file(tmp_path, capsys):
    (tmp_path / "empty.mp4").write_bytes(b"")
    refuse(capsys, tmp_path, tmp_path / "empty.mp4", expect="empty")


def test_text_named_mp4(tmp_path, capsys):
    (tmp_path / "notes.mp4").write_text("this is not a video\n" * 20)
    refuse(capsys, tmp_path, tmp_path / "notes.mp4", expect="not a readable video")


def test_truncated_video_without_index(tmp_path, capsys):
    src = write_video(tmp_path / "full.mp4", noise_frames(30), 10)
    data = src.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])  # the moov index is at the end
    refuse(capsys, tmp_path, tmp_path / "cut.mp4", expect="cut.mp4")


def test_truncated_video_with_index_first(tmp_path, capsys):
    src = write_video(tmp_path / "full.mp4", noise_frames(40), 10, faststart=True)
    data = src.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: int(len(data) * 0.4)])
    refuse(capsys, tmp_path, tmp_path / "cut.mp4", expect="truncated")


def test_corrupt_video_header(tmp_path, capsys):
    src = write_video(tmp_path / "full.mp4", noise_frames(10), 10, faststart=True)
    data = bytearray(src.read_bytes())
    data[:64] = b"\xff" * 64
    (tmp_path / "bad.mp4").write_bytes(bytes(data))
    refuse(capsys, tmp_path, tmp_path / "bad.mp4", expect="bad.mp4")


def test_unsupported_format(tmp_path, capsys):
    (tmp_path / "clip.gif").write_bytes(b"GIF89a" + b"\0" * 100)
    refuse(capsys, tmp_path, tmp_path / "clip.gif", expect="unsupported format")


def test_missing_file(tmp_path, capsys):
    refuse(capsys, tmp_path, tmp_path / "nothing.mp4", expect="does not exist")


def test_video_with_no_person(tmp_path, capsys):
    src = write_video(tmp_path / "noise.mp4", noise_frames(12), 10)
    refuse(capsys, tmp_path, src, expect="no person")


def test_video_over_duration_limit(tmp_path, capsys):
    src = write_video(tmp_path / "long.mp4", noise_frames(30, 32, 32), 10)
    msg = refuse(capsys, tmp_path, src, "--max-duration", "2", expect="over the limit")
    assert "0:03" in msg


def test_bvh_with_broken_hierarchy(tmp_path, capsys):
    (tmp_path / "bad.bvh").write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xrotation Yrotation Zrotation\n"
                                      "MOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n")  # fmt: skip
    refuse(capsys, tmp_path, tmp_path / "bad.bvh", expect="broken BVH hierarchy")


def test_bvh_without_recognisable_joints(tmp_path, capsys):
    (tmp_path / "blob.bvh").write_text("HIERARCHY\nROOT Thing\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n"
                                       " End Site\n {\n OFFSET 0 1 0\n }\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n")  # fmt: skip
    refuse(capsys, tmp_path, tmp_path / "blob.bvh", expect="recognisable")


def test_bvh_truncated_motion(tmp_path, capsys):
    from llamo.importers import save_bvh
    from llamo.motion import Motion

    path = save_bvh(
        Motion.from_joints(np.zeros((5, 22, 3)) + np.arange(22)[None, :, None] * 0.05, 30), tmp_path / "w.bvh"
    )
    text = path.read_text()
    path.write_text(text[: int(len(text) * 0.8)])
    refuse(capsys, tmp_path, path, expect="truncated")


@pytest.mark.parametrize(
    "name,payload,expect",
    [
        ("wrong.npy", np.zeros((10, 21, 3)), "shape"),
        ("nan.npy", np.full((10, 22, 3), np.nan), "non-finite"),
        ("junk.npz", None, "could not be read"),
    ],
)
def test_bad_motion_arrays(tmp_path, capsys, name, payload, expect):
    path = tmp_path / name
    if payload is None:
        path.write_bytes(b"PK\x03\x04 not really a zip")
    else:
        np.save(path, payload)
    refuse(capsys, tmp_path, path, expect=expect)


def test_info_on_bad_file(tmp_path, capsys):
    (tmp_path / "x.npz").write_text("hello")
    assert main(["info", str(tmp_path / "x.npz")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_audio_only_mp4(tmp_path, capsys):
    import av

    path = tmp_path / "voice.mp4"
    with av.open(str(path), "w") as c:
        stream = c.add_stream("aac", rate=16000)
        for i in range(5):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    refuse(capsys, tmp_path, path, expect="no video stream")


def test_bad_frame_rate(tmp_path, capsys):
    src = write_video(tmp_path / "c.mp4", noise_frames(5, 32, 32), 10)
    refuse(capsys, tmp_path, src, "--fps", "0", expect="frame rate")
