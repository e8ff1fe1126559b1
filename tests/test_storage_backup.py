"""Spaces as they are now (issue 18.7): data and caches on an attached storage bucket when one
is mounted, the page told when storage is ephemeral, and backups to a dataset (a local
folder here: there is no hub) on demand and on a timer."""

from __future__ import annotations

import time
from pathlib import Path

import datasets
import pytest
from test_annotations import accepted_store

from annotations.hub_backup import HubBackup
from annotations.store import Store
from llamo.errors import LlamoError
from llamo.storage import hub_cache_env, storage_plan


def test_bucket_holds_data_and_cache(tmp_path):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    plan = storage_plan({"SPACE_ID": "me/llamo", "LLAMO_BUCKET_DIR": str(bucket)})
    assert plan.data_dir == bucket / "llamo" and plan.cache_dir == bucket / "cache"
    assert plan.persistent and plan.bucket == bucket
    env: dict = {}
    hub_cache_env(plan, env)
    assert env["HF_HOME"] == str(bucket / "cache" / "hf")
    (bucket / "annotations.sqlite3").write_bytes(b"")  # a store an earlier version wrote into /data
    assert storage_plan({"LLAMO_BUCKET_DIR": str(bucket)}).data_dir == bucket


def test_space_without_bucket_is_ephemeral_and_says_so(tmp_path):
    plan = storage_plan({"SPACE_ID": "me/llamo", "LLAMO_BUCKET_DIR": str(tmp_path / "none")})
    assert not plan.persistent and plan.bucket is None
    assert "lost when it restarts" in plan.why and "LLAMO_BUCKET_DIR" in plan.why
    # an explicit data dir on the bucket is persistent, one elsewhere on a Space is not
    plan = storage_plan(
        {"SPACE_ID": "x", "LLAMO_DATA_DIR": str(tmp_path / "d"), "LLAMO_BUCKET_DIR": str(tmp_path)}
    )
    assert plan.persistent
    assert not storage_plan(
        {"SPACE_ID": "x", "LLAMO_DATA_DIR": "/tmp/elsewhere", "LLAMO_BUCKET_DIR": str(tmp_path)}
    ).persistent
    local = storage_plan({"LLAMO_BUCKET_DIR": str(tmp_path / "none")})
    assert local.persistent and local.data_dir == Path("data")


def test_page_shows_the_ephemeral_note(tmp_path, monkeypatch):
    from app import AppConfig, create_app
    from llamo.testing import tiny_model

    monkeypatch.setenv("SPACE_ID", "me/llamo")
    monkeypatch.setenv("LLAMO_BUCKET_DIR", str(tmp_path / "no-bucket"))
    cfg = AppConfig.from_env()
    assert cfg.on_spaces and not cfg.persistent_storage
    demo = create_app(tiny_model(), Store.open(tmp_path / "d", announce=False), cfg)
    notes = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "llamo-warn"]
    assert notes and "Storage is ephemeral" in notes[0].value and "lost when it restarts" in notes[0].value
    demo.close()


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "data", announce=False)
    accepted_store(s)
    yield s
    s.close()


def test_on_demand_backup_to_a_local_folder_loads_back(store, tmp_path):
    backup = HubBackup(store, str(tmp_path / "backups"))
    first = backup.run_once()
    second = backup.run_once()
    assert first.target != second.target and first.rows > 0
    ds = datasets.load_from_disk(second.target)
    assert len(ds) == first.rows and (Path(second.target) / "README.md").is_file()


def test_periodic_backup_runs_on_its_timer_and_once_at_stop(store, tmp_path):
    backup = HubBackup(store, str(tmp_path / "backups"), every_s=0.5)
    backup.start()
    deadline = time.monotonic() + 60
    while backup.last is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert backup.last is not None, "no backup within 60 s of a 0.5 s timer"
    backup.stop(final=True)
    made = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert len(made) >= 2 and not backup.errors


def test_backup_from_env(store):
    assert HubBackup.from_env(store, {}) is None
    b = HubBackup.from_env(store, {"LLAMO_BACKUP_REPO": "org/llamo-backup"})
    assert b is not None and not b.is_local and b.every_s == 3600
    with pytest.raises(LlamoError, match="at least 60"):
        HubBackup.from_env(store, {"LLAMO_BACKUP_REPO": "org/x", "LLAMO_BACKUP_EVERY_S": "5"})
