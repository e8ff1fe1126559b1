"""The development evaluation: validation takes only, its own phrasings, times read from answers."""

import pytest
from test_paraphrases import _norm, _word_edits

from llamo import dev_phrasings, eval_phrasings
from llamo.answer_check import answer_time, side_answer
from llamo.data.real_questions import PREMISE_Q, STYLE_Q, WHEN_REP_Q, WHEN_SEG_Q
from llamo.data.synth import synthesize
from llamo.data.templates.paraphrases import PARAPHRASES
from llamo.data.templates.phrasings import HELD_OUT, Q_EXTENDED, Q
from llamo.data.text_prompts import WORDED_PROMPTS
from llamo.eval_dev import dev_clips, evaluate_dev, markdown_dev
from llamo.testing import tiny_model

DEV_LISTS = ("ACTION", "COUNT", "ARM_SIDE", "LEG_SIDE", "DIRECTION", "WHEN", "STYLE", "PLAIN", "PLAIN_WORDED")


def _words_apart(a: str, b: str) -> int:
    return _word_edits(a.split(), b.split())


SLOTS = [  # slot values as the generators fill them, so a template is compared as it is asked
    {"limb": "arm", "nouns": "reps", "noun": "reps", "verb": "walking", "x": "the squats", "y": "the kicks"},
    {"limb": "leg", "nouns": "kicks", "noun": "squats", "verb": "running", "x": "walking", "y": "waving"},
]  # fmt: skip


def _filled(phrasings) -> set[str]:
    return {_norm(q.format(ordinal="second", gerund="waving", **s)) for q in phrasings for s in SLOTS}


def _lists(module) -> list[str]:
    return [q for name in dir(module) if name.isupper() and isinstance(getattr(module, name), list)
            for q in getattr(module, name)]  # fmt: skip


def test_dev_training_and_test_phrasings_are_three_apart_sets():
    """Near-copies leak: a training wording one word from a test one makes the test easy, and a
    development wording close to a training one makes the development figures optimistic."""
    dev = _filled(q for name in DEV_LISTS for q in getattr(dev_phrasings, name))
    test = _filled(_lists(eval_phrasings))
    train = _filled(q for lists in (Q, Q_EXTENDED, PARAPHRASES) for qs in lists.values() for q in qs)
    train |= _filled(STYLE_Q + WHEN_REP_Q + WHEN_SEG_Q + PREMISE_Q + WORDED_PROMPTS)
    assert all(len(getattr(dev_phrasings, name)) >= 5 for name in DEV_LISTS)
    for q in dev:  # not equal, and not a one- or two-word edit of a training or test phrasing
        assert min(_words_apart(q, t) for t in train | test) > 2, q
    synthetic_test = _filled(p for k in Q for p in Q[k][-HELD_OUT[k] :])  # the synthetic held-out ones
    for q in train - _filled(q for k in Q for q in Q[k]):  # the original templates predate this check
        assert min(_words_apart(q, t) for t in test | synthetic_test) > 1, q


def test_answer_time_reads_seconds_not_counts():
    assert answer_time("At 6.7 s.") == 6.7
    assert answer_time("The second rep is at 2 seconds") == 2.0
    assert answer_time("3 squats.") is None


def _save_take(folder, name, motion):
    motion.save(folder / f"{name}.npz")


@pytest.mark.slow
def test_dev_clips_are_validation_takes_and_the_evaluation_scores_them(tmp_path):
    # Named like converted ds2 takes; n % 10 == 5 is validation, the others must be left alone.
    _save_take(
        tmp_path, "dataset-2_wave-left-hand_normal_005", synthesize("wave", reps=4, side="left", seed=1)
    )
    _save_take(
        tmp_path, "dataset-2_wave-left-hand_normal_015", synthesize("wave", reps=3, side="left", seed=2)
    )
    _save_take(
        tmp_path, "dataset-2_wave-left-hand_normal_025", synthesize("wave", reps=3, side="left", seed=3)
    )
    _save_take(
        tmp_path, "dataset-2_wave-left-hand_normal_001", synthesize("wave", reps=3, side="left", seed=4)
    )
    _save_take(tmp_path, "dataset-2_walk_normal_010", synthesize("walk", reps=6, seed=5))
    _save_take(tmp_path, "dataset-2_walk_normal_035", synthesize("walk", reps=6, seed=6))
    clips = dev_clips(tmp_path)
    names = [c.name for c in clips]
    assert names == ["dataset-2_walk_normal_035", "dataset-2_wave-left-hand_normal_005",
                     "dataset-2_wave-left-hand_normal_015"]  # fmt: skip
    assert clips[1].label["side"] == "left" and clips[1].label["reps"] >= 2

    rep = evaluate_dev(tiny_model(), tmp_path)
    scores = rep["scores"]
    assert rep["clips"] == 3
    assert scores["action"]["n"] == 3 * len(dev_phrasings.ACTION)
    assert scores["direction"]["n"] == len(dev_phrasings.DIRECTION)  # the walk only
    assert scores["arm_side"]["n"] == scores["count"]["n"] == 2 * len(dev_phrasings.ARM_SIDE)
    assert scores["plain"]["n"] == len(dev_phrasings.PLAIN)
    assert scores["plain_worded"]["n"] == len(dev_phrasings.PLAIN_WORDED)
    assert scores["leg_side"]["n"] == 3 * len(dev_phrasings.LEG_SIDE)  # every clip, measured truth
    assert {r["truth"] for r in rep["rows"]["leg_side"]} <= {"left", "right", "both"}
    kicks = rep["rows"]["kick_leg"]  # the two waves, a kicking leg grafted on each
    assert scores["kick_leg"]["n"] == 2 * len(dev_phrasings.LEG_SIDE)
    assert [r["truth"] for r in kicks[:: len(dev_phrasings.LEG_SIDE)]] == ["left", "right"]
    for s in scores.values():
        assert s["n"] == 0 or 0.0 <= s["min_over_phrasings"] <= s["mean_over_phrasings"] <= 1.0
    # every asked answer carries what the app's measurement check would say under it
    asked = [r for k, v in rep["rows"].items() if not k.startswith("plain") for r in v]
    assert all(isinstance(r["flag"], str) for r in asked)
    wrong = [r for r in rep["rows"]["leg_side"] if not r["ok"]]
    flagged = sum(bool(r["flag"]) for r in wrong)
    assert f"| leg_side | {flagged} / {len(wrong)} |" in markdown_dev(rep)


@pytest.mark.parametrize(
    "answer, limb, side",
    [
        ("The right leg.", "leg", "right"),
        ("Both legs, alternating.", "leg", "both"),
        ("Both arms.", "leg", None),  # the other limb is no answer about the legs
        ("The left arm.", "leg", None),
        ("The person is punching with the left arm.", "arm", "left"),
        ("The right foot.", "leg", "right"),
        ("The left leg.", "arm", None),
        ("Left.", "arm", "left"),
    ],
)
def test_a_side_answer_counts_only_for_the_limb_asked(answer, limb, side):
    assert side_answer(answer, limb) == side
