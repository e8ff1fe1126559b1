"""Where the data lives, the engine, and the schema version with its migrations.

SQLite (the default) is opened in WAL mode with foreign keys on and a 30 s busy timeout. The
driver's own transaction handling is switched off and SQLAlchemy's `begin` event issues
`BEGIN IMMEDIATE` for writes (the pattern SQLAlchemy documents for pysqlite), so a writer takes
the write lock before it reads: no max()+1 race and no "database is locked" on lock upgrade.
Reads use a deferred `BEGIN` and never wait for writers (WAL).

`synchronous` defaults to FULL: a correction the expert saw saved survives power loss and OS
crashes, not only application crashes (NORMAL). It costs a few ms per commit, which is
invisible at human editing speed. `LLAMO_SQLITE_SYNCHRONOUS=NORMAL` trades that for speed.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Boolean, DateTime, create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from annotations import models
from llamo.errors import LlamoError

BUSY_TIMEOUT_S = 30.0
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
DEFAULT_SYNCHRONOUS = "FULL"


def default_data_dir() -> Path:
    """LLAMO_DATA_DIR, else /data when it exists (Hugging Face Spaces' persistent disk), else ./data."""
    env = os.environ.get("LLAMO_DATA_DIR")
    if env:
        return Path(env).expanduser()
    if Path("/data").is_dir():
        return Path("/data")
    return Path("data")


def synchronous_level() -> str:
    level = os.environ.get("LLAMO_SQLITE_SYNCHRONOUS", DEFAULT_SYNCHRONOUS).upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise LlamoError(
            f"LLAMO_SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS_LEVELS)}, not {level!r}."
        )
    return level


def make_engine(url: str, synchronous: str = DEFAULT_SYNCHRONOUS) -> Engine:
    if not url.startswith("sqlite"):
        # PostgreSQL (or another server): portable SQLAlchemy only; the store retries on IntegrityError.
        return create_engine(url, pool_pre_ping=True)
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


# --- schema version and migrations ----------------------------------------------------------


def _add_column(conn, table: str, column: str, type_, default_sql: str | None) -> None:
    type_sql = type_.compile(dialect=conn.dialect)
    default = f" DEFAULT {default_sql}" if default_sql is not None else ""
    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {type_sql}{default}"))


def _v1_to_v2(conn) -> None:
    """v2: privacy deletion, media_missing repair flag, per-turn trainable, recorded question edits."""
    _add_column(conn, "clip", "deleted_at", DateTime(), None)
    _add_column(conn, "clip", "media_missing", Boolean(), "FALSE" if conn.dialect.name != "sqlite" else "0")
    _add_column(conn, "conversation", "deleted_at", DateTime(), None)
    _add_column(conn, "turn", "trainable", Boolean(), None)
    models.QuestionEdit.__table__.create(conn)


MIGRATIONS = {2: _v1_to_v2}  # target version -> step from the version before


def schema_version(engine: Engine) -> int | None:
    """The stored version, None for an empty database."""
    names = set(inspect(engine).get_table_names())
    if "schema_version" not in names:
        if "clip" in names:
            raise LlamoError("the database has tables but no schema_version; it was not made by LLaMo.")
        return None
    with engine.connect() as conn:
        row = conn.execute(text("SELECT version FROM schema_version WHERE id = 1")).first()
    return int(row[0]) if row else None


def ensure_schema(engine: Engine, before_migration=None) -> list[int]:
    """Create a new database at the current version, or migrate an older one step by step.

    `before_migration(old_version)` runs first (the store takes an online backup there). Each
    step and its version bump commit together, so a crash leaves a consistent version.
    """
    version = schema_version(engine)
    if version is None:
        with engine.begin() as conn:  # re-checked under the write lock: another process may have won
            if "schema_version" not in inspect(conn).get_table_names():
                SQLModel.metadata.create_all(conn)
                conn.execute(
                    text("INSERT INTO schema_version (id, version, updated_at) VALUES (1, :v, :t)"),
                    {"v": models.SCHEMA_VERSION, "t": models.utcnow()},
                )
        version = schema_version(engine)
    if version > models.SCHEMA_VERSION:
        raise LlamoError(
            f"the database is at schema version {version}, newer than this LLaMo ({models.SCHEMA_VERSION})."
        )
    applied = []
    if version < models.SCHEMA_VERSION and before_migration is not None:
        before_migration(version)
    while version < models.SCHEMA_VERSION:
        step = MIGRATIONS[version + 1]
        with engine.begin() as conn:
            now = conn.execute(text("SELECT version FROM schema_version WHERE id = 1")).scalar_one()
            if now == version:  # not already done by a concurrent opener
                step(conn)
                conn.execute(
                    text("UPDATE schema_version SET version = :v, updated_at = :t WHERE id = 1"),
                    {"v": version + 1, "t": models.utcnow()},
                )
                applied.append(version + 1)
        version += 1
    return applied
