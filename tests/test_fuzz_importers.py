"""Property-based fuzz of the importers (issue 17): every input either loads into a valid
Motion (finite joints of shape (T, 22, 3), 1-240 fps) or raises LlamoError, never another
exception. The example count is bounded (LLAMO_FUZZ_EXAMPLES, 60 by default) so the whole
file stays well under 30 s in the default test set.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llamo.errors import LlamoError
from llamo.importers import load_motion, save_bvh
from llamo.motion import Motion
from llamo.video import iter_grid_frames, probe_video, write_video

FUZZ = settings(
    max_examples=int(os.environ.get("LLAMO_FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ODD_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=8),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)


def valid_or_refused(path: Path, **kwargs) -> Motion | None:
    """Load; a LlamoError is a refusal, any other exception fails the property."""
    try:
        motion = load_motion(path, **kwargs)
    except LlamoError as exc:
        assert str(exc).strip(), "a LlamoError must carry a sentence"
        return None
    assert motion.joints.ndim == 3 and motion.joints.shape[1:] == (22, 3) and motion.num_frames >= 1
    assert np.all(np.isfinite(motion.joints))
    assert 1.0 <= motion.fps <= 240.0 and math.isfinite(motion.fps)
    return motion


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    """Overwrite bytes at (position, value) pairs (positions wrap), then truncate at `cut`."""
    out = bytearray(data)
    for pos, value in edits:
        out[pos % len(out)] = value
    return bytes(out[:cut] if cut is not None else out)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6)
CUTS = st.one_of(st.none(), st.integers(0, 1 << 16))


@pytest.fixture(scope="module")
def motion() -> Motion:
    rng = np.random.default_rng(0)
    return Motion.from_joints(rng.normal(size=(12, 22, 3)), 20.0)


@FUZZ
@given(edits=EDITS, cut=CUTS)
def test_npz_bytes(tmp_path, motion, edits, cut):
    motion.save(tmp_path / "m.npz")
    raw = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "f.npz").write_bytes(mutate(raw, edits, cut))
    valid_or_refused(tmp_path / "f.npz")


@FUZZ
@given(
    fps=ODD_NUMBERS,
    frames=st.integers(0, 6),
    shape_tail=st.sampled_from([(22, 3), (22, 2), (3,), ()]),
    dtype=st.sampled_from(["<f4", "<f8", ">f4", "<i2", "|b1", "<c8", "<U3"]),
    nan=st.booleans(),
    extra=st.dictionaries(st.sampled_from(["rotation", "image_size", "format_version", "meta"]), ODD_NUMBERS),
)
def test_npz_structured(tmp_path, fps, frames, shape_tail, dtype, nan, extra):
    joints = np.zeros((frames, *shape_tail), dtype=np.float64)
    if nan and joints.size:
        joints.flat[0] = np.nan
    header = {"format_version": 1, "fps": fps, **extra}
    path = tmp_path / "s.npz"
    with np.errstate(invalid="ignore", over="ignore"):
        joints = joints.astype(dtype)
    np.savez(path, joints=joints, confidence=np.ones((frames, 22)), source_times=np.arange(frames) / 20,
             header=np.frombuffer(json.dumps(header).encode(), np.uint8))  # fmt: skip
    valid_or_refused(path)


def npy_with_header(shape: tuple[int, ...], descr: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue() + data


@FUZZ
@given(
    shape=st.lists(st.integers(0, 10**12), min_size=0, max_size=4).map(tuple),
    descr=st.sampled_from(["<f4", "<f8", "|u1", "<i8", "|O", "<U4", "V8"]),
    data=st.binary(max_size=2048),
    edits=EDITS,
)
def test_npy(tmp_path, shape, descr, data, edits):
    (tmp_path / "a.npy").write_bytes(mutate(npy_with_header(shape, descr, data), edits, None))
    valid_or_refused(tmp_path / "a.npy")


@FUZZ
@given(data=st.data())
def test_npy_near_valid(tmp_path, data):
    frames = data.draw(st.integers(1, 5))
    values = np.zeros((frames, 22, 3), np.float32)
    value = data.draw(st.floats(allow_nan=True, allow_infinity=True, width=32))
    values.flat[data.draw(st.integers(0, values.size - 1))] = value
    raw = npy_with_header((frames, 22, 3), "<f4", values.tobytes())
    (tmp_path / "b.npy").write_bytes(raw[: data.draw(st.integers(0, len(raw)))])
    valid_or_refused(tmp_path / "b.npy")


BVH_TOKENS = st.sampled_from(
    ["nan", "inf", "-1", "0", "1e400", "{", "}", "JOINT", "End", "CHANNELS", "x", "3"]
)


@FUZZ
@given(swaps=st.lists(st.tuples(st.integers(0, 10**6), BVH_TOKENS), max_size=4), cut=st.integers(0, 10**6))
def test_bvh(tmp_path, motion, swaps, cut):
    save_bvh(motion, tmp_path / "m.bvh")
    tokens = (tmp_path / "m.bvh").read_text().split(" ")
    for pos, token in swaps:
        tokens[pos % len(tokens)] = token
    text = " ".join(tokens)
    (tmp_path / "f.bvh").write_text(text[: max(1, cut % (len(text) + 1))])
    valid_or_refused(tmp_path / "f.bvh")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "c.mp4"
    write_video(path, (np.full((32, 32, 3), 10 * i, np.uint8) for i in range(20)), 10)
    return path.read_bytes()


@settings(FUZZ, max_examples=max(5, FUZZ.max_examples // 3))
@given(edits=EDITS, cut=CUTS)
def test_truncated_video_decodes_or_refuses(tmp_path, clip, edits, cut):
    # Decoding only (tracking a blank clip finds no one): the reader must end in frames or one sentence.
    path = tmp_path / "v.mp4"
    path.write_bytes(mutate(clip, edits, cut))
    try:
        info = probe_video(path)
        frames = list(iter_grid_frames(path, 5.0, info, max_duration=5.0))
    except LlamoError as exc:
        assert str(exc).strip()
        return
    assert all(f.rgb.ndim == 3 and f.rgb.dtype == np.uint8 for f in frames)


def test_zip_with_only_junk_members_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "j.npz", "w") as zf:
        zf.writestr("junk.npy", b"\x93NUMPY")
    assert valid_or_refused(tmp_path / "j.npz") is None
