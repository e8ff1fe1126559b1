"""The benchmarks run and print their rows (`python -m bench.<target>`, small N, in-process).

What they measure is in docs/benchmarks.md; here only that each target still runs, prints its
hygiene line and writes its figures."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path

import pytest

from llamo.cli import main as llamo_main
from llamo.testing import tiny_checkpoint


def _run(main, *args: str) -> subprocess.CompletedProcess:
    """Call a target's `main(argv)` in-process (a subprocess would import torch again)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_llamo_bench_points_at_the_bench_package():
    r = _run(llamo_main, "bench", "chat", "--repeats", "1")
    assert r.returncode == 2 and r.stderr.strip() == (
        "error: the benchmarks moved out of the library: run `python -m bench.chat`."
    )


def test_bench_lists_its_targets():
    from bench.__main__ import TARGETS
    from bench.__main__ import main as bench_main

    r = _run(bench_main)
    assert r.returncode == 0 and all(f"  {t}" in r.stdout for t in TARGETS)
    for target in TARGETS:
        module = __import__(f"bench.{target}", fromlist=["main"])
        assert callable(module.main)


def test_bench_render_views(tmp_path):
    from bench.render import main

    out = tmp_path / "render.json"
    r = _run(main, "--frames", "60", "--repeats", "1", "--skip", "overlay,reps", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "threads pinned" in r.stdout and "views total" in r.stdout and "naive go.Frame" in r.stdout
    assert {row["view"] for row in json.loads(out.read_text())["views"]} >= {"skeleton", "glb", "kinematics"}


def test_bench_store_small(tmp_path):
    from bench.store import main

    out = tmp_path / "store.json"
    r = _run(main, "--turns", "200", "--conversations", "20", "--clips", "4", "--repeats", "3",
             "--export-repeats", "1", "--dir", str(tmp_path / "work"), "-o", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "add_correction synchronous=" in r.stdout and "bare sqlite INSERT" in r.stdout
    assert json.loads(out.read_text())["export"]["conversations"] > 0


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("tiny"))


@pytest.mark.slow
def test_bench_chat_runs(tiny_ckpt, tmp_path):
    from bench.chat import main

    out = tmp_path / "bench.json"
    r = _run(main, "--model", str(tiny_ckpt / "ckpt"), "--repeats", "1", "--lengths", "5,30",
             "--answer-tokens", "4", "-o", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    for needle in ("threads pinned", "time to first token", "scaling with clip length", "decode at", "ratio"):
        assert needle in r.stdout
    report = json.loads(out.read_text())
    assert len(report["turns"]) == 5 and report["scaling"][0]["cross_talker"]["input_tokens"] > 0


@pytest.mark.slow
def test_bench_train_paths_agree(tmp_path):
    """The fast training step must compute the same loss as the backbone's full-vocabulary one."""
    from bench.train import main

    out = tmp_path / "bench.json"
    r = _run(main, "--batch-size", "2", "--repeats", "1", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "threads pinned" in r.stdout and "speed-up" in r.stdout
    losses = json.loads(out.read_text())["losses"]
    assert 0.5 < losses["candidate"] < 20
    assert losses["candidate"] == pytest.approx(losses["baseline"], rel=0.03)


@pytest.mark.slow
def test_bench_app_tiny(tmp_path):
    from bench.app import main

    out = tmp_path / "app.json"
    r = _run(main, "--tiny", "--clients", "1,2", "--turns", "1", "--tokens", "16", "--page-loads", "0",
             "-o", str(out))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "one-by-one" in r.stdout and "batched" in r.stdout and "tokens/s at 2 clients" in r.stdout
    assert "staggered: 1 questions per client" in r.stdout
    figures = json.loads(out.read_text())
    assert figures["failures"] == []
    for arrival in ("barrier", "staggered"):  # both ways did the same work in both patterns
        runs = figures["runs"][arrival]["2"]
        assert runs["batched"]["tokens"] == runs["one-by-one"]["tokens"] == 2 * 16


@pytest.mark.slow
def test_bench_extract_real_clip(shared_data, tmp_path):
    from bench.extract import main

    out = tmp_path / "extract.json"
    r = _run(main, str(shared_data / "videos" / "pose_1.mp4"), "--repeats", "1", "--min-seconds", "0",
             "-o", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "naive loop" in r.stdout and "speed-up" in r.stdout
    assert json.loads(out.read_text())["accuracy"]["median_joint_mm"] < 50


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed")
def test_bench_page_ab_serves_two_checkouts_and_prints_the_ratio(tmp_path):
    """This checkout against itself: both apps start in their own processes and load in Chromium."""
    from bench.page_ab import HERE, main

    out = tmp_path / "ab.json"
    r = _run(main, "--before", str(HERE), "--loads", "1", "--port", "7881", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "after / before, median: cold" in r.stdout
    figures = json.loads(out.read_text())
    assert [len(p["cold"]) for p in figures["pages"]] == [1, 1] and figures["ratio"]["cold"] > 0
