"""The measured check on the heads' action names (llamo/action_checks.py) and the gate that moves
an unmeasured action to "other" (llamo/model/summary.py), on clips of the synthetic generator."""

import numpy as np
import pytest
import torch

from llamo.action_checks import CHECKS, action_support
from llamo.data.synth import synthesize
from llamo.labels import AUX_ACTIONS, OTHER
from llamo.model.action_gate import MIN_CONFIDENCE, confidence, gate_actions

A = AUX_ACTIONS.index


def _share(motion, action: str) -> float:
    return float(action_support(motion, AUX_ACTIONS)[:, A(action)].mean())


@pytest.mark.parametrize("action", sorted(CHECKS))
def test_every_checked_action_shows_its_own_movement(action):
    motion = synthesize(action, reps=3, seed=11, noise=True)
    assert _share(motion, action) > 0.8, action


@pytest.mark.parametrize(
    ("clip", "absent"),
    [
        ("idle", ["jump", "jumping_jack", "squat", "kick", "punch", "wave", "bow"]),
        ("walk", ["jump", "jumping_jack", "squat", "sit_down", "punch", "wave", "arm_raise"]),
        ("arm_raise", ["jump", "squat", "kick", "bow"]),
        ("squat", ["jump", "jumping_jack", "wave", "kick"]),
    ],
)
def test_movements_that_are_not_there_are_not_measured(clip, absent):
    motion = synthesize(clip, reps=3, seed=12, noise=False)
    for action in absent:
        assert _share(motion, action) < 0.1, (clip, action)


def test_unchecked_actions_and_tiny_clips_are_supported_everywhere():
    motion = synthesize("idle", reps=1, seed=13, noise=False)
    support = action_support(motion, AUX_ACTIONS)
    assert support[:, A("walk")].all() and support[:, A("run")].all() and support[:, A("idle")].all()
    assert action_support(motion.slice(0, 2), AUX_ACTIONS).all()


def _probs(rows: list[list[float]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)[None]  # (1, T', 4)


def _gate(p, support):
    # classes: 0 = "squat", 1 = "idle", 2 = "other", 3 = "rest"
    return gate_actions(p, support, torch.ones(p.shape[:2], dtype=torch.bool), other=2, rest=3)


def test_a_run_without_its_movement_goes_to_other():
    # frames 0-2 the heads say squat, 3-4 idle
    p = _probs([[0.95, 0.03, 0.02, 0.0]] * 3 + [[0.04, 0.9, 0.03, 0.03]] * 2)
    support = torch.ones(1, 5, 4, dtype=torch.bool)
    support[0, :, 0] = False  # the hips never go down
    out = _gate(p, support)
    assert torch.allclose(out.sum(-1), torch.ones(1, 5))
    assert (out[0, :, 0] == 0).all() and (out[0, :3].argmax(-1) == 2).all()
    assert (out[0, 3:].argmax(-1) == 1).all()  # the idle run is untouched


def test_a_run_keeps_its_action_when_the_movement_shows_anywhere_in_it():
    p = _probs([[0.9, 0.05, 0.05, 0.0]] * 4)
    support = torch.ones(1, 4, 4, dtype=torch.bool)
    support[0, :, 0] = torch.tensor([False, False, True, False])  # one deep squat mid-run
    assert torch.allclose(_gate(p, support), p)


def test_an_unsure_name_goes_to_other_and_a_sure_one_stays():
    sure, unsure = 0.95, MIN_CONFIDENCE - 0.15
    p = _probs([[sure, 0.05 / 3, 0.05 / 3, 0.05 / 3]] * 3 + [[0.05, unsure, 1 - unsure - 0.1, 0.05]] * 3)
    support = torch.ones(1, 6, 4, dtype=torch.bool)
    assert torch.allclose(
        confidence(p, torch.ones(1, 6, dtype=torch.bool))[0, :2], torch.tensor([sure, unsure])
    )
    out = _gate(p, support)
    assert torch.allclose(out[0, :, 0], p[0, :, 0])  # squat keeps its share: its frames stay squat
    assert (out[0, 3:, 1] == 0).all() and (out[0, 3:].argmax(-1) == 2).all()  # idle -> other
    assert torch.allclose(out.sum(-1), torch.ones(1, 6))


def test_the_model_checks_its_summary_only_when_asked():
    from llamo.testing import tiny_model

    model = tiny_model(summary_tokens=2)
    motion = synthesize("squat", reps=2, seed=14, noise=False)
    assert model.encode_motion(motion).support is None  # off by default (llamo/model/action_gate.py)
    model.check_actions = True
    state = model.encode_motion(motion)
    assert state.support is not None and state.support.shape[:2] == (1, state.features.shape[1])
    assert state.support.shape[2] == len(model.config.vocab.actions)
    model.check_actions = False
    assert model.encode_motion(motion).support is None
    assert OTHER in model.config.vocab.actions
    np.testing.assert_array_equal(
        state.support[0].numpy(), action_support(motion, model.config.vocab.actions)
    )


def test_a_withheld_clip_names_no_action_in_training_batches():
    from llamo.conversation import Conversation, Turn
    from llamo.testing import tiny_model

    model = tiny_model(summary_tokens=2)
    motion = synthesize("squat", reps=2, seed=15, noise=False)
    convs = [
        Conversation(
            f"c{i}",
            [Turn("user", "<motion>\nWhat is the person doing?"), Turn("assistant", "x")],
            meta={"unnamed": i == 1},
        )  # fmt: skip
        for i in range(2)
    ]
    batch = model.collate(convs, [motion, motion])
    assert batch["motion_withheld"].tolist() == [False, True]
    feats, mask = batch["motion_features"], batch["motion_mask"].bool()
    _, _, summary = model.encode_motion_features(feats, mask, withheld=batch["motion_withheld"])
    acts = model.config.vocab.actions
    names = [[acts[int(r[: len(acts)].argmax())] for r, ok in zip(rows, valid, strict=True) if ok]
             for rows, valid in zip(summary.rows, summary.valid, strict=True)]  # fmt: skip
    assert names[1] == [OTHER] and names[0] != [OTHER]
    assert "motion_withheld" not in model.collate(convs[:1], [motion])
    assert model(**batch).loss is not None  # the key reaches the model
