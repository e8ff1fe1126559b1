"""The synthetic generator's labels are the truth other tests check against: test them exactly."""

import numpy as np
import pytest

from llamo.data.synth import ACTIONS, OTHER, SegmentSpec, random_clip, synthesize, synthesize_sequence
from llamo.data.synth.actions import ACTION_FUNCTIONS
from llamo.errors import LlamoError
from llamo.skeleton import JOINT_INDEX, facing_direction

J = JOINT_INDEX


def _left_axis(joints):
    fwd = facing_direction(joints[:1])[0]
    return np.cross([0.0, 1.0, 0.0], fwd), fwd  # up x forward = the person's left


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_has_exact_labels(action):
    m = synthesize(action, reps=4, seed=1)
    assert m.source_kind == "synthetic"
    assert m.joints.shape[1:] == (22, 3) and np.isfinite(m.joints).all()
    lab = m.meta["labels"]
    (seg,) = lab["segments"]
    assert seg["action"] == action
    assert set(seg) == {"action", "start", "end", "reps", "side", "direction", "tempo", "amplitude"}
    expected = {"sit_down": 1, "stand_up": 1, "idle": 0}.get(action, 4)
    assert seg["reps"] == expected == len(lab["rep_peaks"]) == len(lab["rep_spans"])
    assert all(seg["start"] <= p < seg["end"] <= m.num_frames for p in lab["rep_peaks"])
    assert lab["rep_peaks"] == sorted(lab["rep_peaks"])
    # plausible human: on the ground, head above pelvis, bones of human length
    assert -0.15 < m.joints[..., 1].min() < 0.15
    assert (m.joints[:, J["head"], 1] > m.joints[:, J["pelvis"], 1]).mean() > 0.95
    height = (m.joints[:, J["head"], 1] - m.joints[:, [J["left_foot"], J["right_foot"]], 1].min(1)).max()
    assert 1.1 < height < 2.0


def test_every_action_has_one_function():
    assert set(ACTION_FUNCTIONS) == set(ACTIONS) | {OTHER}


@pytest.mark.parametrize(
    ("make", "frames", "joints_sum", "confidence_sum"),
    [
        (lambda: synthesize("squat", seed=5), 151, 8618.20999, 3086.83535),
        (lambda: synthesize("walk", direction="turn_left", seed=2), 55, 2645.77530, 982.54044),
        (lambda: random_clip(np.random.default_rng(3)), 305, 17609.21601, 6232.50915),
    ],
)
def test_a_seed_keeps_its_clip(make, frames, joints_sum, confidence_sum):
    """Stored data names clips by seed: the generator's draws must stay in the same order."""
    m = make()
    assert m.num_frames == frames
    np.testing.assert_allclose(np.abs(m.joints).astype(np.float64).sum(), joints_sum, rtol=1e-6)
    np.testing.assert_allclose(m.confidence.astype(np.float64).sum(), confidence_sum, rtol=1e-6)


def test_deterministic_and_seed_dependent():
    a = synthesize("squat", seed=5)
    b = synthesize("squat", seed=5)
    c = synthesize("squat", seed=6)
    np.testing.assert_array_equal(a.joints, b.joints)
    assert a.joints.shape != c.joints.shape or not np.allclose(a.joints, c.joints)


@pytest.mark.parametrize("reps", [1, 5, 12])
def test_squat_peaks_are_the_deepest_frames(reps):
    m = synthesize("squat", reps=reps, seed=reps, noise=False)
    pelvis_y = m.joints[:, J["pelvis"], 1]
    peaks = m.meta["labels"]["rep_peaks"]
    assert len(peaks) == reps
    for (a, b), p in zip(m.meta["labels"]["rep_spans"], peaks, strict=True):
        assert abs(int(np.argmin(pelvis_y[a:b])) + a - p) <= 1
    assert pelvis_y[peaks].max() < pelvis_y[0] - 0.2


@pytest.mark.parametrize("side", ["left", "right"])
def test_wave_uses_the_named_arm(side):
    m = synthesize("wave", side=side, seed=2, noise=False)
    other = "right" if side == "left" else "left"
    peaks = m.meta["labels"]["rep_peaks"]
    # waves range from chin height ("bye") to above the head: the hand is up, above its elbow
    wrist, elbow = m.joints[peaks, J[f"{side}_wrist"], 1], m.joints[peaks, J[f"{side}_elbow"], 1]
    torso = m.joints[peaks, J["head"], 1] - m.joints[peaks, J["pelvis"], 1]
    assert (wrist > elbow + 0.1 * torso).all()
    assert (wrist > m.joints[peaks, J[f"{side}_shoulder"], 1] - 0.25 * torso).all()
    assert (m.joints[peaks, J[f"{other}_wrist"], 1] < m.joints[peaks, J["pelvis"], 1] + 0.1).all()
    # the raised wrist is on the person's own `side`
    left, _ = _left_axis(m.joints)
    lateral = (m.joints[peaks, J[f"{side}_wrist"]] - m.joints[peaks, J["pelvis"]]) @ left
    assert (lateral > 0).all() if side == "left" else (lateral < 0).all()


@pytest.mark.parametrize("side", ["left", "right"])
def test_kick_and_punch_use_the_named_limb(side):
    kick = synthesize("kick", side=side, seed=3, noise=False)
    peaks = kick.meta["labels"]["rep_peaks"]
    other = "right" if side == "left" else "left"
    assert (
        kick.joints[peaks, J[f"{side}_ankle"], 1] > kick.joints[peaks, J[f"{other}_ankle"], 1] + 0.3
    ).all()
    punch = synthesize("punch", side=side, seed=3, noise=False)
    peaks = punch.meta["labels"]["rep_peaks"]
    _, fwd = _left_axis(punch.joints)
    reach = lambda s: (punch.joints[peaks, J[f"{s}_wrist"]] - punch.joints[peaks, J["pelvis"]]) @ fwd  # noqa: E731
    assert (reach(side) > reach(other) + 0.2).all()


@pytest.mark.parametrize("direction", ["forward", "backward", "left", "right"])
def test_walk_direction_is_in_the_persons_frame(direction):
    m = synthesize("walk", reps=8, direction=direction, seed=4, noise=False)
    left, fwd = _left_axis(m.joints)
    move = m.joints[-1, J["pelvis"]] - m.joints[0, J["pelvis"]]
    along = {"forward": fwd, "backward": -fwd, "left": left, "right": -left}[direction]
    assert move @ along > 0.5
    assert m.meta["labels"]["segments"][0]["direction"] == direction


@pytest.mark.parametrize("direction", ["turn_left", "turn_right"])
def test_turning(direction):
    m = synthesize("walk", reps=8, direction=direction, seed=4, noise=False)
    f = facing_direction(m.joints)
    turn = np.degrees(np.arctan2(np.cross(f[0], f[-1])[1], f[0] @ f[-1]))  # + = counter-clockwise from above
    assert turn > 45 if direction == "turn_left" else turn < -45


def test_sequence_segments_are_ordered_and_contiguous():
    m = synthesize_sequence([SegmentSpec("squat", reps=2), SegmentSpec("wave", reps=3, side="left")], seed=0)
    a, b = m.meta["labels"]["segments"]
    assert a["action"] == "squat" and b["action"] == "wave"
    assert a["end"] == b["start"] and b["end"] <= m.num_frames
    assert len(m.meta["labels"]["rep_peaks"]) == 5


def test_random_clips_vary_and_noise_drops_out():
    rng = np.random.default_rng(0)
    clips = [random_clip(rng) for _ in range(30)]
    counts = {len(c.meta["labels"]["segments"]) for c in clips}
    assert counts == {1, 2, 3}
    assert any((c.confidence == 0).any() for c in clips)
    for c in clips:
        segs = c.meta["labels"]["segments"]
        assert all(s["end"] <= c.num_frames for s in segs)
        assert sum(s["reps"] for s in segs) == len(c.meta["labels"]["rep_peaks"])


def test_bad_arguments_raise_one_sentence():
    with pytest.raises(LlamoError):
        synthesize("moonwalk")
    with pytest.raises(LlamoError):
        synthesize("squat", side="middle")
    with pytest.raises(LlamoError):
        synthesize("squat", tempo=0.0)


def test_saves_and_loads_labels(tmp_path):
    m = synthesize("jumping_jack", reps=3, seed=9)
    from llamo.motion import Motion

    back = Motion.load(m.save(tmp_path / "jj.npz"))
    assert back.meta["labels"] == m.meta["labels"]
