"""Grounded answers: which count or side an answer may give, and the decoding that holds it there."""

import pytest
import torch

from llamo.data.synth import synthesize, synthesize_sequence
from llamo.data.synth.spec import SegmentSpec
from llamo.grounding import banned_words, grounded_count, grounded_side, grounded_time
from llamo.kinematics import count_repetitions
from llamo.serving.constrain import NumberConstraint, Vocabulary, WordsConstraint
from llamo.testing import tiny_tokenizer


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def _allowed(c: NumberConstraint, tok, text: str) -> set[str]:
    """The digits that keep a finite logit after `text`."""
    out = c.apply(torch.zeros(len(tok)), text)
    return {d for d, i in c.char_ids.items() if d != "." and torch.isfinite(out[i])}


def test_every_number_in_the_answer_spells_the_count(tok):
    c = NumberConstraint(Vocabulary.of(tok), "12")
    assert _allowed(c, tok, "") == {"1"}  # the answer opens with the number
    assert _allowed(c, tok, "Exactly ") == {"1"}
    assert _allowed(c, tok, "1") == {"2"}
    assert _allowed(c, tok, "12") == set()  # written in full: no "120"
    assert _allowed(c, tok, "12.") == set()  # no decimals: "12.5"
    assert _allowed(c, tok, "12 squats, then ") == {"1"}


def test_the_opening_count_is_followed_by_what_was_counted(tok):
    """ "3.9 s." to "how many?" held to 3 wrote "3." or "3 psi."; now a unit follows the count."""
    c = NumberConstraint(Vocabulary.of(tok), "3", ("squats", "reps"))
    out = c.apply(torch.zeros(len(tok)), "3")
    firsts = {
        tok.encode(" squats", add_special_tokens=False)[0],
        tok.encode(" reps", add_special_tokens=False)[0],
    }
    assert {int(i) for i in torch.nonzero(torch.isfinite(out))} == firsts
    assert torch.isfinite(c.apply(torch.zeros(len(tok)), "3 squats")[tok.convert_tokens_to_ids(".")])


def test_mid_number_only_the_next_digit_is_left(tok):
    c = NumberConstraint(Vocabulary.of(tok), "12")
    out = c.apply(torch.randn(len(tok)), "1")
    assert torch.isfinite(out).sum() == 1 and torch.isfinite(out[c.char_ids["2"]])
    words = c.apply(torch.zeros(len(tok)), "3 squats")
    assert torch.isfinite(words).sum() == len(tok) - len(c.banned) - 9  # words stay free


def test_a_value_must_be_a_number(tok):
    with pytest.raises(ValueError):
        NumberConstraint(Vocabulary.of(tok), "3.5.1")


def test_a_time_holds_only_the_first_number(tok):
    c = NumberConstraint(Vocabulary.of(tok), "6.7", opening=False, only_first=True)
    assert c.next_char("") == "6" and c.next_char("At ") == "6"
    assert (c.next_char("At 6"), c.next_char("At 6."), c.next_char("At 6.7")) == (".", "7", "")
    out = c.apply(torch.zeros(len(tok)), "At 6")
    assert torch.isfinite(out).sum() == 1 and torch.isfinite(out[c.char_ids["."]])
    assert c.next_char("From 6.7 s to ") is None  # later times are the model's
    assert torch.equal(c.apply(torch.ones(len(tok)), "From 6.7 s to "), torch.ones(len(tok)))


def test_the_kth_repetition_time_is_its_peak():
    squat = synthesize("squat", reps=4, noise=False, seed=3)
    peaks = count_repetitions(squat).peak_times
    found = grounded_time("When does the second squat happen?", squat, [])
    assert found is not None and found.value == f"{peaks[1]:.1f}"
    assert found.sentence().startswith(
        f"The time is measured from the joints: {peaks[1]:.1f} s, the second peak"
    )
    assert grounded_time("When does the fifth squat happen?", squat, []) is None  # there is none
    assert grounded_time("When does the person squat?", squat, []) is None  # no ordinal
    assert grounded_time("How many squats?", squat, []) is None
    assert grounded_time("When was the first moon landing?", squat, []) is None  # not about the clip


def test_the_whole_clip_is_counted_when_the_question_names_no_action():
    squat = synthesize("squat", reps=4, noise=False, seed=3)
    found = grounded_count("How many reps does the person do?", squat, [])
    assert found is not None and int(found.value) == count_repetitions(squat).count == 4
    assert "counted from the joints: 4" in found.sentence()


def test_only_questions_about_the_clip_are_grounded():
    squat = synthesize("squat", reps=4, noise=False, seed=3)
    assert grounded_count("How many days are in a leap year?", squat, []) is None
    assert grounded_count("What is the person doing?", squat, []) is None
    assert grounded_count("When is the second squat?", squat, []) is None  # a time, not a count
    assert grounded_count("How many squats?", None, []) is None


def test_a_false_premise_stays_the_models():
    punch = synthesize("punch", reps=5, side="left", noise=False, seed=2)
    summary = [{"action": "punch", "start_s": 0.0, "end_s": punch.duration}]
    assert grounded_count("How many squats does she do?", punch, summary) is None
    assert grounded_count("How many punches does she throw?", punch, summary).value == "5"


def test_several_actions_count_the_named_one_inside_its_span():
    specs = [SegmentSpec("squat", 3), SegmentSpec("arm_raise", 5)]
    clip = synthesize_sequence(specs, noise=False, seed=4)
    segs = clip.meta["labels"]["segments"]
    fps = clip.fps
    summary = [
        {"action": s["action"], "start_s": s["start"] / fps, "end_s": s["end"] / fps}
        for s in segs
        if s["action"] in ("squat", "arm_raise")
    ]
    squats = grounded_count("How many squats are there?", clip, summary)
    raises = grounded_count("How many arm raises are there?", clip, summary)
    assert (squats.value, squats.detail) == ("3", "pelvis up-down")
    assert (raises.value, raises.detail) == ("5", "hand raises")


def test_a_clear_side_is_grounded_and_an_unclear_one_is_not():
    kick = synthesize("kick", side="right", reps=3, noise=False, seed=5)
    found = grounded_side("Which leg does the person kick with?", kick, [])
    assert found is not None and found.value == "right"
    assert found.sentence().startswith("The side is measured from the joints: the right leg's end ")
    assert found.sentence().endswith(f"(0.0-{kick.duration:.1f} s).")
    assert banned_words(found, "Which leg?") == ("left", "both", "neither", "arm", "arms", "hand", "hands")
    jacks = synthesize("jumping_jack", reps=4, noise=False, seed=5)  # both arms alike
    assert grounded_side("Which arm moves more?", jacks, []) is None
    assert grounded_side("Which leg kicks, and how many times?", kick, []) is None  # read as a count
    assert grounded_side("What is the person doing?", kick, []) is None


def test_a_side_question_about_people_in_general_is_not_grounded():
    kick = synthesize("kick", side="left", reps=3, noise=False, seed=5)
    assert grounded_side("Which leg do most people kick a ball with, left or right?", kick, []) is None
    assert grounded_side("Which foot should I lead with when I start running?", kick, []) is None
    assert grounded_side("Which leg does the person usually kick with here?", kick, []).value == "left"
    assert grounded_side("Which lower limb is most active, left or right?", kick, []).value == "left"


def test_words_are_kept_out_in_every_spelling(default_model):
    tok = default_model.tokenizer  # the served tokenizer: SmolLM2 spells " left" as one token
    words = WordsConstraint(Vocabulary.of(tok), ("left",))
    spellings = {
        i for s in (" left", "left", " Left", "Left") for i in tok.encode(s, add_special_tokens=False)
    }
    assert spellings <= set(words.banned.tolist())
    out = words.apply(torch.zeros(len(tok)), "")
    assert torch.isfinite(out).sum() == len(tok) - len(words.banned)


def ChatSession_of(model, motion):
    from llamo.chat import ChatSession

    return ChatSession(model, motion)


@pytest.fixture(scope="module")
def default_model():
    from llamo.model import load_default

    return load_default()


def test_the_shipped_model_writes_the_measured_count_in_both_serving_paths(default_model):
    from llamo.chat import ChatSession
    from llamo.serving import Scheduler

    squat = synthesize("squat", reps=4, noise=False, seed=3)
    question = "How many reps does the person do?"
    default_model.grounded = ("count", "time", "side")
    alone = ChatSession(default_model, squat)
    answer = "".join(alone.ask(question, max_new_tokens=12)).strip()
    assert answer.startswith("4") and "counted from the joints: 4" in alone.last_turn.grounded
    vocab = alone._vocab  # read once per conversation, at its first grounded answer
    list(alone.ask("And which leg moves more, left or right?", max_new_tokens=8))
    assert vocab is not None and alone._vocab is vocab
    sched = Scheduler(default_model)
    try:
        batched = ChatSession(default_model, squat)
        assert "".join(sched.ask(batched, question, max_new_tokens=12)).strip() == answer
    finally:
        sched.close()
    plain = ChatSession(default_model, squat)
    list(plain.ask("How many days are in a leap year?", max_new_tokens=12))
    assert plain.last_turn.grounded == ""


def test_a_grounded_side_keeps_the_other_side_out(default_model):
    kick = synthesize("kick", side="right", reps=3, noise=False, seed=5)
    default_model.grounded = ("side",)
    chat = ChatSession_of(default_model, kick)
    answer = "".join(chat.ask("Which leg does the person kick with?", max_new_tokens=12)).lower()
    assert "left" not in answer and "both" not in answer and chat.last_turn.grounded


def test_the_number_is_the_grounded_one_not_the_models(default_model, monkeypatch):
    """The model says "7 squats." about 7 squats; held to 13, both serving paths write 13."""
    import llamo.chat
    from llamo.chat import ChatSession
    from llamo.grounding import Grounded
    from llamo.serving import Scheduler

    squat = synthesize("squat", reps=7, noise=False, seed=3)
    monkeypatch.setattr(
        llamo.chat, "grounded_count", lambda q, m, s: Grounded("count", "13", "pelvis up-down", 0.0, 1.0)
    )
    default_model.grounded = ("count", "time", "side")
    alone = ChatSession(default_model, squat)
    assert "".join(alone.ask("How many squats?", max_new_tokens=12)).startswith("13")
    sched = Scheduler(default_model)
    try:
        assert "".join(
            sched.ask(ChatSession(default_model, squat), "How many squats?", max_new_tokens=12)
        ).startswith("13")
    finally:
        sched.close()
    default_model.grounded = ()
    assert "".join(ChatSession(default_model, squat).ask("How many squats?", max_new_tokens=12)).startswith(
        "7"
    )
