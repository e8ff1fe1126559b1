"""The annotation store's tables (SQLModel). Schema version 5; see migrations.py for history.

Every write appends: a correction is a new revision row (ordered by its autoincrement id), a
review names the exact revision it judged, a regeneration is a new candidate. Nothing the expert
typed is ever overwritten. Timestamps are UTC (timezone-aware; sqlmodel refuses naive ones).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

SCHEMA_VERSION = 5

STATUSES = ("unreviewed", "corrected", "accepted", "rejected")
ROLES = ("annotator", "reviewer", "admin")  # each may do what the ones before it do
SOURCES = ("upload", "example", "import", "synthetic")


def utcnow() -> datetime:
    return datetime.now(UTC)


class SchemaVersion(SQLModel, table=True):
    __tablename__ = "schema_version"
    id: int = Field(default=1, primary_key=True)
    version: int
    updated_at: datetime = Field(default_factory=utcnow)


class Clip(SQLModel, table=True):
    __tablename__ = "clip"
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True, index=True, max_length=64)  # of the original upload
    motion_path: str | None = None  # relative to the data dir: media/ab/<sha of npz>.npz
    video_path: str | None = None  # relative; None when not kept (or removed by retention)
    duration: float = 0.0
    fps: float = 0.0
    num_frames: int = 0
    source: str = "upload"
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None  # v2: privacy deletion; exports skip these
    media_missing: bool = False  # v2: `check` found its file gone and cleared the path


class Annotator(SQLModel, table=True):
    __tablename__ = "annotator"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=100)
    role: str = "annotator"  # annotator | reviewer | admin (v3)
    auth: str = "none"  # how they were authenticated: none | hf-oauth | token | import ...
    created_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(unique=True, index=True, max_length=64)  # stable across stores (import/merge)
    clip_id: int | None = Field(default=None, foreign_key="clip.id", index=True)
    annotator_id: int = Field(foreign_key="annotator.id", index=True)
    model_id: str = ""  # checkpoint id
    model_sha: str = ""  # checkpoint hash
    backbone: str = ""
    settings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None  # v2


class Turn(SQLModel, table=True):
    __tablename__ = "turn"
    __table_args__ = (UniqueConstraint("conversation_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    position: int  # 0-based within the conversation
    question: str  # as the user asked it; never edited in place (edits go to QuestionEdit)
    timings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="unreviewed", index=True)
    # v2: None = derived (trainable iff the exported answer is an expert's); True/False = decided.
    trainable: bool | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class Candidate(SQLModel, table=True):
    """One model generation for a turn: regenerate adds one, Stop keeps a partial one."""

    __tablename__ = "candidate"
    id: int | None = Field(default=None, primary_key=True)
    turn_id: int = Field(foreign_key="turn.id", index=True)
    text: str
    partial: bool = False
    regenerated: bool = False
    timings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    settings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    # v5: where this answer and the clip's measured joints disagree, the sentence that says how
    # (`llamo.answer_check`), as shown under the answer; "" when they agree or nothing is compared.
    measured_flag: str = ""


class Correction(SQLModel, table=True):
    """An append-only revision of an expert's corrected answer to a turn."""

    __tablename__ = "correction"
    __table_args__ = (UniqueConstraint("turn_id", "revision"), {"sqlite_autoincrement": True})
    id: int | None = Field(default=None, primary_key=True)  # AUTOINCREMENT order = revision order
    turn_id: int = Field(foreign_key="turn.id", index=True)
    annotator_id: int = Field(foreign_key="annotator.id", index=True)
    revision: int  # 1, 2, ... per turn; a UNIQUE guard, computed inside BEGIN IMMEDIATE
    text: str
    rating: int | None = None  # 1..5 of the model's answer
    tags: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class QuestionEdit(SQLModel, table=True):
    """v2: an edit of the user's question, recorded beside (never over) the asked question."""

    __tablename__ = "question_edit"
    id: int | None = Field(default=None, primary_key=True)
    turn_id: int = Field(foreign_key="turn.id", index=True)
    annotator_id: int = Field(foreign_key="annotator.id")
    text: str
    created_at: datetime = Field(default_factory=utcnow)


class Review(SQLModel, table=True):
    __tablename__ = "review"
    id: int | None = Field(default=None, primary_key=True)
    correction_id: int = Field(foreign_key="correction.id", index=True)
    reviewer_id: int = Field(foreign_key="annotator.id")
    accept: bool
    note: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Setting(SQLModel, table=True):
    """v3: a team setting an admin changes (guidelines, blind mode, overlap); the latest row wins."""

    __tablename__ = "setting"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, max_length=64)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # {"value": ...}
    annotator_id: int | None = Field(default=None, foreign_key="annotator.id")
    created_at: datetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """v3: a clip given to an annotator (each clip to N of them: the overlap)."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("clip_id", "annotator_id"),)
    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clip.id", index=True)
    annotator_id: int = Field(foreign_key="annotator.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class ExportAudit(SQLModel, table=True):
    """v3: who took data out, when, with which filters, and how much."""

    __tablename__ = "export_audit"
    id: int | None = Field(default=None, primary_key=True)
    annotator_id: int | None = Field(default=None, foreign_key="annotator.id")
    what: str = Field(max_length=64)  # the format: llava | messages | dpo | push ...
    filters: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rows: int = 0
    conversations: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Segment(SQLModel, table=True):
    """v4: an append-only revision of a time segment an expert marked on a clip's motion.

    A segment is (clip, number); each edit, and the deletion, is a new revision, so who said
    what about which frames stays on record. Times are frames of the clip (start_frame / fps to
    end_frame / fps), so they stay frame-accurate whatever the display rounds to.
    """

    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("clip_id", "number", "revision"), {"sqlite_autoincrement": True})
    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clip.id", index=True)
    number: int  # 1, 2, ... per clip: the segment's identity across its revisions
    revision: int  # 1, 2, ... per (clip, number)
    annotator_id: int = Field(foreign_key="annotator.id", index=True)
    start_frame: int
    end_frame: int
    label: str
    text: str = ""
    deleted: bool = False  # a deletion is a revision too
    created_at: datetime = Field(default_factory=utcnow)


Index("ix_correction_turn_id_id", Correction.__table__.c.turn_id, Correction.__table__.c.id)


def row_id(obj) -> int:
    """The id of a model object, or the integer id itself (store methods take either)."""
    return int(obj if isinstance(obj, int) else obj.id)
