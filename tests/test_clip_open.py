"""Opening a clip is all or nothing (issue 17): a clip is read, checked and drawn completely
before anything is stored, so a failed open (a cancelled or timed-out job, a full disk) leaves
no store row and no media file; a full disk is one sentence; the job's time limit is checked
while the pose is tracked and while the views are drawn."""

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from sqlmodel import select

from annotations.models import Clip
from annotations.store import Store
from app.config import AppConfig
from app.registry import Job
from app.session import Session
from llamo.errors import DISK_FULL, LlamoError, disk_full

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"


@pytest.fixture(scope="module")
def tiny():
    from llamo.testing import tiny_model

    return tiny_model()


def left_behind(store: Store) -> tuple[list[str], list[str]]:
    """The store's clip rows and its media files (temp files included)."""
    with store._read() as s:
        rows = [c.sha256 for c in s.exec(select(Clip)).all()]
    files = [str(p.relative_to(store.media_dir)) for p in store.media_dir.rglob("*") if p.is_file()]
    return rows, files


def job_that_ends_at(word: str, *, closed: bool) -> tuple[Job, callable]:
    """A real heavy job whose tab closes (or whose time runs out) at the first progress message
    containing `word`: its next progress step must stop the work."""
    job = Job("tab", time.monotonic() + 3600, 300.0)

    def report(fraction, message=""):
        if word in message:
            job.closed.set() if closed else setattr(job, "deadline", 0.0)

    return job, job.progress(report)


def core_for(tiny, data_dir: Path, **config):
    from app.core import LlamoApp

    return LlamoApp(tiny, Store.open(data_dir, announce=False), AppConfig(**config))


def test_a_clip_that_fails_after_reading_leaves_nothing_stored(tiny, tmp_path):
    """The audit: a clip that failed after it was stored left its row and media in the store.
    Here the tab closes while the views are drawn, after the motion was read and checked."""
    core = core_for(tiny, tmp_path / "d")
    s = Session()
    try:
        job, progress = job_that_ends_at("3D skeleton", closed=True)
        with pytest.raises(LlamoError, match="tab was closed"):
            core.open_file(s, EXAMPLES / "squat.npz", progress=progress)
        assert left_behind(core.store) == ([], [])
        assert s.clip is None  # the tab did not change either
        state = core.open_file(s, EXAMPLES / "squat.npz")  # the same file opens afterwards
        rows, files = left_behind(core.store)
        assert rows == [state.sha256] and len(files) == 1 and s.clip is state
    finally:
        s.close()


@pytest.mark.parametrize("word", ["tracking frame", "overlay frame"])
def test_the_time_limit_covers_capture_and_drawing(tiny, tmp_path, shared_data, word):
    """A job past its time limit stops inside pose tracking and inside the overlay's rendering
    (not only between steps), and stores nothing."""
    core = core_for(tiny, tmp_path / "d")
    s = Session()
    try:
        job, progress = job_that_ends_at(word, closed=False)
        with pytest.raises(LlamoError, match="took longer than the 5:00 limit"):
            core.open_file(s, shared_data / "videos" / "pose_1.mp4", progress=progress)
        assert left_behind(core.store) == ([], [])
    finally:
        s.close()


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MB filesystem (tmpfs) to fill up; needs root and mount(8)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a full-disk test mounts a small tmpfs, which needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder: Path, leave: int) -> None:
    """Fill the filesystem of `folder` until about `leave` bytes are free."""
    free = shutil.disk_usage(folder).free
    with open(folder / "filler", "wb") as fh, contextlib.suppress(OSError):
        fh.write(b"\0" * max(0, free - leave))


def test_a_full_disk_is_one_sentence_and_saves_nothing(tiny, small_disk, tmp_path):
    core = core_for(tiny, small_disk / "data")
    video = tmp_path / "clip.npz"
    shutil.copyfile(EXAMPLES / "walk_then_squat.npz", video)
    fill(small_disk, leave=8 * 1024)
    s = Session()
    try:
        with pytest.raises(LlamoError) as err:
            core.open_file(s, video)
        assert str(err.value) == DISK_FULL == "the server's disk is full; nothing was saved."
        assert left_behind(core.store) == ([], [])
        assert s.clip is None
        (small_disk / "filler").unlink()  # room again: the same clip opens
        core.open_file(s, video)
        assert len(left_behind(core.store)[0]) == 1
    finally:
        s.close()
        core.store.close()


def test_the_app_says_disk_full_in_one_sentence(small_disk):
    """Outside the store too (the views are drawn into a temp folder): the handler's error is
    the sentence, never "Something went wrong (OSError)"."""
    import gradio as gr

    from app.ui.errors import friendly, sentence

    fill(small_disk, leave=0)

    @friendly
    def draw():
        (small_disk / "view.glb").write_bytes(b"\0" * 1024 * 1024)

    with pytest.raises(gr.Error) as err:
        draw()
    assert err.value.message == sentence(DISK_FULL)  # "The server's disk is full; nothing was saved."


def test_sqlite_disk_full_is_recognised(tmp_path):
    """SQLite's own refusal ("database or disk is full") is the same sentence (store._write)."""
    con = sqlite3.connect(tmp_path / "db.sqlite3")
    con.execute("CREATE TABLE t (x BLOB)")
    con.execute("PRAGMA max_page_count = 3")
    with pytest.raises(sqlite3.OperationalError) as err:
        con.execute("INSERT INTO t VALUES (?)", (b"\0" * 100_000,))
    assert disk_full(err.value)
    assert not disk_full(ValueError("nope")) and not disk_full(OSError(13, "Permission denied"))
