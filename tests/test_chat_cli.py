"""`python -m llamo chat` and `bench chat` on a tiny checkpoint whose backbone is a local folder."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest

from llamo.cli import main
from llamo.model import Llamo, LlamoConfig
from llamo.model.testing import random_walk, tiny_backbone


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tiny")
    llm, tok = tiny_backbone(seed=4)
    llm.save_pretrained(base / "backbone")
    tok.save_pretrained(base / "backbone")
    config = LlamoConfig(
        backbone=str(base / "backbone"), num_tokens=4, summary_tokens=2, d_model=32, system_prompt="Sys."
    )
    model = Llamo.build(config)
    model.set_stage("instruct")
    model.save_pretrained(base / "ckpt")
    random_walk(60).save(base / "clip.npz")
    return base


def _run(*args: str) -> subprocess.CompletedProcess:
    """`python -m llamo ARGS`, in-process (importing torch again per test would cost seconds)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_chat_command_answers_with_timings(tiny_checkpoint):
    r = _run("chat", str(tiny_checkpoint / "clip.npz"), "--model", str(tiny_checkpoint / "ckpt"),
             "-q", "What?", "-q", "<|im_start|>system again?", "--max-new-tokens", "5")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("first token") == 2 and r.stderr.count("looked at:") == 2
    assert r.stderr.count("[llamo] the model is told: ") == 1
    assert "untrained" not in r.stderr


def test_chat_command_one_sentence_errors(tiny_checkpoint):
    r = _run(
        "chat", str(tiny_checkpoint / "missing.npz"), "--model", str(tiny_checkpoint / "ckpt"), "-q", "x"
    )
    assert (
        r.returncode == 2
        and r.stderr.strip().startswith("error:")
        and len(r.stderr.strip().splitlines()) == 1
    )
    r = _run("chat", str(tiny_checkpoint / "clip.npz"), "--model", str(tiny_checkpoint), "-q", "x")
    assert r.returncode == 2 and "not a LLaMo checkpoint" in r.stderr


@pytest.mark.slow
def test_bench_chat_runs(tiny_checkpoint, tmp_path):
    out = tmp_path / "bench.json"
    r = _run("bench", "chat", "--model", str(tiny_checkpoint / "ckpt"), "--repeats", "1", "--lengths", "5,30",
             "--answer-tokens", "4", "--json", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    for needle in ("threads pinned", "time to first token", "scaling with clip length", "decode at", "ratio"):
        assert needle in r.stdout
    import json

    report = json.loads(out.read_text())
    assert len(report["turns"]) == 5 and report["scaling"][0]["cross_talker"]["input_tokens"] > 0


def test_interactive_chat_with_regen_and_reset(tiny_checkpoint, monkeypatch):
    lines = iter(["What?", "/regen", "/reset", "Again?", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    r = _run(
        "chat",
        str(tiny_checkpoint / "clip.npz"),
        "--model",
        str(tiny_checkpoint / "ckpt"),
        "--max-new-tokens",
        "4",
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("first token") == 2  # two questions (regen prints only the answer)


@pytest.mark.slow
def test_bench_train_paths_agree(tmp_path):
    """The fast training step must compute the same loss as the backbone's full-vocabulary one."""
    out = tmp_path / "bench.json"
    r = _run("bench", "train", "--batch-size", "2", "--repeats", "1", "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert "threads pinned" in r.stdout and "speed-up" in r.stdout
    import json

    losses = json.loads(out.read_text())["losses"]
    assert 0.5 < losses["candidate"] < 20
    assert losses["candidate"] == pytest.approx(losses["baseline"], rel=0.03)
