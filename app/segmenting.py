"""Time segments an expert marks on the open clip's timeline: add, edit, delete, list, and the
kinematics figure with them shaded. A part of `LlamoApp` (see app/core.py).

The store snaps times to the clip's frames and keeps every revision with its author
(annotations.segments); here: who may write, which clip the tab has open, and the table's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from app.identity import Identity
from app.session import Session, need_clip
from llamo.errors import LlamoError
from llamo.views.kinematics_plot import Band, with_bands


@dataclass(frozen=True)
class SegmentLine:
    """One row of the clip's segment table (its columns are these fields, in order)."""

    number: int
    start: float  # seconds, on a frame
    end: float
    label: str
    text: str
    author: str
    revision: int

    def cells(self) -> list:
        return [getattr(self, f) for f in SEGMENT_COLUMNS]


SEGMENT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(SegmentLine))


class SegmentsMixin:
    """Uses the host's `store`, `annotator()` and `_can_correct()` (LlamoApp sets them)."""

    store: object

    def _clip_id(self, session: Session) -> int:
        clip = need_clip(session)
        if clip.clip_id is None:
            raise LlamoError("this clip is not stored, so it cannot carry segments.")
        return clip.clip_id

    def snap_time(self, session: Session, seconds) -> float:
        """A time on the clip's nearest frame (what "from the cursor" fills in)."""
        clip = need_clip(session)
        return round(self.frame_at(session, seconds or 0.0) / clip.motion.fps, 4)

    def segment_lines(self, session: Session) -> list[SegmentLine]:
        """The open clip's live segments, in time order."""
        if session is None or session.clip is None or session.clip.clip_id is None:
            return []
        return [
            SegmentLine(
                g.number, round(g.start_s, 3), round(g.end_s, 3), g.label, g.text, g.author, g.revision
            )
            for g in self.store.segments(session.clip.clip_id)
        ]

    def add_segment(self, session: Session, start, end, label: str, text: str, ident: Identity | None):
        """Mark a segment (label required, text optional); times snap to frames in the store."""
        cid = self._clip_id(session)
        person = self.annotator(self._can_correct(ident))
        return self.store.add_segment(
            cid, start, end, (label or "").strip(), (text or "").strip(), annotator=person
        )

    def edit_segment(
        self, session: Session, number, start, end, label: str, text: str, ident: Identity | None
    ):
        """A new revision of segment `number`, by this annotator."""
        cid = self._clip_id(session)
        person = self.annotator(self._can_correct(ident))
        return self.store.edit_segment(
            cid, _number(number), start, end, (label or "").strip(), (text or "").strip(), annotator=person
        )

    def delete_segment(self, session: Session, number, ident: Identity | None):
        """Deleting appends a revision too (the segment leaves the table and the export)."""
        cid = self._clip_id(session)
        person = self.annotator(self._can_correct(ident))
        return self.store.delete_segment(cid, _number(number), annotator=person)

    def kinematics_with_segments(self, session: Session):
        """The clip's kinematics figure with its segments shaded (None before a clip)."""
        clip = session.clip if session is not None else None
        fig = clip.views.get("kinematics") if clip is not None else None
        if fig is None:
            return None
        return with_bands(
            fig, [Band(s.start, s.end, f"{s.number}: {s.label}") for s in self.segment_lines(session)]
        )


def _number(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise LlamoError("pick a segment in the table first (its number).") from None
    if number < 1:
        raise LlamoError("pick a segment in the table first (its number).")
    return number
