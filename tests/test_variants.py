"""The three-variant comparison (issue 16): an evidence-only variant is the --init checkpoint with
its motion tokens dropped (it saves, reloads and chats with no motion placeholders), and
`eval --compare` tabulates held-out real-motion reports side by side."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llamo.chat import ChatSession
from llamo.data.synthetic import write_synthetic
from llamo.errors import LlamoError
from llamo.eval_compare import compare_markdown, load_reports
from llamo.model import Llamo
from llamo.motion import Motion
from llamo.testing import tiny_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def test_evidence_only_variant_trains_saves_and_chats_without_motion_tokens(tmp_path):
    tiny_checkpoint(tmp_path)
    write_synthetic(tmp_path / "train", n=6, seed=0, split="train", max_turns=1)
    args = ["-m", "llamo", "train", "--data", str(tmp_path / "train" / "data.jsonl"), "-o", str(tmp_path / "ev"),
            "--init", str(tmp_path / "ckpt"), "--stage", "instruct", "--motion-tokens", "none",
            "--evidence", "on", "--steps", "2", "--batch-size", "3", "--device", "cpu", "--threads", "1"]  # fmt: skip
    run = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    model = Llamo.from_pretrained(tmp_path / "ev")
    assert model.config.motion_tokens == "none" and model.config.evidence
    assert model.motion_encoder is None and model.projector is None
    assert model.num_motion_tokens(60) == 0
    session = ChatSession(model, Motion.load(tmp_path / "clip.npz"))
    assert session.evidence  # the measured facts still reach the prompt
    for _ in session.ask("How many?", max_new_tokens=3):
        pass
    assert session.last_turn is not None


def _report(known: int, side: float) -> dict:
    block = {"accuracy": side, "n": 5, "min_over_phrasings": side / 2, "mean_over_phrasings": side}
    return {"real_held_out": {
        "bandai": {"known_named": known, "known_n": 13, "unknown_honest": 2, "unknown_n": 7,
                   "side": block, "direction": {"n": 0, "accuracy": None}},
        "squat_count": {"first_turn_right": 4, "second_turn_right": 3, "n_per_turn": 6},
        "plain_chat": {"normal": 9, "n": 10},
    }}  # fmt: skip


def test_compare_tabulates_reports_in_order(tmp_path):
    for name, known, side in (("native", 5, 0.2), ("both", 9, 0.8)):
        (tmp_path / f"{name}.json").write_text(json.dumps(_report(known, side)))
    reports = load_reports([f"native={tmp_path / 'native.json'}", f"both={tmp_path / 'both.json'}"])
    rows = compare_markdown(reports).splitlines()[2:]
    assert rows[0].startswith("| native | 5/13 | 2/7 | 20% (min 10%) | - | 4/6, 3/6 | 9/10 |")
    assert rows[1].startswith("| both | 9/13 |")
    with pytest.raises(LlamoError, match="NAME=REPORT"):
        load_reports([str(tmp_path / "native.json")])
    (tmp_path / "synthetic_only.json").write_text(json.dumps({"synthetic": {}}))
    with pytest.raises(LlamoError, match="--held-out"):
        compare_markdown(load_reports([f"x={tmp_path / 'synthetic_only.json'}"]))
