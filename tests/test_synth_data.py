"""The data command, held-out phrasings, disjoint split seeds, and both JSONL forms."""

import json
from collections import Counter

import pytest

from llamo.cli import main
from llamo.conversation import read_jsonl
from llamo.data.instructions import InstructionData
from llamo.data.synthetic import clip_seed
from llamo.data.templates import HELD_OUT, Q, candidate_questions, phrasings, segment_ref


def _questions(path):
    for conv in read_jsonl(path):
        for t in conv.turns:
            if t.role == "user":
                yield t.text.replace("<motion>\n", "")


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_data_synth_writes_motions_and_jsonl(tmp_path):
    assert (
        main(["data", "synth", "--n", "6", "--seed", "3", "--split", "train", "-o", str(tmp_path / "tr")])
        == 0
    )
    rows = [json.loads(line) for line in (tmp_path / "tr" / "data.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    data = InstructionData(tmp_path / "tr" / "data.jsonl")
    for i, row in enumerate(rows):
        assert row["motion"].startswith("motions/") and row["conversations"][0]["value"].startswith(
            "<motion>\n"
        )
        m = data.motion(i)
        assert m.meta["labels"]["segments"] == row["meta"]["segments"]
        for qa in row["meta"]["qa"]:
            assert row["conversations"][qa["turn"]]["from"] == "gpt"


def test_splits_use_disjoint_seeds_and_held_out_phrasings(tmp_path):
    seeds = {s: {clip_seed(0, s, i) for i in range(500)} for s in ("train", "val", "test")}
    assert not (seeds["train"] & seeds["val"]) and not (seeds["train"] & seeds["test"])
    main(["data", "synth", "--n", "30", "--split", "test", "-o", str(tmp_path / "te")])
    main(["data", "synth", "--n", "30", "--split", "train", "-o", str(tmp_path / "tr")])
    held = {p for k in Q for p in Q[k][-HELD_OUT[k] :]}
    templates = [p.split("{")[0] for p in held]

    def is_held(q):
        return any(q.startswith(t) for t in templates if t) or q in held

    assert all(is_held(q) for q in _questions(tmp_path / "te" / "data.jsonl"))
    train_templates = {p for k in Q for p in phrasings(k, "train")}
    assert not (held & train_templates)
    extended = {p for k in Q for p in phrasings(k, "train", "extended")}
    assert train_templates < extended and not (held & extended)


@pytest.mark.slow
def test_extended_questions_ask_more_tempo_and_off_topic(tmp_path):
    """The second pass's data: the same clips and held-out test, more tempo and "can't tell" turns."""
    for questions in ("standard", "extended"):
        main(["data", "synth", "--n", "300", "--questions", questions, "-o", str(tmp_path / questions)])
    kinds = {
        q: Counter(qa["kind"] for row in _rows(tmp_path / q / "data.jsonl") for qa in row["meta"]["qa"])
        for q in ("standard", "extended")
    }
    assert kinds["extended"]["unknown"] > 2 * kinds["standard"]["unknown"]
    assert kinds["extended"]["tempo"] > kinds["standard"]["tempo"]
    segments = [
        [r["meta"]["segments"] for r in _rows(tmp_path / q / "data.jsonl")] for q in ("standard", "extended")
    ]
    assert segments[0] == segments[1]  # the question set changes the questions only
    # before/after pairs asked both ways: "after X" -> Y, then "before Y" -> X (true to the labels)
    mirrored = Counter()
    for q in ("standard", "extended"):
        for row in _rows(tmp_path / q / "data.jsonl"):
            qa, actions = row["meta"]["qa"], [s["action"] for s in row["meta"]["segments"]]
            for a, b in zip(qa, qa[1:], strict=False):
                if {a["kind"], b["kind"]} == {"before", "after"}:
                    after, before = (a, b) if a["kind"] == "after" else (b, a)
                    mirrored[q] += (before["label"], after["label"]) in zip(
                        actions, actions[1:], strict=False
                    )
    assert mirrored["extended"] >= 5 and mirrored["extended"] > 3 * mirrored["standard"]
    # order questions asked both ways: "did X happen before Y?", then "did Y happen before X?"
    swapped, checked = Counter(), 0
    for q in ("standard", "extended"):
        for row in _rows(tmp_path / q / "data.jsonl"):
            refs = [segment_ref(s) if s["action"] != "other" else "\0" for s in row["meta"]["segments"]]
            orders = [qa for qa in row["meta"]["qa"] if qa["kind"] == "order"]
            named = []
            for qa in orders:  # the two segments named, in the question's order, and the label
                text = row["conversations"][qa["turn"] - 1]["value"]
                x, y = sorted((i for i, r in enumerate(refs) if r in text), key=lambda i: text.find(refs[i]))
                assert qa["label"] == ("yes" if x < y else "no"), (text, refs, qa)
                named.append((x, y))
                checked += 1
            swapped[q] += sum(a == b[::-1] for a, b in zip(named, named[1:], strict=False))
    assert checked > 40 and swapped["extended"] >= 5 and swapped["standard"] == 0
    with pytest.raises(SystemExit):  # argparse: one line naming the two choices
        main(["data", "synth", "--n", "1", "--questions", "more", "-o", str(tmp_path / "x")])


def test_messages_form_and_relative_paths(tmp_path):
    from llamo.data.synth import synthesize

    synthesize("wave", seed=1).save(tmp_path / "w.npz")
    row = {
        "id": "m1",
        "motion": "w.npz",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Which arm?"}]},
            {"role": "assistant", "content": "The left arm.", "train": False},
        ],
    }
    (tmp_path / "d.jsonl").write_text(json.dumps(row) + "\n")
    data = InstructionData(tmp_path / "d.jsonl")
    conv = data.conversations[0]
    assert conv.turns[0].text == "Which arm?" and conv.turns[1].train is False
    assert data.motion(0).num_frames > 0


def test_every_kind_is_askable():
    import numpy as np

    from llamo.data.synth import SegmentSpec, synthesize_sequence

    rng = np.random.default_rng(0)
    kinds = set()
    for specs in ([SegmentSpec("kick", side="left")], [SegmentSpec("walk", direction="left")],
                  [SegmentSpec("squat"), SegmentSpec("wave"), SegmentSpec("bow")]):  # fmt: skip
        segs = synthesize_sequence(specs, seed=0).meta["labels"]["segments"]
        kinds |= {c[0] for c in candidate_questions(segs, rng, "train")}
    assert kinds == set(Q)


def test_frame_targets_follow_the_given_vocabulary():
    """The heads' vocabulary, not the generator's, decides the class indices."""
    from llamo.data.synth import SegmentSpec, synthesize_sequence
    from llamo.data.targets import frame_targets
    from llamo.labels import LabelVocab

    m = synthesize_sequence([SegmentSpec("squat", reps=2), SegmentSpec("wave", side="left")], seed=0)
    default, flipped = LabelVocab(), LabelVocab(actions=LabelVocab().actions[::-1])
    a, b = frame_targets(m)["action"], frame_targets(m, flipped)["action"]
    assert [default.actions[i] for i in a] == [flipped.actions[i] for i in b]
    assert (a != b).any() and b[0] == flipped.rest


def test_mix_takes_several_synthetic_files(tmp_path):
    """`data mix --synth A B`: every conversation of both files, plus the plain questions with a
    clip (no real data: the permissive mix), each with the measured evidence in its first turn."""
    from llamo.conversation import Conversation, Turn, read_jsonl, write_jsonl
    from llamo.data.mix import mix
    from llamo.data.synthetic import write_synthetic

    for name, seed in (("a", 1), ("b", 2)):
        write_synthetic(tmp_path / name, n=3, seed=seed)
    chat = tmp_path / "chat.jsonl"
    write_jsonl(chat, [Conversation("c0", [Turn("user", "Hello?"), Turn("assistant", "Hi.")])])
    counts = mix([tmp_path / "a/data.jsonl", tmp_path / "b/data.jsonl"], None, chat, None,
                 tmp_path / "mix.jsonl", plain_n=2)  # fmt: skip
    assert counts == {"conversations": 8, "synthetic": 6, "real": 0, "plain_with_clip": 2}
    rows = list(read_jsonl(tmp_path / "mix.jsonl"))
    ids = {c.id for c in rows}
    assert {c.id for c in read_jsonl(tmp_path / "a/data.jsonl")} <= ids
    assert {c.id for c in read_jsonl(tmp_path / "b/data.jsonl")} <= ids
    plain = [c for c in rows if c.id.startswith("plainclip-")]
    assert all("Measured:" in c.turns[0].text and c.motion for c in plain)
    # --plain-only: the synthetic files only lend their clips (rows to append to another mix)
    counts = mix(
        [tmp_path / "a/data.jsonl"], None, chat, None, tmp_path / "plain.jsonl", plain_n=3, plain_only=True
    )
    assert counts == {"conversations": 3, "synthetic": 0, "real": 0, "plain_with_clip": 3}
    only = list(read_jsonl(tmp_path / "plain.jsonl"))
    assert all(c.id.startswith("plainclip-") and c.turns[0].text.endswith("Hello?") for c in only)


def test_broad_questions_add_the_paraphrase_bank_but_never_a_held_out_phrasing(tmp_path):
    from llamo.data.templates.paraphrases import PARAPHRASES

    held = {p for k in Q for p in Q[k][-HELD_OUT[k] :]}
    for kind in Q:
        broad = phrasings(kind, "train", "broad")
        assert set(phrasings(kind, "train", "extended")) <= set(broad)
        assert set(PARAPHRASES[kind]) <= set(broad) and not (held & set(broad))
        assert phrasings(kind, "test", "broad") == phrasings(kind, "test")  # the test split is unchanged
    main(["data", "synth", "--n", "40", "--seed", "2", "--questions", "broad", "-o", str(tmp_path / "b")])
    bank = {p.split("{")[0] for k in PARAPHRASES for p in PARAPHRASES[k] if p.split("{")[0]}
    asked = list(_questions(tmp_path / "b" / "data.jsonl"))
    assert any(q.startswith(b) for q in asked for b in bank)


def test_a_sequence_names_the_action_its_side_or_direction_question_is_about():
    """Broad phrasings such as "Which arm is working?" are kept for single clips: in a sequence of a
    left kick and a right wave the question must say which movement it means."""
    import numpy as np

    segs = [
        {"action": "kick", "start": 0, "end": 60, "reps": 3, "side": "left", "direction": "none", "tempo": 1.0},
        {"action": "walk", "start": 60, "end": 120, "reps": 6, "side": "both", "direction": "forward", "tempo": 1.0},
    ]  # fmt: skip
    for seed in range(40):
        for qa in candidate_questions(segs, np.random.default_rng(seed), "train", "broad"):
            if qa.kind == "side":
                assert "kicks" in qa.question
            if qa.kind == "direction":
                assert "walking" in qa.question


def test_the_command_offers_every_question_set():
    from llamo.commands.data import QUESTION_SETS as OFFERED
    from llamo.data.templates import QUESTION_SETS

    assert OFFERED == QUESTION_SETS
