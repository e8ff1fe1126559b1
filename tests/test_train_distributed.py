"""`python -m llamo train` under `accelerate launch` with 2 CPU processes (gloo): each process
trains on half of every global batch, and the result equals one process on the same global
batch (weights, LoRA adapter and logged losses), both stages, text-only rows mixed in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from llamo.conversation import Conversation, Turn, write_jsonl
from llamo.data.synthetic import write_synthetic
from llamo.motion import Motion
from llamo.testing import tiny_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def _train(prefix: list[str], base: Path, out: Path) -> dict:
    args = ["-m", "llamo", "train", "--data", str(base / "train" / "data.jsonl"), "-o", str(out),
            "--init", str(base / "ckpt"), "--text-data", str(base / "chat.jsonl"), "--text-ratio", "0.3",
            "--steps", "3", "--batch-size", "5", "--device", "cpu", "--threads", "1", "--log-every", "1",
            "--save-every", "100"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_DISABLE_RICH": "1"}
    run = subprocess.run(prefix + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads((out / "training.json").read_text())


def _weights(out: Path) -> dict[str, torch.Tensor]:
    found = {}
    for path in sorted(out.rglob("*.safetensors")):
        found.update({f"{path.relative_to(out)}:{k}": v for k, v in load_file(path).items()})
    return found


@pytest.mark.slow
def test_two_processes_equal_one_on_the_same_global_batch(tmp_path):
    tiny_checkpoint(tmp_path, dropout=0.0)  # no dropout: the runs must agree step for step
    write_synthetic(tmp_path / "train", n=16, seed=0, split="train", max_turns=2)
    for path in (tmp_path / "train" / "motions").glob("*.npz"):  # one length: no padding differences
        Motion.load(path).slice(0, 60).save(path)  # (the encoder's output depends on the padding)
    chat = [Conversation(id="c0", turns=[Turn("user", "Hi?"), Turn("assistant", "Hello! How can I help?")])]
    write_jsonl(tmp_path / "chat.jsonl", chat)
    one = _train([sys.executable], tmp_path, tmp_path / "one")
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    two = _train([accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                  "--mixed_precision", "no", "--dynamo_backend", "no"], tmp_path, tmp_path / "two")  # fmt: skip

    assert one["processes"] == 1 and two["processes"] == 2
    for stage in ("align", "instruct"):
        assert one["history"][stage]["rows_per_process"] == 5
        assert two["history"][stage]["rows_per_process"] == 3  # 5 rows: 3 + 2, not 5 + 5
        losses_one = [v for _, v in one["history"][stage]["loss"]]
        losses_two = [v for _, v in two["history"][stage]["loss"]]
        assert losses_one == pytest.approx(losses_two, abs=2e-4)  # logged rounded to 4 places
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert a.keys() == b.keys() and any("adapter" in k for k in a)
    start = _weights(tmp_path / "ckpt")
    moved = [k for k in a if k in start and not torch.equal(a[k], start[k])]
    assert moved  # training changed the weights, so equality below is not trivial
    worst = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    assert worst < 1e-5, worst
