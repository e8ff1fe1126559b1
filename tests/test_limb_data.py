"""Limb questions answered with the measured side, and side answers read for the limb asked."""

import json

import numpy as np
import pytest

from llamo.conversation import Conversation, Turn, read_jsonl, write_jsonl
from llamo.data.limb_data import limb_question, moving_limbs, write_limb_questions
from llamo.data.synth import synthesize
from llamo.eval_real import side_answer
from llamo.evidence import measure


def _conv(cid: str, path, segments: int, kind: str = "action") -> Conversation:
    turns = [Turn("user", "<motion>\nWhat is the person doing?"), Turn("assistant", "Something.")]
    meta = {"qa": [{"turn": 1, "kind": kind, "label": "x"}], "segments": [{"action": "x"}] * segments}
    return Conversation(cid, turns, str(path), meta=meta)


def test_a_kick_is_asked_about_the_legs_and_answered_with_the_measured_side(tmp_path):
    rng = np.random.default_rng(0)
    for side in ("left", "right"):
        ev = measure(synthesize("kick", reps=3, side=side, noise=False, seed=3))
        assert moving_limbs(ev) in (("leg",), ("arm", "leg"))
        qa = limb_question(ev, "leg", rng)
        assert qa.side == ev.leg_side == side
        assert qa.answer == f"The {side} leg." and "leg" in qa.question and "kick" not in qa.question
    wave = measure(synthesize("wave", reps=4, side="left", noise=False, seed=3))
    assert moving_limbs(wave) == ("arm",)
    assert limb_question(wave, "arm", rng).answer == "The left arm."
    assert limb_question(wave, "leg", rng).answer == "Neither leg: the legs stay still."
    assert moving_limbs(measure(synthesize("idle", noise=False, seed=4))) in (
        (),
        ("arm",),
        ("leg",),
        ("arm", "leg"),
    )


def test_every_one_sided_leg_clip_is_asked_and_sequences_and_plain_chat_never(tmp_path):
    kick = tmp_path / "kick.npz"
    synthesize("kick", reps=3, side="right", noise=False, seed=3).save(kick)
    squat = tmp_path / "squat.npz"
    synthesize("squat", reps=3, noise=False, seed=1).save(squat)
    convs = [_conv(f"k{i}", kick, 1) for i in range(4)]
    convs += [_conv("seq", kick, 2), _conv("plain", kick, 1, kind="plain"), _conv("sq", squat, 1)]
    write_jsonl(tmp_path / "in.jsonl", convs)
    written = write_limb_questions(tmp_path / "in.jsonl", tmp_path / "out.jsonl", share=0.0)
    assert written.conversations == len(convs)
    assert written.asked == {"leg right": 4}  # share 0: only the one-sided legs
    out = {c.id: c for c in read_jsonl(tmp_path / "out.jsonl")}
    for i in range(4):
        turns = out[f"k{i}"].turns
        assert len(turns) == 4 and turns[3].text == "The right leg." and turns[3].train
        assert out[f"k{i}"].meta["qa"][-1] == {"turn": 3, "kind": "side", "label": "right"}
    assert len(out["seq"].turns) == len(out["plain"].turns) == len(out["sq"].turns) == 2
    everything = write_limb_questions(tmp_path / "in.jsonl", tmp_path / "all.jsonl", share=1.0)
    assert sum(everything.asked.values()) == 5  # the squat too, now
    rows = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert rows[0]["motion"] == "kick.npz"  # paths stay relative to the output


@pytest.mark.parametrize(
    "answer, limb, side",
    [
        ("The right leg.", "leg", "right"),
        ("Both legs, about equally.", "leg", "both"),
        ("Both arms.", "leg", None),  # the other limb is no answer about the legs
        ("The left arm.", "leg", None),
        ("The person is punching with the left arm.", "arm", "left"),
        ("The right foot.", "leg", "right"),
        ("The left leg.", "arm", None),
        ("Left.", "arm", "left"),
        ("Neither leg: the legs stay still.", "leg", "none"),
        ("Her legs don't move.", "leg", "none"),
    ],
)
def test_a_side_answer_counts_only_for_the_limb_asked(answer, limb, side):
    assert side_answer(answer, limb) == side


def test_the_command_writes_and_refuses_a_bad_share(tmp_path, capsys):
    from llamo.cli import main

    kick = tmp_path / "kick.npz"
    synthesize("kick", reps=3, side="left", noise=False, seed=3).save(kick)
    write_jsonl(tmp_path / "in.jsonl", [_conv("k", kick, 1)])
    assert main(["data", "limbs", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl")]) == 0
    assert "leg left 1" in capsys.readouterr().out
    bad = ["data", "limbs", str(tmp_path / "in.jsonl"), "--share", "2", "-o", str(tmp_path / "x.jsonl")]
    assert main(bad) != 0
    assert "--share" in capsys.readouterr().err
