"""The kicking-leg probe: a kick's leg grafted onto another body keeps that body and kicks on the side asked."""

import numpy as np
import pytest

from llamo.data.synth import synthesize
from llamo.eval_probe import graft_leg, kick_probe
from llamo.eval_real import leg_side_truth
from llamo.skeleton import JOINT_INDEX as J


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
