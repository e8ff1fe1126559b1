"""The SQLite store under stress: SIGKILL mid-transaction and mid-upload, migration from a v1 file.

Many concurrent writers and concurrent openers, on SQLite and PostgreSQL: test_store_backends.py.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from annotations.export import export_dataset
from annotations.models import SCHEMA_VERSION
from annotations.store import Store
from llamo.motion import Motion

ROOT = Path(__file__).resolve().parents[1]


def _motion(seed: int = 0) -> Motion:
    return Motion.from_joints(np.random.default_rng(seed).normal(size=(30, 22, 3)), 20.0)


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from annotations.store import Store
    from llamo.motion import Motion

    mode, data = sys.argv[1], sys.argv[2]
    store = Store.open(data, announce=False)
    ana = store.get_or_create_annotator("ana")
    turn = store.list_turns(limit=1)[0].turn_id
    if mode == "transaction":
        for i in range(30):
            fix = store.add_correction(turn, f"committed {i}", annotator=ana)
            print("committed", fix.id, flush=True)
        with store._write() as s:  # a big unit of work, killed before it commits
            from annotations.models import Correction
            for i in range(500):
                s.add(Correction(turn_id=turn, annotator_id=ana.id, revision=1000 + i, text=f"uncommitted {i}"))
            s.flush()
            print("inside", flush=True)
            time.sleep(60)
    else:  # media written, row not yet committed
        real = Store._write_media
        def write_then_hang(self, motion, path):
            out = real(self, motion, path)
            print("media", out[0], flush=True)
            time.sleep(60)
            return out
        Store._write_media = write_then_hang
        m = Motion.from_joints(np.random.default_rng(7).normal(size=(30, 22, 3)), 20.0)
        store.add_clip(m, None, "upload", sha256="c" * 64)
    """
)


def _kill_when(data: Path, mode: str, marker: str) -> list[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(data)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith(marker):
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert lines and lines[-1].startswith(marker), lines
    return lines


def _seeded(tmp_path) -> Path:
    data = tmp_path / "data"
    store = Store.open(data, announce=False)
    clip = store.add_clip(_motion(), None, "example")
    conv = store.start_conversation(clip, store.get_or_create_annotator("ana"))
    store.add_turn(conv, "How many?")
    store.close()
    return data


def test_sigkill_inside_a_transaction_keeps_committed_data(tmp_path):
    data = _seeded(tmp_path)
    lines = _kill_when(data, "transaction", "inside")
    committed = [int(x.split()[1]) for x in lines if x.startswith("committed")]
    assert len(committed) == 30
    store = Store.open(data, announce=False)  # opens (WAL recovery) after the kill
    assert store.integrity_check() == "ok"
    texts = [c.text for c in store.corrections(store.list_turns()[0].turn_id)]
    assert texts == [f"committed {i}" for i in range(30)]  # all committed, nothing of the killed unit
    report = store.check(grace_s=0)
    assert report.ok and not report.orphan_files and not report.missing_media
    store.close()


def test_sigkill_between_media_write_and_row_commit_leaves_no_orphan_after_check(tmp_path):
    data = _seeded(tmp_path)
    lines = _kill_when(data, "media", "media")
    orphan = data / lines[-1].split()[1]
    assert orphan.is_file()
    store = Store.open(data, announce=False)
    assert store.integrity_check() == "ok"
    assert store.get_clip("c" * 64) is None  # the row never committed
    report = store.check(grace_s=0)
    assert report.ok and report.orphan_files == [lines[-1].split()[1]] and not orphan.exists()
    again = store.check(grace_s=0)
    assert again.orphan_files == [] and again.temp_files == [] and again.missing_media == []
    assert store.stats()["turns"] == 1  # committed data kept
    store.close()


# The first version's schema, as v1 of the store created it (kept verbatim; do not "update" it).
V1_SCHEMA = """
CREATE TABLE schema_version (id INTEGER NOT NULL PRIMARY KEY, version INTEGER NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE clip (id INTEGER NOT NULL PRIMARY KEY, sha256 VARCHAR(64) NOT NULL UNIQUE, motion_path VARCHAR,
  video_path VARCHAR, duration FLOAT NOT NULL, fps FLOAT NOT NULL, num_frames INTEGER NOT NULL, source VARCHAR NOT NULL,
  meta JSON NOT NULL, created_at DATETIME NOT NULL);
CREATE TABLE annotator (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, role VARCHAR NOT NULL,
  auth VARCHAR NOT NULL, created_at DATETIME NOT NULL);
CREATE TABLE conversation (id INTEGER NOT NULL PRIMARY KEY, uid VARCHAR(64) NOT NULL UNIQUE,
  clip_id INTEGER REFERENCES clip (id), annotator_id INTEGER NOT NULL REFERENCES annotator (id),
  model_id VARCHAR NOT NULL, model_sha VARCHAR NOT NULL, backbone VARCHAR NOT NULL, settings JSON NOT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE turn (id INTEGER NOT NULL PRIMARY KEY, conversation_id INTEGER NOT NULL REFERENCES conversation (id),
  position INTEGER NOT NULL, question VARCHAR NOT NULL, timings JSON NOT NULL, status VARCHAR NOT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, UNIQUE (conversation_id, position));
CREATE TABLE candidate (id INTEGER NOT NULL PRIMARY KEY, turn_id INTEGER NOT NULL REFERENCES turn (id),
  text VARCHAR NOT NULL, partial BOOLEAN NOT NULL, regenerated BOOLEAN NOT NULL, timings JSON NOT NULL,
  settings JSON NOT NULL, created_at DATETIME NOT NULL);
CREATE TABLE correction (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, turn_id INTEGER NOT NULL REFERENCES turn (id),
  annotator_id INTEGER NOT NULL REFERENCES annotator (id), revision INTEGER NOT NULL, text VARCHAR NOT NULL,
  rating INTEGER, tags JSON NOT NULL, created_at DATETIME NOT NULL, UNIQUE (turn_id, revision));
CREATE TABLE review (id INTEGER NOT NULL PRIMARY KEY, correction_id INTEGER NOT NULL REFERENCES correction (id),
  reviewer_id INTEGER NOT NULL REFERENCES annotator (id), accept BOOLEAN NOT NULL, note VARCHAR NOT NULL,
  created_at DATETIME NOT NULL);
"""


def test_a_v1_database_opens_migrated_without_loss(tmp_path):
    data = tmp_path / "data"
    media = data / "media" / "ab"
    media.mkdir(parents=True)
    npz = media / "v1motion.npz"
    _motion(5).save(npz)
    t = "2026-01-02 03:04:05.000000"
    con = sqlite3.connect(data / "annotations.sqlite3")
    con.executescript(V1_SCHEMA)
    con.executescript(
        f"""
        INSERT INTO schema_version VALUES (1, 1, '{t}');
        INSERT INTO clip VALUES (1, '{"a" * 64}', 'media/ab/v1motion.npz', NULL, 1.5, 20.0, 30, 'upload', '{{}}', '{t}');
        INSERT INTO annotator VALUES (1, 'ana', 'annotator', 'none', '{t}'), (2, 'rui', 'reviewer', 'none', '{t}');
        INSERT INTO conversation VALUES (1, 'conv-v1', 1, 1, 'ckpt-0', 'beef', 'SmolLM2', '{{"temperature": 0.0}}', '{t}', '{t}');
        INSERT INTO turn VALUES (1, 1, 0, 'How many squats? 🏋', '{{}}', 'accepted', '{t}', '{t}'),
                                (2, 1, 1, 'Which side?', '{{}}', 'unreviewed', '{t}', '{t}');
        INSERT INTO candidate VALUES (1, 1, 'Three.', 0, 0, '{{}}', '{{}}', '{t}'), (2, 2, 'Left.', 0, 0, '{{}}', '{{}}', '{t}');
        INSERT INTO correction VALUES (1, 1, 1, 1, 'Four squats.', 2, '["wrong count"]', '{t}');
        INSERT INTO review VALUES (1, 1, 2, 1, 'ok', '{t}');
        """
    )
    con.commit()
    con.close()

    store = Store.open(data, announce=False)
    assert store.migrated == list(range(2, SCHEMA_VERSION + 1))
    backups = list((data / "backups").iterdir())
    assert (
        len(backups) == 1 and f"before-v1-to-v{SCHEMA_VERSION}" in backups[0].name
    )  # taken before migrating
    rows = sorted(store.list_turns(), key=lambda r: r.position)
    assert [(r.question, r.status, r.correction, r.answer, r.trainable) for r in rows] == [
        ("How many squats? 🏋", "accepted", "Four squats.", "Three.", None),
        ("Which side?", "unreviewed", None, "Left.", None),
    ]
    assert store.corrections(1)[0].tags == ["wrong count"]
    # v2 features work on the migrated file.
    store.set_trainable(2, False)
    store.edit_question(1, "How many full squats?", annotator=1)
    fix = store.add_correction(2, "The right side.", annotator=1)
    assert fix.id == 2 and fix.revision == 1
    summary = export_dataset(store, tmp_path / "out", "llava")
    assert (summary.conversations, summary.trainable_turns) == (1, 1)
    store.close()
    again = Store.open(data, announce=False)  # already current: nothing to do
    assert again.migrated == [] and again.integrity_check() == "ok"
    again.close()


def test_a_newer_database_is_refused(tmp_path):
    store = Store.open(tmp_path / "d", announce=False)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE schema_version SET version = 99")
    store.close()
    from llamo.errors import LlamoError

    with pytest.raises(LlamoError, match="newer than this LLaMo"):
        Store.open(tmp_path / "d", announce=False)


def test_media_files_are_immutable_and_content_addressed(tmp_path):
    store = Store.open(tmp_path / "d", announce=False)
    a = store.add_clip(_motion(1), None, "example", sha256="1" * 64)
    b = store.add_clip(_motion(1), None, "example", sha256="2" * 64)  # same content, another clip
    assert a.motion_path == b.motion_path and Path(a.motion_path).stem != a.sha256
    assert store.add_clip(_motion(1), None, "example", sha256="1" * 64).id == a.id  # idempotent
    path = store.path(a.motion_path)
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert oct(path.stat().st_mode & 0o777) == "0o444"
    assert list((store.media_dir / ".tmp").iterdir()) == []
    store.delete_clip("1" * 64)
    assert path.exists()  # still used by the other clip
    store.close()


def test_unusable_data_dir_is_one_sentence(tmp_path):
    from llamo.errors import LlamoError

    (tmp_path / "file").write_text("")
    with pytest.raises(LlamoError, match="cannot create the data directory"):
        Store.open(tmp_path / "file" / "data", announce=False)
