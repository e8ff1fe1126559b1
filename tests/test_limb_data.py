"""Limb questions answered with the measured side, each asked first in a conversation of its own."""

import json

import numpy as np

from llamo.conversation import Conversation, Turn, read_jsonl, write_jsonl
from llamo.data.limb_data import limb_question, moving_limbs, write_limb_questions
from llamo.data.synth import synthesize
from llamo.evidence import measure
from llamo.importers import load_motion


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
    assert moving_limbs(measure(synthesize("idle", noise=False, seed=4))) in (
        (),
        ("arm",),
        ("leg",),
        ("arm", "leg"),
    )


def test_every_one_sided_leg_clip_is_asked_first_in_a_conversation_of_its_own(tmp_path):
    kick = tmp_path / "kick.npz"
    synthesize("kick", reps=3, side="right", noise=False, seed=3).save(kick)
    squat = tmp_path / "squat.npz"
    synthesize("squat", reps=3, noise=False, seed=1).save(squat)
    convs = [_conv(f"k{i}", kick, 1) for i in range(4)]
    convs += [_conv("seq", kick, 2), _conv("plain", kick, 1, kind="plain"), _conv("sq", squat, 1)]
    write_jsonl(tmp_path / "in.jsonl", convs)
    written = write_limb_questions(tmp_path / "in.jsonl", tmp_path / "out.jsonl", share=0.0)
    assert written.conversations == len(convs) + 4
    assert written.asked == {"leg right": 4}  # share 0: only the one-sided legs
    out = {c.id: c for c in read_jsonl(tmp_path / "out.jsonl")}
    evidence = measure(load_motion(kick)).text
    for i in range(4):
        assert out[f"k{i}"].turns == convs[i].turns  # the source conversation is untouched
        limb = out[f"k{i}-limb"]
        user, answer = limb.turns
        assert user.text.startswith("<motion>\n" + evidence + "\n") and "leg" in user.text
        assert answer.text == "The right leg." and answer.train
        assert limb.meta["qa"] == [{"turn": 1, "kind": "side", "label": "right"}]
    assert not {"seq-limb", "plain-limb", "sq-limb"} & set(out)
    everything = write_limb_questions(tmp_path / "in.jsonl", tmp_path / "all.jsonl", share=1.0)
    assert sum(everything.asked.values()) == 5  # the squat too, now
    rows = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert rows[0]["motion"] == "kick.npz"  # paths stay relative to the output


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
