"""Token-dropped copies (llamo.data.token_drop) and `concat`: what is copied, and what is not."""

from llamo.conversation import Conversation, Turn, read_jsonl, write_jsonl
from llamo.data.mix import concat
from llamo.data.synth import synthesize
from llamo.data.token_drop import add_token_dropped

EV = "Measured: 4.0 s; leg used: right.\n"


def _conv(cid, kind, question, answer, motion, evidence=True):
    turns = [Turn("user", "<motion>\n" + (EV if evidence else "") + question), Turn("assistant", answer),
             Turn("user", "And what is it?"), Turn("assistant", "The person is kicking.")]  # fmt: skip
    qa = [{"turn": 1, "kind": kind, "label": answer}, {"turn": 3, "kind": "action", "label": "kick"}]
    return Conversation(cid, turns, motion, meta={"qa": qa})


def _mix(tmp_path):
    clip = tmp_path / "kick.npz"
    synthesize("kick", reps=2, side="right", seed=1, noise=False).save(clip)
    rows = [
        _conv("side", "side", "Which leg?", "The right leg.", str(clip)),
        _conv("dir", "direction", "Which way?", "In place.", str(clip)),
        _conv("act", "action", "What is it?", "The person is kicking.", str(clip)),
        _conv("noev", "side", "Which leg?", "The right leg.", str(clip), evidence=False),
    ]
    write_jsonl(tmp_path / "mix.jsonl", rows)
    return tmp_path / "mix.jsonl"


def test_only_evidence_answered_first_exchanges_are_copied_without_the_clip(tmp_path):
    counts = add_token_dropped(_mix(tmp_path), tmp_path / "out.jsonl", n=10, seed=0)
    assert counts == {"conversations": 6, "copies": 2, "pool": 2}
    rows = list(read_jsonl(tmp_path / "out.jsonl"))
    copies = [c for c in rows if c.meta.get("no_tokens")]
    assert sorted(c.id for c in copies) == ["dir-notokens", "side-notokens"]
    for c in copies:
        assert c.motion is None and len(c.turns) == 2
        assert c.turns[0].text.startswith("Measured:") and "<motion>" not in c.turns[0].text
        assert [q["turn"] for q in c.meta["qa"]] == [1]
    assert sum(c.motion is not None for c in rows) == 4  # the originals keep their clips


def test_concat_keeps_every_row_and_repeats_its_order(tmp_path):
    mix = _mix(tmp_path)
    assert concat([mix, mix], tmp_path / "a.jsonl", seed=3) == 8
    concat([mix, mix], tmp_path / "b.jsonl", seed=3)
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    assert sorted(c.id for c in read_jsonl(tmp_path / "a.jsonl")) == sorted(
        ["side", "dir", "act", "noev"] * 2
    )
