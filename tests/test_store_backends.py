"""The same store tests on both backends: SQLite (embedded) and PostgreSQL (LLAMO_DATABASE_URL).

The postgres case needs a real server: `LLAMO_TEST_POSTGRES_URL=postgresql://user@host:port/db`
(`.ci/run` starts a private one). Each test gets a database of its own, dropped afterwards.
Media stay on disk in the data dir on both backends.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, text

from annotations import db
from annotations.export import export_dataset
from annotations.models import SCHEMA_VERSION
from annotations.store import Store, StoreConflict
from llamo.errors import LlamoError
from llamo.motion import Motion

PG_ENV = "LLAMO_TEST_POSTGRES_URL"


@dataclass(frozen=True)
class Backend:
    name: str
    data_dir: Path
    url: str | None  # None: the data dir's SQLite file

    def open(self) -> Store:
        return Store.open(self.data_dir, url=self.url, announce=False)


def _pg_admin(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path) -> Backend:
    if request.param == "sqlite":
        yield Backend("sqlite", tmp_path / "data", None)
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL case: set {PG_ENV}=postgresql://... to a server (.ci/run starts one)")
    name = f"llamo_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin(base) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield Backend("postgres", tmp_path / "data", base.rsplit("/", 1)[0] + "/" + name)
    with _pg_admin(base) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _motion(seed: int = 0) -> Motion:
    return Motion.from_joints(np.random.default_rng(seed).normal(size=(30, 22, 3)), 20.0)


def test_the_whole_workflow_and_export(backend, tmp_path):
    store = backend.open()
    assert store.engine.dialect.name == ("sqlite" if backend.name == "sqlite" else "postgresql")
    clip = store.add_clip(_motion(), None, "example", meta={"note": "ü"})
    assert (backend.data_dir / clip.motion_path).is_file()  # media on disk in the data dir
    assert store.add_clip(_motion(), None, "example").id == clip.id  # idempotent
    ana = store.get_or_create_annotator("ana")
    rui = store.get_or_create_annotator("rui", role="reviewer")
    conv = store.start_conversation(clip, ana, model_id="ckpt", settings={"temperature": 0.0})
    t0, t1 = store.add_turn(conv, "How many squats?"), store.add_turn(conv, "Which side?")
    assert (t0.position, t1.position) == (0, 1)
    store.add_candidate(t0, "Three.", timings={"ttft_s": 0.1})
    store.add_candidate(t1, "Left.")
    r1 = store.add_correction(t0, "Four squats.", annotator=ana, rating=2, tags=["wrong count"])
    store.review(r1, rui, accept=True, note="ok")
    r2 = store.add_correction(t0, "Four; the last is shallow.", annotator=ana)
    assert (r1.revision, r2.revision) == (1, 2)
    store.review(r2, rui, accept=True)
    store.edit_question(t1, "Which side leads?", annotator=ana)
    store.set_trainable(t1, False)
    rows = {r.position: r for r in store.list_turns(conversation=conv, order="position")}
    assert (rows[0].status, rows[0].correction, rows[0].answer) == ("accepted", r2.text, "Three.")
    assert rows[1].trainable is False
    assert {r.turn_id for r in store.review_rows()} == {t0.id, t1.id}
    assert store.stats()["turns"] == 2
    with pytest.raises(StoreConflict):
        store.start_conversation(clip, ana, uid=conv.uid)
    summary = export_dataset(store, tmp_path / "out", "llava")
    assert summary.conversations == 1
    assert store.delete_clip(clip.sha256) == 1 and store.list_turns() == []
    store.close()


V1_TABLES = {
    "schema_version",
    "clip",
    "annotator",
    "conversation",
    "turn",
    "candidate",
    "correction",
    "review",
}


def _downgrade_to_v1(store: Store) -> None:
    """Make the store look as v1 made it (the later columns and tables gone, version 1)."""
    with store.engine.begin() as conn:
        for table in set(inspect(conn).get_table_names()) - V1_TABLES:  # nothing of v1 refers to them
            conn.execute(text(f"DROP TABLE {table}"))
        for table, column in [
            ("clip", "deleted_at"),
            ("clip", "media_missing"),
            ("conversation", "deleted_at"),
            ("turn", "trainable"),
            ("candidate", "measured_flag"),
        ]:
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(text("UPDATE schema_version SET version = 1"))


def test_migrations_from_v1_and_a_newer_database_refused(backend, tmp_path):
    store = backend.open()
    clip = store.add_clip(_motion(3), None, "upload")
    ana = store.get_or_create_annotator("ana")
    turn = store.add_turn(store.start_conversation(clip, ana), "How many?")
    fix = store.add_correction(turn, "Two.", annotator=ana)
    store.review(fix, store.get_or_create_annotator("rui", role="reviewer"), accept=True)
    _downgrade_to_v1(store)
    store.close()
    store = backend.open()
    assert store.migrated == list(range(2, SCHEMA_VERSION + 1))
    assert [r.correction for r in store.list_turns()] == ["Two."]
    store.set_trainable(turn, True)
    store.edit_question(turn, "How many reps?", annotator=ana)
    assert export_dataset(store, tmp_path / "out", "llava").trainable_turns == 1
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE schema_version SET version = 99"))
    store.close()
    with pytest.raises(LlamoError, match="newer than this LLaMo"):
        backend.open()


def test_answers_the_measurement_contradicts_are_kept_and_found(backend):
    """v5: each candidate keeps the measurement check's sentence; the review queue's filter and
    the statistics read the *latest* candidate, so a regenerated answer that agrees clears it."""
    store = backend.open()
    clip = store.add_clip(_motion(4), None, "upload")
    ana = store.get_or_create_annotator("ana")
    conv = store.start_conversation(clip, ana)
    leg, count, side = (store.add_turn(conv, q) for q in ("Which leg?", "How many?", "Which arm?"))
    flag = "The answer says the left leg; the joints show the right leg moving most."
    store.add_candidate(leg, "The left leg.", measured_flag=flag)
    store.add_candidate(count, "Four.", measured_flag="The answer says 4; the joints show 3 repetitions.")
    store.add_candidate(count, "Three.", regenerated=True)  # the latest answer agrees
    grounded = "The side is measured from the joints: the right arm's end travels 3.0 times as far as the left's (0.0-4.0 s)."
    store.add_candidate(side, "The right arm.", timings={"ttft_s": 0.1, "grounded": grounded})
    assert {r.turn_id: r.grounded for r in store.review_rows()} == {
        leg.id: "",
        count.id: "",
        side.id: grounded,
    }
    assert [r.turn_id for r in store.review_rows(flagged=True)] == [leg.id]
    assert store.review_rows(flagged=True)[0].flag == flag
    assert {r.turn_id: r.flag for r in store.review_rows()} == {leg.id: flag, count.id: "", side.id: ""}
    flags = [a.measured_flag for a in store.turn_record(count).model_answers]
    assert flags == ["The answer says 4; the joints show 3 repetitions.", ""]
    assert store.stats()["measured_otherwise_by_status"]["unreviewed"] == 1
    store.add_correction(leg, "The right leg.", annotator=ana)
    assert store.review_rows(status="unreviewed", flagged=True) == []  # corrected: off that list
    assert [r.turn_id for r in store.review_rows(status="corrected", flagged=True)] == [leg.id]
    assert store.stats()["measured_otherwise_by_status"] == {
        "unreviewed": 0,
        "corrected": 1,
        "accepted": 0,
        "rejected": 0,
    }
    # A v4 store (no such column) migrates: its answers have no flag, new ones keep theirs.
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE candidate DROP COLUMN measured_flag"))
        conn.execute(text("UPDATE schema_version SET version = 4"))
    store.close()
    store = backend.open()
    assert store.migrated == [5]
    assert [r.flag for r in store.review_rows()] == ["", "", ""]
    store.add_candidate(side, "The left arm.", measured_flag="The answer says the left arm; ...")
    assert [r.turn_id for r in store.review_rows(flagged=True)] == [side.id]
    store.close()


def _open_and_write(backend: Backend, i: int) -> None:
    store = backend.open()
    store.get_or_create_annotator(f"p{i}")
    store.get_or_create_annotator("shared")  # the same new name from every process at once
    store.close()


def test_processes_creating_the_same_new_store_at_once(backend):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_open_and_write, args=(backend, i)) for i in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * 6
    store = backend.open()
    assert store.integrity_check() == "ok" and store.migrated == []
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM annotator")).scalar() == 7
    store.close()


# --- many writers -----------------------------------------------------------------------------


def _write_corrections(backend: Backend, writer: int, turn_ids: list[int], who: int, n: int, store=None):
    own = store is None
    store = store or backend.open()
    try:
        for i in range(n):
            store.add_correction(
                turn_ids[(writer + i) % len(turn_ids)], f"w{writer:02d}-{i:03d}", annotator=who
            )
    finally:
        if own:
            store.close()


@dataclass(frozen=True)
class WritersResult:
    stored: int
    refused: int  # errors raised to a writer
    lost: int  # corrections a writer saw saved that are not in the database
    seconds: float


def _run_writers(backend: Backend, processes: int, threads: int, per_writer: int) -> WritersResult:
    """`processes` + `threads` writers append `per_writer` corrections each to 4 shared turns,
    then check every revision is there once, in each writer's order, numbered without gaps."""
    store = backend.open()
    ana = store.get_or_create_annotator("ana")
    conv = store.start_conversation(store.add_clip(_motion(), None, "example"), ana)
    turn_ids = [store.add_turn(conv, f"question {k}").id for k in range(4)]
    store.close()  # no open connections cross the fork
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_write_corrections, args=(backend, w, turn_ids, ana.id, per_writer))
        for w in range(processes)
    ]
    errors: list[BaseException] = []

    def thread_writer(w: int) -> None:
        try:
            _write_corrections(backend, w, turn_ids, ana.id, per_writer, store=shared)
        except BaseException as exc:  # noqa: BLE001 - counted below
            errors.append(exc)

    workers = [threading.Thread(target=thread_writer, args=(processes + w,)) for w in range(threads)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    shared = backend.open()  # after the forks: the app's case, one Store, many threads
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    for p in procs:
        p.join(timeout=600)
    seconds = time.perf_counter() - start
    refused = len(errors) + sum(p.exitcode != 0 for p in procs)
    with shared.engine.connect() as conn:
        rows = conn.execute(text("SELECT turn_id, revision, text FROM correction ORDER BY id")).fetchall()
    texts = [r[2] for r in rows]
    assert len(texts) == len(set(texts))  # each exactly once
    for w in range(processes + threads):  # each writer's revisions in its own order
        mine = [t for t in texts if t.startswith(f"w{w:02d}-")]
        assert mine == [f"w{w:02d}-{i:03d}" for i in range(len(mine))]
    for tid in turn_ids:  # per-turn revision numbers follow the id order, no gaps
        revs = [r[1] for r in rows if r[0] == tid]
        assert revs == list(range(1, len(revs) + 1))
    assert shared.integrity_check() == "ok"
    shared.close()
    expected = (processes + threads) * per_writer
    return WritersResult(len(rows), refused, expected - refused - len(rows), seconds)


def test_concurrent_writers_small(backend):
    result = _run_writers(backend, processes=2, threads=2, per_writer=25)
    assert (result.stored, result.refused, result.lost) == (100, 0, 0)


@pytest.fixture
def cpu_hog():
    """Another process group keeping both cores busy while the test runs."""
    hog = subprocess.Popen(
        [sys.executable, "-c", "import os\nos.fork()\nwhile True: pass"], start_new_session=True
    )
    yield
    os.killpg(hog.pid, signal.SIGKILL)
    hog.wait(timeout=30)


@pytest.mark.slow
def test_16_writers_200_corrections_each_under_a_cpu_hog(backend, cpu_hog):
    result = _run_writers(backend, processes=8, threads=8, per_writer=200)
    print(f"\n{backend.name}: {json.dumps(result.__dict__)} (8 processes + 8 threads, CPU hog running)")
    assert (result.stored, result.refused, result.lost) == (3200, 0, 0)


# --- contention surfaces only after the patience ---------------------------------------------


def _hold_write_lock(path: Path, seconds: float, held: threading.Event) -> None:
    import sqlite3

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    con.execute("ROLLBACK")
    con.close()


def test_a_lock_held_past_the_busy_timeout_is_waited_out(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)
    store = Store.open(tmp_path / "d", announce=False)
    ana = store.get_or_create_annotator("ana")
    turn = store.add_turn(store.start_conversation(None, ana), "How many?")
    held = threading.Event()
    locker = threading.Thread(target=_hold_write_lock, args=(store.engine.url.database, 1.5, held))
    locker.start()
    held.wait(5)
    fix = store.add_correction(turn, "Two.", annotator=ana)  # waits ~1.5 s: many busy timeouts
    locker.join()
    assert fix.revision == 1
    monkeypatch.setattr(db, "WRITE_PATIENCE_S", 0.5)
    held.clear()
    locker = threading.Thread(target=_hold_write_lock, args=(store.engine.url.database, 2.0, held))
    locker.start()
    held.wait(5)
    with pytest.raises(LlamoError, match="stayed busy for .* nothing was saved"):
        store.add_correction(turn, "Three.", annotator=ana)
    locker.join()
    assert [c.text for c in store.corrections(turn)] == ["Two."]
    store.close()
