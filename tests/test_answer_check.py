"""The measurement check beside each answer: real synthesized clips, measured by llamo.evidence."""

from dataclasses import replace

import pytest

from llamo.answer_check import Mismatch, check_answer, nth
from llamo.data.synth import synthesize
from llamo.evidence import measure


@pytest.fixture(scope="module")
def kick():
    return measure(synthesize("kick", side="right", reps=3, noise=False, seed=5))


def test_the_wrong_leg_is_flagged_and_the_right_one_is_not(kick):
    assert kick.leg_side == "right"
    found = check_answer("Which leg does the person kick with?", "The left leg.", kick)
    assert found == Mismatch("side", "the left leg", "the right leg moving most")
    assert found.sentence() == "The answer says the left leg; the joints show the right leg moving most."
    assert check_answer("Which leg does the person kick with?", "The right leg.", kick) is None
    # "lower limb" asks about the legs as "leg" does
    assert check_answer("Which lower limb is most active, left or right?", "The left leg.", kick) == found
    # An answer about the arms names no leg: the evaluation scores it wrong, and the check says
    # which limb it named and what the legs do.
    arms = check_answer("Left or right: which leg is doing the work?", "Both arms.", kick)
    assert arms == Mismatch("side", "both arms (not a leg)", "the right leg moving most")
    assert check_answer("Which leg does the person kick with?", "The person kicks.", kick) is None
    wave = measure(synthesize("wave", reps=3, side="left", noise=False, seed=5))
    still = replace(wave, leg_side="both")  # as the measurement reads two legs alike (or still)
    assert check_answer("Which leg is she using?", "The right arm.", still).sentence() == (
        "The answer says the right arm (not a leg); the joints show neither leg moving more than the other."
    )
    assert check_answer("Which arm waves?", "The left leg.", wave).said == "the left leg (not an arm)"


def test_counts_are_compared_and_times_are_not_read_as_counts():
    ev = measure(synthesize("squat", reps=3, noise=False, seed=5))
    assert ev.rep_count == 3
    found = check_answer("How many squats does the person do?", "4 squats.", ev)
    assert found is not None and found.kind == "count" and found.said == "4"
    assert found.measured.startswith("3 repetitions (")
    assert check_answer("How many squats does the person do?", "3 squats.", ev) is None
    # a time where a count was asked is not read as a count, and is flagged as no count at all
    found = check_answer("Give me the rep total for this set.", "3.9 s.", ev)
    assert found.said == "a time (3.9 s), not a count" and found.measured.startswith("3 repetitions (")


def test_ordinals_in_words():
    assert [nth(k) for k in (1, 9, 10, 11, 20, 21, 22, 110)] == [
        "second", "tenth", "11th", "12th", "21st", "22nd", "23rd", "111th"
    ]  # fmt: skip


def test_the_kth_repetition_time_against_the_measured_one():
    ev = measure(synthesize("wave", reps=4, side="left", noise=False, seed=5))
    second = ev.rep_times[1]
    q = "When does the second rep happen?"
    assert check_answer(q, f"At {second:.1f} s.", ev) is None
    late = check_answer(q, f"At {second + 1.5:.1f} s.", ev)
    assert late == Mismatch("time", f"{second + 1.5:.1f} s", f"the second repetition at {second:.1f} s")
    assert check_answer("At what time is the 6th wave?", "At 2.0 s.", ev).measured == "only 4 repetitions"
    # a denial is read only where the joints show that repetition
    denied = check_answer(q, "I see no second rep; the person is waving with the left arm, 4 times.", ev)
    assert denied == Mismatch(
        "time", "there is no second repetition", f"the second repetition at {second:.1f} s"
    )
    assert check_answer("When is the 6th wave?", "I see no sixth wave.", ev) is None
    assert check_answer(q, "The person waves.", ev) is None
    q = "At which point in the sequence does the subject perform the second repetition?"
    assert check_answer(q, f"At {second + 1.5:.1f} s.", ev) == late
    # "what second" is the unit: the rank is the word after it
    assert check_answer(
        "At roughly what second is the third wave?", f"At {ev.rep_times[0]:.1f} s.", ev
    ).measured == (f"the third repetition at {ev.rep_times[2]:.1f} s")


def test_direction_against_the_measured_travel():
    back = measure(synthesize("walk", direction="backward", noise=False, seed=5))
    assert back.travel_direction == "backward"
    found = check_answer("Which way does the person travel?", "Forward.", back)
    assert found == Mismatch("direction", "forward", f"{back.travel_m:.1f} m backward")
    assert check_answer("Which way does the person travel?", "Backward.", back) is None


def test_questions_the_measurement_does_not_answer_are_not_checked(kick):
    for q, a in [("What is the person doing?", "The person is waving."),
                 ("Who wrote Romeo and Juliet?", "William Shakespeare."),
                 ("Does the person look tired?", "Energetic: brisk and lively."),
                 # questions about the world or people in general, with a clip attached
                 ("How many days are in a leap year?", "366 days."),
                 ("When was the first moon landing?", "In 1969, at 20:17 UTC, 4 s after ..."),
                 ("Which leg do most people kick a ball with?", "The left leg.")]:  # fmt: skip
        assert check_answer(q, a, kick) is None
    # the same readers, asked about the clip, are checked
    assert check_answer("Which leg does she usually kick with?", "The left leg.", kick) is not None


def test_the_real_motion_report_says_what_the_check_flags():
    """Each squat-count answer of the real-motion evaluation carries the app's flag, and the
    report tallies them (a tiny model: what it answers does not matter here)."""
    from llamo.answer_check import FlagTally, flag_of
    from llamo.eval_real import evaluate_squat_count, markdown_real
    from llamo.testing import tiny_model

    motion = synthesize("squat", reps=3, noise=False, seed=5)
    rep = {"squat_count": evaluate_squat_count(tiny_model(), motion)}
    rows = rep["squat_count"]["rows"]
    ev = measure(motion)
    assert [r["flag"] for r in rows] == [flag_of(r["question"], r["answer"], ev) for r in rows]
    assert "the app's measurement check: " + FlagTally.of(rows).words() in markdown_real(rep)
    assert FlagTally.of([{"ok": False, "flag": "x"}, {"ok": True, "flag": ""}]) == FlagTally(1, 1, 0, 1)
