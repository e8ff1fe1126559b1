"""The schema version and the steps that bring an older database up to it.

v1: the first store (clip, annotator, conversation, turn, candidate, correction, review).
v2: privacy deletion (`deleted_at`), the `media_missing` repair flag, per-turn `trainable`, and
recorded question edits (`question_edit`).
v3: teams: the `admin` role, team settings (`setting`), clip assignment (`assignment`) and the
export audit log (`export_audit`).
v4: time segments on a clip's motion (`segment`), revised like corrections.
v5: each model answer keeps the measurement check's sentence (`candidate.measured_flag`), so
reviewers can find the answers the joints contradict.

A new database is created at the current version. An older one is migrated one step at a time;
each step and its version bump commit together, so a crash leaves a consistent version, and a
second process opening the same database at once re-checks the version under the write lock
(SQLite's BEGIN IMMEDIATE; on PostgreSQL an advisory lock, and the DDL is transactional too).
"""

from __future__ import annotations

from sqlalchemy import Boolean, DateTime, String, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from annotations import db, models
from llamo.errors import LlamoError


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


def _v2_to_v3(conn) -> None:
    """v3: team settings, clip assignment, the export audit log (new tables only)."""
    for table in (models.Setting, models.Assignment, models.ExportAudit):
        table.__table__.create(conn)


def _v3_to_v4(conn) -> None:
    """v4: the time segments experts mark on a clip's motion (a new table only)."""
    models.Segment.__table__.create(conn)


def _v4_to_v5(conn) -> None:
    """v5: the measurement check's sentence on each model answer ("" on the answers before it)."""
    if "measured_flag" not in {c["name"] for c in inspect(conn).get_columns("candidate")}:
        _add_column(conn, "candidate", "measured_flag", String(), "''")


MIGRATIONS = {
    2: _v1_to_v2,
    3: _v2_to_v3,
    4: _v3_to_v4,
    5: _v4_to_v5,
}  # target version -> step from the version before


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


def _create(engine: Engine) -> None:
    with engine.begin() as conn:  # re-checked under the write lock: another process may have won
        db.lock_schema(conn)
        if "schema_version" not in inspect(conn).get_table_names():
            SQLModel.metadata.create_all(conn)
            conn.execute(
                text("INSERT INTO schema_version (id, version, updated_at) VALUES (1, :v, :t)"),
                {"v": models.SCHEMA_VERSION, "t": models.utcnow()},
            )


def ensure_schema(engine: Engine, before_migration=None) -> list[int]:
    """Create a new database at the current version, or migrate an older one step by step.

    `before_migration(old_version)` runs first (the store takes an online backup there).
    Returns the versions migrated to.
    """
    version = schema_version(engine)
    if version is None:
        _create(engine)
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
            db.lock_schema(conn)
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
