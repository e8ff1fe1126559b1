"""Evaluation metrics on known inputs, and the answer normaliser."""

import pytest

from llamo.data.templates import normalise
from llamo.eval import bandai_label, bleu4, count_metrics, markdown, rouge_l


def test_count_metrics_known_values():
    m = count_metrics([3, 5, None, 10], [3, 4, 2, 12])
    assert m["OBZ"] == 0.25
    assert m["OBO"] == 0.5
    assert m["MAE"] == pytest.approx((0 + 1 / 4 + 2 / 2 + 2 / 12) / 4)
    assert m["RMSE"] == pytest.approx(((0 + 1 + 4 + 4) / 4) ** 0.5)
    assert m["unparsed"] == 1


def test_text_metrics():
    assert rouge_l("a person does 5 squats", "a person does 5 squats") == pytest.approx(1.0)
    assert rouge_l("", "a person") == 0.0
    assert rouge_l("squats does person", "person does squats") == pytest.approx(1 / 3)
    assert bleu4("a person does five squats quickly", ["a person does five squats quickly"]) == pytest.approx(
        1.0
    )
    assert bleu4("the cat", ["a person does five squats"]) < 0.2


@pytest.mark.parametrize(
    ("kind", "text", "label"),
    [
        ("action", "The person is doing jumping jacks.", "jumping_jack"),
        ("action", "They are jumping.", "jump"),
        ("action", "The person is bowing.", "bow"),
        ("action", "Raising the left elbow", None),
        ("action", "The person is standing up.", "stand_up"),
        ("action", "Standing still.", "idle"),
        ("action", "I can't tell: the movement does not look like an action I know.", "other"),
        (
            "action",
            "I can't name this movement. Most of the movement is in the left arm, repeated 5 times.",
            "other",
        ),
        ("action", "The person is waving; I can't name the second part.", "wave"),
        ("side", "The left arm.", "left"),
        ("side", "Both legs, alternating.", "both"),
        ("direction", "Forward, turning to their left.", "turn_left"),
        ("direction", "To their right.", "right"),
        ("direction", "They stay in place.", "none"),
        ("count", "7 squats.", 7),
        ("count", "Twelve times.", 12),
        ("count", "no idea", None),
        # a time or a fraction answers "when", not "how many"
        ("count", "3.1 s.", None),
        ("count", "3.33.", None),
        ("count", "At 6 s the last squat ends: 3 squats in all.", 3),
        ("count", "3 sets of 10.", 3),
        ("count", "At 3.1 s, two squats; 3 more later.", 2),  # the first count, not the time's digit
        ("count", "Someone does 4 squats and one lunge.", 4),  # "one" inside "someone" is no number
        ("tempo", "At a moderate pace.", "moderate"),
        ("order", "No, walking comes first.", "no"),
        ("unknown", "I can't tell from the motion.", "cant_tell"),
    ],
)
def test_normalise(kind, text, label):
    assert normalise(kind, text) == label


def test_bandai_mapping():
    assert bandai_label("dataset-1_walk-left_normal_003.bvh") == "walk"
    assert bandai_label("dataset-1_byebye_normal_001.bvh") == "wave"
    assert bandai_label("dataset-1_dash_normal_001.bvh") == "run"
    assert bandai_label("dataset-1_slash_normal_001.bvh") is None


def test_markdown_report_renders():
    report = {
        "synthetic": {
            "accuracy": {"action": 0.9},
            "n_per_kind": {"action": 10},
            "count": count_metrics([1], [1]),
            "caption": {"bleu4": 0.5, "rougeL": 0.7},
            "n_captions": 2,
            "mean_input_tokens": 80.0,
            "mean_latency_s": 0.5,
        },
        "chat": {"n": 2, "rougeL_vs_backbone": 0.4, "collapse_rate": 0.0},
    }
    md = markdown(report)
    assert "| action | 90.0% | 10 |" in md and "OBZ" in md and "collapsing" in md


@pytest.mark.slow
def test_ablation_runner_trains_evaluates_and_reuses(tmp_path):
    """Two variants on the real default backbone at a token budget; a second call with --reuse
    re-evaluates the saved runs without training them again."""
    import json
    import subprocess
    import sys

    from llamo.data.synthetic import write_synthetic

    write_synthetic(tmp_path / "train", n=6, seed=0, split="train", max_turns=1)
    write_synthetic(tmp_path / "test", n=2, seed=0, split="test", max_turns=1)
    out = tmp_path / "ablations.json"

    def ablations(steps: int, *extra: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "llamo", "eval", "--ablations", "none,mean_pool",
               "--train-data", str(tmp_path / "train" / "data.jsonl"), "--data", str(tmp_path / "test" / "data.jsonl"),
               "--steps", str(steps), "--pretrain-steps", "2", "--batch-size", "2", "--max-new-tokens", "4",
               "-o", str(out), *extra]  # fmt: skip
        return subprocess.run(cmd, capture_output=True, text=True, timeout=900)

    first = ablations(1)
    assert first.returncode == 0, first.stderr[-2000:]
    runs = json.loads(out.read_text())["runs"]
    assert set(runs) == {"none", "mean_pool"}
    assert runs["mean_pool"]["steps"]["align"] == 1 and runs["none"]["steps"]["instruct"] == 1
    assert runs["mean_pool"]["mean_input_tokens"] > runs["none"]["mean_input_tokens"]  # motion tokens count
    table = out.with_suffix(".md").read_text()
    assert "| none |" in table and "| mean_pool |" in table
    second = ablations(1, "--reuse")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "reusing the run" in second.stderr and "align 1/1" not in second.stderr
    wrong = ablations(2, "--reuse")
    assert wrong.returncode == 2 and "was trained with --steps 1" in wrong.stderr
