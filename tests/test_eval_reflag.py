"""A stored report's flags read again by the current check: no model, real synthesized clips."""

import json

import pytest

from llamo.answer_check import flag_of
from llamo.data.synth import synthesize
from llamo.errors import LlamoError
from llamo.eval_real import by_phrasing
from llamo.eval_reflag import reflag_report
from llamo.evidence import measure


def _report():
    side = {"question": "Which leg does the person kick with?", "answer": "Both arms.", "flag": ""}
    wrong = {"question": "Which leg does the person kick with?", "answer": "The left leg.", "flag": "stale"}
    squat = {"question": "Give me the rep total for this set.", "answer": "3.9 s.", "flag": ""}
    return {
        "model": "m",
        "real_held_out": {
            "bandai": {
                "side_rows": [
                    dict(side, file="dataset-1_kick_normal_001.npz"),
                    dict(wrong, file="dataset-1_kick_normal_001.npz"),
                ],
                "direction_rows": [],
            },  # fmt: skip
            "squat_count": {"rows": [squat]},
        },
    }


def test_flags_are_read_again_from_the_clips(tmp_path):
    kick = synthesize("kick", side="right", reps=3, noise=False, seed=5)
    kick.save(tmp_path / "dataset-1_kick_normal_001.npz")
    squat = synthesize("squat", reps=3, noise=False, seed=5)
    report = _report()
    done = reflag_report(report, mocap=tmp_path, squat=squat)
    assert [(r.section, r.rows, r.changed) for r in done] == [
        ("bandai side_rows", 2, 2), ("bandai direction_rows", 0, 0), ("squat count", 1, 1)
    ]  # fmt: skip
    rows = report["real_held_out"]["bandai"]["side_rows"]
    ev = measure(kick)
    assert [r["flag"] for r in rows] == [flag_of(r["question"], r["answer"], ev) for r in rows]
    assert "(not a leg)" in rows[0]["flag"] and rows[1]["flag"].startswith("The answer says the left leg;")
    assert "not a count" in report["real_held_out"]["squat_count"]["rows"][0]["flag"]
    again = reflag_report(report, mocap=tmp_path, squat=squat)
    assert sum(r.changed for r in again) == 0  # reading twice changes nothing


def test_a_section_without_its_clips_is_refused(tmp_path):
    with pytest.raises(LlamoError, match="--mocap"):
        reflag_report(_report(), squat=synthesize("squat", reps=3, noise=False, seed=5))
    with pytest.raises(LlamoError, match="no answers"):
        reflag_report({"model": "m", "synthetic": {}})


def test_the_command_writes_the_report_again(tmp_path):
    from llamo.cli import main

    synthesize("kick", side="right", reps=3, noise=False, seed=5).save(
        tmp_path / "dataset-1_kick_normal_001.npz"
    )
    report = _report()
    del report["real_held_out"]["squat_count"]
    bandai = report["real_held_out"]["bandai"]
    for r in bandai["side_rows"]:
        r["ok"] = False
    bandai |= {"known_named": 0, "known_n": 1, "unknown_honest": 0, "unknown_n": 0, "files": [],
               "side": by_phrasing(bandai["side_rows"]), "direction": by_phrasing([])}  # fmt: skip
    (tmp_path / "old.json").write_text(json.dumps(report))
    assert (
        main(
            [
                "eval",
                "--reflag",
                str(tmp_path / "old.json"),
                "--mocap",
                str(tmp_path),
                "-o",
                str(tmp_path / "new.json"),
            ]
        )
        == 0
    )
    rows = json.loads((tmp_path / "new.json").read_text())["real_held_out"]["bandai"]["side_rows"]
    assert all(r["flag"] for r in rows)
    assert "the app's measurement check: 2 of 2 wrong answers flagged" in (tmp_path / "new.md").read_text()
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["eval", "--reflag", str(tmp_path / "bad.json"), "-o", str(tmp_path / "x.json")]) != 0
