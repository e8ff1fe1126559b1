"""The seed judgement: margins from the baseline's own spread, and the CLI around it."""

import json
import subprocess
import sys

import pytest

from llamo.errors import LlamoError
from llamo.eval_seeds import judge, judgement_markdown


def _report(**right: int) -> dict:
    n = {"action": 120, "leg_side": 120, "swing_leg": 72, "kick_leg": 72}
    scores = {
        k: {"accuracy": v / n[k], "n": n[k], "min_over_phrasings": 0, "mean_over_phrasings": 0}
        for k, v in right.items()
    }
    return {"dev": {"clips": 20, "scores": scores}}


BASE = [
    _report(action=120, leg_side=48, swing_leg=30, kick_leg=53),
    _report(action=120, leg_side=42, swing_leg=33, kick_leg=54),
    _report(action=120, leg_side=45, swing_leg=31, kick_leg=52),
]


def test_a_loss_within_the_baselines_spread_passes_and_a_larger_one_fails():
    cand = [
        _report(action=119, leg_side=40, swing_leg=45, kick_leg=70),
        _report(action=120, leg_side=41, swing_leg=44, kick_leg=69),
        _report(action=118, leg_side=42, swing_leg=46, kick_leg=71),
    ]
    rows = {r.kind: r for r in judge(BASE, cand, {"swing_leg": 6}, {"kick_leg"})}
    assert rows["leg_side"].spread == 6 and rows["leg_side"].delta == pytest.approx(-4)
    assert rows["leg_side"].passed  # -4 is inside the spread of 6
    assert rows["action"].needed == -2 and rows["action"].passed  # spread 0: the floor of 2 applies
    assert rows["swing_leg"].needed == 6 and rows["swing_leg"].passed  # +13.7 >= max(6, 2 x 3)
    assert rows["kick_leg"].passed is None
    assert "Verdict: passes" in judgement_markdown(list(rows.values()))
    cand[0] = _report(action=114, leg_side=30, swing_leg=45, kick_leg=70)
    rows = {r.kind: r for r in judge(BASE, cand, {"swing_leg": 6}, {"kick_leg"})}
    assert not rows["action"].passed and not rows["leg_side"].passed
    assert "does not pass" in judgement_markdown(list(rows.values()))


def test_a_gain_must_clear_twice_the_spread():
    cand = [_report(action=120, leg_side=45, swing_leg=s, kick_leg=53) for s in (38, 39, 40)]
    noisy = [_report(action=120, leg_side=45, swing_leg=s, kick_leg=53) for s in (28, 33, 33)]
    row = next(r for r in judge(noisy, cand, {"swing_leg": 6}) if r.kind == "swing_leg")
    assert row.needed == 10 and row.delta == pytest.approx(7.667, abs=1e-3) and not row.passed


def test_reports_of_different_code_are_refused():
    with pytest.raises(LlamoError, match="missing"):
        judge(BASE, [_report(action=120, leg_side=45, kick_leg=53)], {})
    with pytest.raises(LlamoError, match="development section"):
        judge([{"synthetic": {}}], BASE, {})


def test_the_cli_writes_the_table(tmp_path):
    paths = []
    for i, r in enumerate(BASE + BASE):
        paths.append(tmp_path / f"r{i}.json")
        paths[-1].write_text(json.dumps(r))
    out = tmp_path / "judge.md"
    args = ["--seeds-baseline", *map(str, paths[:3]), "--seeds-candidate", *map(str, paths[3:])]
    done = subprocess.run(
        [sys.executable, "-m", "llamo", "eval", *args, "--gain", "swing_leg=6", "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "does not pass" in out.read_text()  # equal runs gain nothing
    assert "| swing_leg | 72 | 30, 33, 31 | 30, 33, 31 | +0.0 | 3 | +6 | gain | **no** |" in out.read_text()
    bad = subprocess.run(
        [sys.executable, "-m", "llamo", "eval", *args, "--gain", "swing_leg=many", "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode != 0 and "KIND=N" in bad.stderr and "Traceback" not in bad.stderr
