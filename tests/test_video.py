"""llamo.video: probe, the three readers (grid, every frame, at times) with rotation, and write."""

from __future__ import annotations

import numpy as np
import pytest

from llamo.errors import LlamoError
from llamo.video import fit_size, frames_at, iter_frames, iter_grid_frames, probe_video, write_video

ROTATIONS = {90: "bottom-left", 180: "bottom-right", 270: "top-right"}  # where the top-left corner goes


def _bright_quadrant(rgb: np.ndarray) -> str:
    h, w = rgb.shape[:2]
    quads = {
        "top-left": rgb[: h // 2, : w // 2].mean(),
        "top-right": rgb[: h // 2, w // 2 :].mean(),
        "bottom-left": rgb[h // 2 :, : w // 2].mean(),
        "bottom-right": rgb[h // 2 :, w // 2 :].mean(),
    }
    return max(quads, key=quads.get)


def _rotated_clip(tmp_path, rotation):
    img = np.zeros((32, 64, 3), np.uint8)
    img[:16, :32] = 255  # bright top-left quadrant
    return write_video(tmp_path / "r.mp4", [img] * 3, 10, rotation=rotation)


def test_keeps_frames_nearest_a_20fps_grid(tmp_path):
    frames = [np.full((32, 48, 3), i * 4, np.uint8) for i in range(60)]
    info = probe_video(write_video(tmp_path / "c.mp4", frames, 30))
    assert (info.fps, info.num_frames, info.duration) == (30, 60, pytest.approx(2.0))
    kept = list(iter_grid_frames(tmp_path / "c.mp4", 20.0, info))
    ks = [k for k, *_ in kept]
    assert ks == list(range(40))
    times = np.array([t for _, t, *_ in kept])
    assert np.abs(times - np.arange(40) / 20).max() <= 1 / 60 + 1e-6


@pytest.mark.parametrize(
    "suffix,codec",
    [("mp4", "libx264"), ("mov", "libx264"), ("mkv", "libx264"), ("webm", "libvpx-vp9"), ("avi", "mpeg4"),
     ("m4v", "libx265")],
)  # fmt: skip
def test_common_containers_and_codecs_decode(tmp_path, suffix, codec):
    frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(15)]
    path = write_video(tmp_path / f"c.{suffix}", frames, 15, codec=codec)
    info = probe_video(path)
    assert (info.width, info.height) == (64, 48) and info.fps == pytest.approx(15, rel=0.01)
    kept = list(iter_grid_frames(path, min(20.0, info.fps), info))  # as extract_video does
    assert [k for k, *_ in kept] == list(range(15))  # a slower source keeps every frame


@pytest.mark.parametrize("rotation", [90, 270, 180])
def test_rotation_metadata_is_honoured(tmp_path, rotation):
    path = _rotated_clip(tmp_path, rotation)
    info = probe_video(path)
    assert info.rotation == rotation
    assert (info.width, info.height) == ((32, 64) if rotation in (90, 270) else (64, 32))
    _, _, rgb, _ = next(iter_grid_frames(path, 20.0, info))
    assert rgb.shape[:2] == (info.height, info.width)
    assert _bright_quadrant(rgb) == ROTATIONS[rotation]


@pytest.mark.parametrize("rotation", [90, 270, 180])
def test_every_reader_turns_frames_upright(tmp_path, rotation):
    """The overlay's and the video tower's readers honour rotation like capture's grid reader."""
    path = _rotated_clip(tmp_path, rotation)
    info = probe_video(path)
    frames = list(iter_frames(path))
    assert len(frames) == 3 and [f.index for f in frames] == [0, 1, 2]
    assert frames[0].rgb.shape[:2] == (info.height, info.width)
    assert _bright_quadrant(frames[0].rgb) == ROTATIONS[rotation]
    at = frames_at(path, [0.0, 0.1], 16)
    assert at.shape == (2, 16, 16, 3)
    assert _bright_quadrant(at[0]) == ROTATIONS[rotation]
    unturned = next(iter_frames(path, rotation=0))  # a motion's own rotation overrides the file's
    assert _bright_quadrant(unturned.rgb) == "top-left"


def test_video_tower_frames_are_upright(tmp_path):
    from llamo.model.video import sample_video_frames

    px = sample_video_frames(str(_rotated_clip(tmp_path, 90)), np.array([0.0]), 16)
    assert px.shape == (1, 3, 16, 16) and float(px.min()) >= -1.0 and float(px.max()) <= 1.0
    assert _bright_quadrant(px[0].permute(1, 2, 0).numpy()) == ROTATIONS[90]


def test_frames_at_pads_past_the_end_and_scales_down(tmp_path):
    frames = [np.full((40, 60, 3), 20 * i, np.uint8) for i in range(5)]
    path = write_video(tmp_path / "c.mp4", frames, 10)
    at = frames_at(path, [0.0, 0.2, 9.0, 10.0], 8)
    assert at.shape == (4, 8, 8, 3)
    assert np.array_equal(at[2], at[3])  # past the end: the last frame read
    assert abs(int(at[1].mean()) - 40) <= 3
    small = list(iter_frames(path, max_side=30))
    assert small[0].rgb.shape[:2] == (20, 30) and small[0].scale == pytest.approx(2.0)
    assert fit_size(1920, 1080, 1280) == (1280, 720) and fit_size(721, 405, 1280) == (721, 405)


def test_write_video_keeps_an_exact_rate_and_refuses_no_frames(tmp_path):
    from fractions import Fraction

    img = np.zeros((16, 16, 3), np.uint8)
    info = probe_video(write_video(tmp_path / "a.mp4", [img] * 4, Fraction(30000, 1001)))
    assert info.rate == Fraction(30000, 1001)
    assert probe_video(write_video(tmp_path / "b.mp4", [img] * 4, 29.97)).rate == Fraction(2997, 100)
    with pytest.raises(LlamoError, match="no frames"):
        write_video(tmp_path / "c.mp4", [], 10)
    assert not (tmp_path / "c.mp4").exists()
