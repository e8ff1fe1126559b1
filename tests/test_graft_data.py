"""Kicks grafted onto standing takes (llamo.data.graft_data): labels, sides and questions.

Synthetic stand-ins carry ds2 training-take names, so the test needs no Bandai data."""

from llamo.conversation import read_jsonl
from llamo.data.graft_data import write_grafts
from llamo.data.synth import synthesize
from llamo.evidence import measure
from llamo.motion import Motion


def _bodies(folder):
    folder.mkdir()
    synthesize("wave", reps=4, side="left", seed=3, noise=False).save(
        folder / "dataset-2_wave-left-hand_normal_002.npz"
    )
    synthesize("arm_raise", reps=3, side="both", seed=4, noise=False).save(
        folder / "dataset-2_raise-up-both-hands_active_003.npz"
    )
    synthesize("walk", reps=8, seed=5, noise=False).save(folder / "dataset-2_walk_normal_004.npz")
    # a validation take (number 5): never grafted onto, the probe uses those
    synthesize("wave", reps=3, side="right", seed=6, noise=False).save(
        folder / "dataset-2_wave-right-hand_normal_005.npz"
    )


def test_grafted_kicks_are_labelled_with_the_measured_leg(tmp_path):
    _bodies(tmp_path / "clips")
    summary = write_grafts(tmp_path / "clips", tmp_path / "out", n=12, seed=1)
    convs = list(read_jsonl(tmp_path / "out/data.jsonl"))
    assert summary["conversations"] == len(convs) >= 10
    assert set(summary["sides"]) == {"left", "right"}
    for conv in convs:
        seg = conv.meta["segments"][0]
        assert seg["action"] == "kick" and seg["side"] in ("left", "right")
        assert "walk_normal" not in conv.motion and "_005" not in conv.motion  # standing training takes only
        motion = Motion.load(conv.motion)
        assert motion.meta["labels"]["segments"][0]["side"] == seg["side"]
        assert len(motion.meta["labels"]["rep_peaks"]) == seg["reps"] >= 1
        assert measure(motion).leg_side == seg["side"]
        # the body still waves or raises its arms, so no answer may deny it
        assert not any(q["label"] in ("no_wave", "no_arm_raise") for q in conv.meta["qa"])


def test_grafts_repeat_with_the_same_seed(tmp_path):
    _bodies(tmp_path / "clips")
    write_grafts(tmp_path / "clips", tmp_path / "a", n=4, seed=2)
    write_grafts(tmp_path / "clips", tmp_path / "b", n=4, seed=2)
    assert (tmp_path / "a/data.jsonl").read_text() == (tmp_path / "b/data.jsonl").read_text()
