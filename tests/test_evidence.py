"""The measured evidence: right on motions whose truth is known, deterministic, short, and read
the same way by training data and the chat."""

import pytest

from llamo.conversation import Conversation, Turn
from llamo.data.evidence_data import add_evidence, describe_unknown
from llamo.data.synth import synthesize
from llamo.evidence import EVIDENCE_PREFIX, measure, with_evidence
from llamo.model.processor import PromptTurn, with_measured


@pytest.mark.parametrize(
    ("action", "kw", "count"),
    [
        ("squat", {"reps": 3}, 3),
        ("wave", {"reps": 4, "side": "left"}, 4),
        ("punch", {"reps": 4, "side": "left"}, 4),
    ],
)
def test_repetitions_and_their_times(action, kw, count):
    motion = synthesize(action, noise=False, seed=1, **kw)
    ev = measure(motion)
    assert ev.rep_count == count
    peaks = motion.meta["labels"]["rep_peaks"]
    # each measured time lies within 0.3 s of a labelled repetition's extreme
    assert all(min(abs(t - p / motion.fps) for p in peaks) < 0.3 for t in ev.rep_times)


def test_the_expert_reads_numbered_repetition_times_and_the_model_the_trained_form():
    three = measure(synthesize("squat", reps=3, noise=False, seed=1))
    t = three.rep_times
    assert f"3 reps (pelvis up-down): 1st {t[0]:.1f} s, 2nd {t[1]:.1f} s, 3rd {t[2]:.1f} s" in three.report
    assert f"3 reps (pelvis up-down) at {t[0]:.1f}, {t[1]:.1f} and {t[2]:.1f} s" in three.text
    walk = measure(synthesize("walk", reps=12, noise=False, seed=2))
    assert walk.rep_count > 6 and f"4th {walk.rep_times[3]:.1f} s, {walk.rep_count}th" in walk.report
    assert "5th" not in walk.report and ", every " in walk.report and "1st" not in walk.text


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_travel_direction_in_the_body_frame(direction):
    ev = measure(synthesize("walk", reps=8, direction=direction, noise=False, seed=2))
    assert ev.travel_direction == direction
    assert ev.travel_m > 2.0


def test_side_of_the_moving_limb():
    assert "left arm" in measure(synthesize("wave", reps=4, side="left", noise=False, seed=3)).text
    assert "right leg" in measure(synthesize("kick", reps=3, side="right", noise=False, seed=3)).text
    punch = measure(synthesize("punch", reps=4, side="left", noise=False, seed=3))
    assert punch.arm_side == "left" and f"arm used: left, leg used: {punch.leg_side}" in punch.text
    assert measure(synthesize("kick", reps=3, side="left", noise=False, seed=3)).leg_side == "left"


def test_flight_is_found_and_a_still_person_has_none():
    assert measure(synthesize("jump", reps=2, noise=False, seed=4)).airborne_times
    idle = measure(synthesize("idle", noise=False, seed=4))
    assert not idle.airborne_times and idle.rep_count == 0 and idle.travel_direction == "none"


def test_deterministic_and_short():
    motion = synthesize("squat", reps=5, seed=5)
    a, b = measure(motion), measure(motion)
    assert a.text == b.text and a.report == b.report
    assert a.text.startswith(EVIDENCE_PREFIX) and len(a.text) < 260 < len(a.report) + 60
    assert "hip" in a.report and "hip" not in a.text  # the expert sees every angle, the model one


def test_training_data_and_collate_add_the_same_text_once():
    motion = synthesize("squat", reps=3, seed=6)
    ev = measure(motion)
    conv = Conversation(
        "c", [Turn("user", "<motion>\nHow many squats?"), Turn("assistant", "3 squats.")], "x.npz"
    )
    first = add_evidence(conv, ev).turns[0].text
    assert first == "<motion>\n" + with_evidence("How many squats?", ev.text)
    turns = [PromptTurn("system", "s", False), PromptTurn("user", "How many squats?", False)]
    once = with_measured(turns, motion)
    assert once[1].content == with_evidence("How many squats?", ev.text)
    assert with_measured(once, motion) == once  # never twice


def test_unknown_movement_is_described_not_labelled():
    ev = measure(synthesize("punch", reps=5, side="left", noise=False, seed=7))
    text = describe_unknown(ev)
    assert text.startswith("I can't name this movement.") and "left arm" in text and "5 times" in text
    assert "punch" not in text


def test_measure_handles_a_one_frame_clip():
    motion = synthesize("idle", noise=False, seed=8).slice(0, 1)
    ev = measure(motion)
    assert ev.rep_count == 0 and ev.travel_direction == "none" and ev.text.startswith(EVIDENCE_PREFIX)


def test_answers_the_measurement_contradicts_leave_the_loss():
    """A clip of two actions has one count in its evidence: a per-action count that differs
    from it is kept as context but not trained on; agreeing answers and other kinds still are."""
    ev = measure(synthesize("punch", reps=4, side="left", noise=False, seed=3))
    qa = [("Which arm?", "The left arm.", "side", "left"),
          ("How many punches?", f"{ev.rep_count} punches.", "count", ev.rep_count),
          ("How many squats?", "9 squats.", "count", 9),
          ("Which arm punches?", "The right arm.", "side", "right"),
          ("Which arm punches?", "The left arm.", "side", "left"),
          ("What is the person doing?", "Punching.", "action", "punch")]  # fmt: skip
    turns, meta = [], []
    for q, a, kind, label in qa:  # the first question is asked with the evidence (no leg words)
        turns += [Turn("user", q), Turn("assistant", a)]
        meta.append({"turn": len(turns) - 1, "kind": kind, "label": label})
    out = add_evidence(Conversation("c", turns, "x.npz", meta={"qa": meta}), ev)
    assert [t.train for t in out.turns if t.role == "assistant"] == [True, True, False, False, True, True]


def test_the_cross_talker_reads_the_bare_question_in_training_and_chat():
    """The evidence goes to the LLM only: in the Cross Talker's query it outweighed the question."""
    import torch

    from llamo.chat import ChatSession
    from llamo.evidence import without_evidence
    from llamo.model.processor import collate
    from llamo.testing import tiny_model

    model = tiny_model(evidence=True).eval()
    motion = synthesize("wave", reps=3, side="left", seed=2)
    question = "Which arm waves?"
    conv = Conversation("c", [Turn("user", "<motion>\n" + question), Turn("assistant", "The left.")], "x.npz")
    batch = collate(model, [conv], [motion])
    assert batch["query_ids"][0][batch["query_mask"][0]].tolist() == model.prompts.text_ids(question)
    assert without_evidence(with_evidence(question, measure(motion).text)) == question

    session = ChatSession(model, motion)
    for _ in session.ask(question, max_new_tokens=2):
        pass
    bare = model.question_tokens(model.encode_motion(motion), question)
    assert session.last_turn.selected_frames == bare.frames
    with torch.no_grad():
        told = model.question_tokens(
            model.encode_motion(motion), with_evidence(question, measure(motion).text)
        )
    assert told.embeds.shape == bare.embeds.shape and not torch.allclose(told.embeds, bare.embeds)
