"""Where data and caches live, on a laptop and on a Hugging Face Space.

A Space's own disk is ephemeral: a restart loses it. Persistent storage is an attached
Storage Bucket, mounted as a folder: LLAMO_BUCKET_DIR names it (default /data, where the
Space settings mount it by convention). With a bucket, annotations go to BUCKET/llamo and
caches to BUCKET/cache (the converted backbone, LLAMO's own; the Hub's under BUCKET/cache/hf
unless HF_HOME is set), so a restart neither loses work nor downloads the model again.
LLAMO_DATA_DIR and LLAMO_CACHE_DIR override each."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BUCKET = "/data"


@dataclass(frozen=True)
class StoragePlan:
    """The folders one process uses, and whether the data survives a restart."""

    data_dir: Path
    cache_dir: Path
    bucket: Path | None  # the mounted bucket, when there is one
    persistent: bool  # the data dir is on the bucket (or chosen by the user, or not on a Space)
    why: str  # one sentence for the page and the log


def bucket_dir(env=None) -> Path | None:
    env = os.environ if env is None else env
    path = Path(env.get("LLAMO_BUCKET_DIR") or DEFAULT_BUCKET).expanduser()
    return path if path.is_dir() and os.access(path, os.W_OK) else None


def storage_plan(env=None) -> StoragePlan:
    """LLAMO_DATA_DIR / LLAMO_CACHE_DIR, else on the bucket when one is mounted, else ./data and
    ~/.cache/llamo. On a Space (SPACE_ID set) without a bucket, the data is marked ephemeral."""
    env = os.environ if env is None else env
    bucket = bucket_dir(env)
    on_space = bool(env.get("SPACE_ID"))
    if env.get("LLAMO_DATA_DIR"):
        data = Path(env["LLAMO_DATA_DIR"]).expanduser()
    elif bucket is not None:
        data = bucket if _has_old_store(bucket) else bucket / "llamo"
    else:
        data = Path("data")
    if env.get("LLAMO_CACHE_DIR"):
        cache = Path(env["LLAMO_CACHE_DIR"]).expanduser()
    elif bucket is not None:
        cache = bucket / "cache"
    else:
        cache = Path.home() / ".cache" / "llamo"
    on_bucket = bucket is not None and _inside(data, bucket)
    persistent = on_bucket or not on_space
    if on_bucket:
        why = f"annotations are kept on the attached storage ({bucket})."
    elif persistent:
        why = f"annotations are kept in {data}."
    else:
        why = (
            "this Space has no attached storage bucket, so annotations are lost when it restarts. "
            f"Attach a Storage Bucket mounted at {DEFAULT_BUCKET} (or set LLAMO_BUCKET_DIR), or set "
            "LLAMO_BACKUP_REPO to back up to a private Hub dataset."
        )
    return StoragePlan(data, cache, bucket, persistent, why)


def _has_old_store(bucket: Path) -> bool:
    """A store written straight into /data by earlier versions stays where it is."""
    return (bucket / "annotations.sqlite3").exists()


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def hub_cache_env(plan: StoragePlan, env=None) -> None:
    """Point the Hub's cache at the bucket (HF_HOME) when one is mounted and HF_HOME is unset,
    before anything imports huggingface_hub."""
    env = os.environ if env is None else env
    if plan.bucket is not None and not env.get("HF_HOME"):
        env["HF_HOME"] = str(plan.cache_dir / "hf")
