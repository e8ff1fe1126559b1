"""Where the data lives and the engine (the schema and its migrations: migrations.py).

SQLite (the default) is opened in WAL mode with foreign keys on and a 30 s busy timeout. The
driver's own transaction handling is switched off and SQLAlchemy's `begin` event issues
`BEGIN IMMEDIATE` for writes (the pattern SQLAlchemy documents for pysqlite), so a writer takes
the write lock before it reads: no max()+1 race and no "database is locked" on lock upgrade.
Reads use a deferred `BEGIN` and never wait for writers (WAL). A writer that still finds the
lock held past the busy timeout (a loaded machine) is retried by the store (`is_busy`), with
jittered exponential back-off, for up to WRITE_PATIENCE_S in all.

`LLAMO_DATABASE_URL=postgresql://...` runs the same store on PostgreSQL through psycopg 3
(READ COMMITTED; the writes lock the row they number under with `SELECT ... FOR UPDATE`, and
serialization failures, deadlocks and uniqueness races are retried like a busy SQLite).

`synchronous` defaults to FULL: a correction the expert saw saved survives power loss and OS
crashes, not only application crashes (NORMAL). It costs a few ms per commit, which is
invisible at human editing speed. `LLAMO_SQLITE_SYNCHRONOUS=NORMAL` trades that for speed.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from llamo.errors import LlamoError

BUSY_TIMEOUT_S = 30.0  # one attempt's wait for SQLite's write lock
WRITE_PATIENCE_S = 120.0  # all attempts of one unit of work together
SCHEMA_LOCK_KEY = 0x11A3_0D0B  # PostgreSQL advisory lock held while creating or migrating
RETRY_SQLSTATES = {"40001", "40P01"}  # PostgreSQL: serialization failure, deadlock detected
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
DEFAULT_SYNCHRONOUS = "FULL"


def default_data_dir() -> Path:
    """LLAMO_DATA_DIR, else on a mounted storage bucket (LLAMO_BUCKET_DIR, default /data), else
    ./data (`llamo.storage.storage_plan`)."""
    from llamo.storage import storage_plan

    return storage_plan().data_dir


def synchronous_level() -> str:
    level = os.environ.get("LLAMO_SQLITE_SYNCHRONOUS", DEFAULT_SYNCHRONOUS).upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise LlamoError(
            f"LLAMO_SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS_LEVELS)}, not {level!r}."
        )
    return level


def server_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (SQLAlchemy's bare default is psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, synchronous: str = DEFAULT_SYNCHRONOUS) -> Engine:
    if not url.startswith("sqlite"):
        # PostgreSQL: portable SQLAlchemy, row locks where revisions are numbered, retries (store.py).
        return create_engine(server_url(url), pool_pre_ping=True, pool_size=8, max_overflow=16)
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        pool_size=8,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see the begin event)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql("BEGIN" if mode == "DEFERRED" else "BEGIN IMMEDIATE")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def is_busy(exc: DBAPIError) -> bool:
    """A refusal that goes away by itself: SQLite's lock held too long, a PostgreSQL
    serialization failure or deadlock. Worth retrying the whole unit of work."""
    if getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message


def lock_schema(conn) -> None:
    """Serialize schema creation and migration across processes (SQLite: BEGIN IMMEDIATE did)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
