"""The kicking-leg probe: a kick's leg grafted onto another body keeps that body and kicks on the side asked."""

import numpy as np
import pytest

from llamo.data.synth import synthesize
from llamo.eval_probe import SWINGS, graft_leg, kick_probe, swing_curves, swing_leg, swing_probe
from llamo.eval_real import leg_side_truth
from llamo.skeleton import JOINT_INDEX as J
from llamo.skeleton import facing_direction


@pytest.mark.parametrize("side", ["left", "right"])
def test_the_grafted_leg_kicks_on_its_side_and_the_rest_of_the_body_stays(side):
    body = synthesize("wave", reps=4, side="left", seed=7)  # tracking noise, legs still
    assert leg_side_truth(body) == "both"
    donor = synthesize("kick", reps=3, side=side, noise=False, seed=1)
    probe = graft_leg(body, donor, side)
    assert probe.num_frames == min(body.num_frames, donor.num_frames)
    assert leg_side_truth(probe) == side
    other = "right" if side == "left" else "left"
    kept = [J[n] for n in ("pelvis", "head", "left_wrist", "right_wrist", f"{other}_ankle", f"{side}_hip")]
    np.testing.assert_allclose(probe.joints[:, kept], body.joints[: probe.num_frames, kept], atol=1e-5)
    thigh = np.linalg.norm(probe.joints[:, J[f"{side}_knee"]] - probe.joints[:, J[f"{side}_hip"]], axis=-1)
    assert thigh.std() < 0.01 * thigh.mean()  # a rigid thigh, not a stretched one


def test_the_probe_takes_sides_in_turn_and_refuses_mixed_frame_rates():
    bodies = [synthesize("arm_raise", reps=2, side="right", seed=s) for s in (1, 2, 3)]
    probes = kick_probe(bodies)
    assert [side for _, side in probes] == ["left", "right", "left"]
    assert [leg_side_truth(m) for m, _ in probes] == ["left", "right", "left"]
    with pytest.raises(ValueError, match="frame rate"):
        graft_leg(bodies[0], synthesize("kick", side="left", fps=30.0), "left")


@pytest.mark.parametrize("swing", list(SWINGS))
@pytest.mark.parametrize("side", ["left", "right"])
def test_each_hand_written_swing_moves_its_own_leg_at_the_real_bone_lengths(swing, side):
    body = synthesize("wave", reps=4, side="right", seed=3, noise=False)  # smooth, like mocap
    probe = swing_leg(body, side, swing, seed=5)
    assert probe.num_frames == body.num_frames
    assert leg_side_truth(probe) == side
    other = "right" if side == "left" else "left"
    np.testing.assert_allclose(
        probe.joints[:, J[f"{other}_ankle"]], body.joints[:, J[f"{other}_ankle"]], atol=1e-5
    )
    for a, b in (("hip", "knee"), ("knee", "ankle")):
        bone = np.linalg.norm(probe.joints[:, J[f"{side}_{b}"]] - probe.joints[:, J[f"{side}_{a}"]], axis=-1)
        np.testing.assert_allclose(bone, bone[0], rtol=1e-4)
    forward = facing_direction(probe.joints)
    knee_ahead = ((probe.joints[:, J[f"{side}_knee"]] - probe.joints[:, J[f"{side}_hip"]]) * forward).sum(-1)
    if swing in ("front kick", "knee raise"):
        assert knee_ahead.max() > 0.2  # the thigh comes up in front of the body
    if swing == "back swing":
        assert knee_ahead.min() < -0.05


def test_the_swing_probe_uses_each_movement_on_both_sides_and_a_short_clip_still_moves():
    bodies = [synthesize("arm_raise", reps=2, side="left", seed=s, noise=False) for s in range(8)]
    probes = swing_probe(bodies)
    assert {(p.motion.meta["probe"].split(": ")[1].split(" from")[0], p.side) for p in probes} == {
        (s, side) for s in SWINGS for side in ("left", "right")
    }
    assert [leg_side_truth(p.motion) for p in probes] == [p.side for p in probes]
    short = bodies[0].slice(0, int(1.2 * bodies[0].fps))
    assert (
        np.degrees(swing_curves(short.num_frames, short.fps, "front kick", np.random.default_rng(0))).max()
        > 30
    )
