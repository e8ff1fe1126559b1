"""`python -m llamo chat` on a tiny checkpoint whose backbone is a local folder (the benchmarks' own
tests are in tests/test_bench.py)."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest

from llamo.cli import main
from llamo.testing import tiny_checkpoint as tiny_checkpoint_at


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    return tiny_checkpoint_at(tmp_path_factory.mktemp("tiny"))


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
