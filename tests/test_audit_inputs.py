"""Issue 17's audit cases, one test each: every input is bounded before work starts, and during it.

Each failed on the code before the fix (7cd22d4): it loaded, stalled, unpacked gigabytes, or
raised OverflowError / ValueError / TypeError / MemoryError instead of one LlamoError sentence.
Only names that exist on both sides are imported, so the file runs against the old tree too.
"""

from __future__ import annotations

import io
import json
import time
import tracemalloc
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest

from llamo.errors import LlamoError
from llamo.importers import load_motion

HEADER = {"format_version": 1, "fps": 20.0, "source_kind": "npz"}


def npz(path: Path, header: dict, joints: np.ndarray | None = None, **extra: np.ndarray) -> Path:
    """A motion `.npz` as `Motion.save` lays it out, with any header and members."""
    joints = np.zeros((10, 22, 3), np.float32) if joints is None else joints
    t = joints.shape[0]
    arrays = {
        "joints": joints,
        "confidence": np.ones((t, 22), np.float32),
        "source_times": np.arange(t) / 20.0,
    }
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez_compressed(path, **arrays, **extra)
    return path


def npy_bytes(shape: tuple[int, ...], dtype: str = "<f4", data: bytes = b"") -> bytes:
    """A `.npy` whose header declares `shape`, followed by only `data`."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue() + data


def test_million_fps_npz_is_refused_at_once(tmp_path):
    # The audit: 670 KB, fps = 1,000,000, 120,000 frames; 0.12 s passed the duration check.
    path = npz(tmp_path / "clip.npz", {**HEADER, "fps": 1_000_000}, np.zeros((120_000, 22, 3), np.float32))
    start = time.perf_counter()
    with pytest.raises(LlamoError, match=r"clip\.npz declares 1,000,000 fps; at most 240 is allowed"):
        load_motion(path)
    assert time.perf_counter() - start < 2.0


def test_frames_over_limit_times_fps_refused_from_the_header(tmp_path):
    # 200,000 frames at 240 fps is 13:53, over 10:00: refused from the .npy header alone.
    path = tmp_path / "long.npz"
    header = json.dumps({**HEADER, "fps": 240}).encode()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.npy", npy_bytes((len(header),), "|u1", header))
        zf.writestr("joints.npy", npy_bytes((200_000, 22, 3)))
        zf.writestr("confidence.npy", npy_bytes((200_000, 22)))
        zf.writestr("source_times.npy", npy_bytes((200_000,), "<f8"))
    with pytest.raises(
        LlamoError, match=r"long\.npz declares 200,000 frames at 240 fps .*over the limit of 10:00"
    ):
        load_motion(path)


def test_unpacked_size_is_bounded(tmp_path):
    # The audit: a 3 MB .npz unpacked a 3 GiB member. Here 256 MiB of zeros in a member the
    # format does not define: it must never be read.
    path = npz(tmp_path / "bomb.npz", HEADER)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("extra.npy", "w") as fh:
        fh.write(npy_bytes((64, 1 << 20), "<f4"))
        block = bytes(1 << 24)
        for _ in range(16):
            fh.write(block)
    assert path.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        motion = load_motion(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert motion.num_frames == 10
    assert peak < 32 << 20, f"{peak / 2**20:.0f} MiB allocated to load a 10-frame motion"


def test_member_claiming_gigabytes_refused_before_reading(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.npy", npy_bytes((len(json.dumps(HEADER)),), "|u1", json.dumps(HEADER).encode()))
        zf.writestr("joints.npy", npy_bytes((10, 22, 3), data=bytes(10 * 22 * 3 * 4)))
        zf.writestr("confidence.npy", npy_bytes((10, 22), data=bytes(10 * 22 * 4)))
        zf.writestr("source_times.npy", npy_bytes((10,), "<f8", bytes(80)))
        zf.writestr("landmarks_world.npy", npy_bytes((3 << 30, 33, 4)))
    with pytest.raises(LlamoError, match=r"huge\.npz: its 'landmarks_world' member has shape"):
        load_motion(path)


def test_npy_header_claiming_two_billion_frames(tmp_path):
    path = tmp_path / "big.npy"
    path.write_bytes(npy_bytes((2_000_000_000, 22, 3), data=bytes(264)))
    with pytest.raises(LlamoError, match=r"big\.npy declares 2,000,000,000 frames at 20 fps"):
        load_motion(path)


@pytest.mark.parametrize(
    ("fps", "sentence"),
    [
        (float("inf"), r"clip\.npz declares a frame rate of inf; it must be a finite number"),
        (float("nan"), r"clip\.npz declares a frame rate of nan; it must be a finite number"),
        ("fast", r"clip\.npz declares its frame rate as 'fast', not a number"),
        (0.001, r"clip\.npz declares 0\.001 fps; at least 1 is needed"),
        (10**400, r"clip\.npz declares an impossible frame rate"),
    ],
)
def test_malformed_fps_gets_its_own_sentence(tmp_path, fps, sentence):
    # json writes NaN and Infinity as Python's json reads them back
    with pytest.raises(LlamoError, match=sentence):
        load_motion(npz(tmp_path / "clip.npz", {**HEADER, "fps": fps}))


def test_nan_joints_refused(tmp_path):
    joints = np.zeros((10, 22, 3), np.float32)
    joints[3, 4, 1] = np.nan
    with pytest.raises(LlamoError, match=r"nan\.npz has non-finite values .* in its joints"):
        load_motion(npz(tmp_path / "nan.npz", HEADER, joints))
    (tmp_path / "nan.npy").write_bytes(npy_bytes((10, 22, 3), data=joints.tobytes()))
    with pytest.raises(LlamoError, match=r"nan\.npy contains non-finite values"):
        load_motion(tmp_path / "nan.npy")


@pytest.mark.parametrize(
    ("field", "value"),
    [("format_version", "one"), ("rotation", "x"), ("rotation", 1e300), ("image_size", "big"), ("meta", [1])],
)
def test_malformed_header_fields_get_a_sentence(tmp_path, field, value):
    with pytest.raises(LlamoError, match=r"bad\.npz .*(malformed header|format version)"):
        load_motion(npz(tmp_path / "bad.npz", {**HEADER, field: value}))


def test_bvh_at_a_million_fps_refused(tmp_path):
    bvh = ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n"
           " End Site\n {\n OFFSET 0 1 0\n }\n}\nMOTION\nFrames: 2\nFrame Time: 0.000001\n0 0 0\n0 0 0\n")  # fmt: skip
    (tmp_path / "fast.bvh").write_text(bvh)
    with pytest.raises(LlamoError, match=r"fast\.bvh declares 1,000,000 fps; at most 240 is allowed"):
        load_motion(tmp_path / "fast.bvh")


def _mkv_without_duration(path: Path, seconds: int, rate: int = 10) -> Path:
    """A Matroska file written as a live stream: no duration in the container or the stream."""
    with av.open(str(path), "w", format="matroska", options={"live": "1"}) as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for i in range(seconds * rate):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i % 250, np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    with av.open(str(path)) as c:
        assert c.duration is None and c.streams.video[0].duration is None
    return path


def test_video_without_container_duration_stops_at_the_limit(tmp_path):
    # The audit: a remuxed 11.9-minute .mkv with no duration was decoded and tracked in full.
    path = _mkv_without_duration(tmp_path / "remux.mkv", seconds=40)
    with pytest.raises(LlamoError, match=r"remux\.mkv lasts more than 0:05, the limit"):
        load_motion(path, fps=2.0, max_duration=5.0)
