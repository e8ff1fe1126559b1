"""Time segments on a clip's motion: an expert's label (and optional text) over a range of frames.

`SegmentWrites` is part of `Store` (mixed in like `ConversationWrites`). A segment is numbered
within its clip; adding, editing and deleting each append a revision with its author, as
corrections do, so nothing an expert marked is overwritten. Times arrive in seconds and are
snapped to the clip's frames (start_frame / fps .. end_frame / fps), so what is stored is
frame-accurate and the same at any display rounding.

The reads return `SegmentRow`s (the latest revision of each segment, or one segment's history);
`clip_segments` gives the export every clip's live segments in two SELECTs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from annotations.limits import MAX_NOTE, check_text
from annotations.models import Annotator, Clip, Segment, row_id
from llamo.errors import LlamoError

MAX_LABEL = 200  # a segment's label ("rep 2: knee valgus")


@dataclass(frozen=True)
class SegmentRow:
    """One revision of a segment, with its times in seconds and its author's name."""

    clip_id: int
    clip_sha256: str
    number: int
    revision: int
    author: str
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    label: str
    text: str
    deleted: bool
    created_at: datetime


@dataclass(frozen=True)
class ClipSegments:
    """A clip's live segments (latest revisions, in time order) with its media, for the export."""

    clip_sha256: str
    motion_path: str | None
    video_path: str | None
    segments: tuple[SegmentRow, ...]


def snap(seconds, fps: float, num_frames: int, what: str) -> int:
    """Seconds into the clip -> the nearest frame boundary (0 .. num_frames)."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise LlamoError(f"the segment's {what} must be a number of seconds, not {seconds!r}.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise LlamoError(f"the segment's {what} must be a finite number of seconds.")
    duration = num_frames / fps
    if value < -0.5 / fps or value > duration + 0.5 / fps:
        raise LlamoError(f"the segment's {what} ({value:g} s) is outside the clip (0 to {duration:.2f} s).")
    return max(0, min(num_frames, round(value * fps)))


def _row(seg: Segment, clip: Clip, author: str) -> SegmentRow:
    return SegmentRow(
        clip_id=seg.clip_id,
        clip_sha256=clip.sha256,
        number=seg.number,
        revision=seg.revision,
        author=author,
        start_frame=seg.start_frame,
        end_frame=seg.end_frame,
        start_s=seg.start_frame / clip.fps,
        end_s=seg.end_frame / clip.fps,
        label=seg.label,
        text=seg.text,
        deleted=seg.deleted,
        created_at=seg.created_at,
    )


def _check_words(label: str, text: str) -> None:
    check_text(label, "The segment's label", MAX_LABEL)
    check_text(text, "The segment's text", MAX_NOTE, allow_empty=True)


def _latest(s: Session, clip_id: int, number: int) -> Segment | None:
    return s.exec(
        select(Segment)
        .where(Segment.clip_id == clip_id, Segment.number == number)
        .order_by(Segment.revision.desc())
    ).first()


def _content(change: tuple | None, clip: Clip, prev: Segment | None) -> tuple[int, int, str, str]:
    """(start frame, end frame, label, text) of a new revision: the change snapped to the clip's
    frames, or for a deletion the segment's last words."""
    if change is None:
        return prev.start_frame, prev.end_frame, prev.label, prev.text
    start_s, end_s, label, text = change
    start = snap(start_s, clip.fps, clip.num_frames, "start")
    end = snap(end_s, clip.fps, clip.num_frames, "end")
    if end <= start:
        raise LlamoError("the segment must end at least one frame after it starts.")
    return start, end, label, text


def _latest_ids(clip_id: int | None = None):
    """The id of each segment's latest revision (a subquery)."""
    q = select(func.max(Segment.id)).group_by(Segment.clip_id, Segment.number)
    return q.where(Segment.clip_id == clip_id) if clip_id is not None else q


class SegmentWrites:
    """The segment writes and reads. Needs the Store's `_unit_of_work` and `_read`.

    Each write locks the clip's row first (a row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE
    already serialises), so numbers and revisions are never raced."""

    def add_segment(self, clip: Clip | int, start_s, end_s, label: str, text: str = "", *,
                    annotator: Annotator | int) -> SegmentRow:  # fmt: skip
        """Mark a new segment on a clip: number = the clip's next, revision 1."""
        return self._segment_revision(clip, None, (start_s, end_s, label, text), annotator)

    def edit_segment(self, clip: Clip | int, number: int, start_s, end_s, label: str, text: str = "", *,
                     annotator: Annotator | int) -> SegmentRow:  # fmt: skip
        """A new revision of segment `number` (its times, label or text changed)."""
        return self._segment_revision(clip, int(number), (start_s, end_s, label, text), annotator)

    def delete_segment(self, clip: Clip | int, number: int, *, annotator: Annotator | int) -> SegmentRow:
        """Deleting is a revision too: the segment's last words, marked deleted."""
        return self._segment_revision(clip, int(number), None, annotator)

    def _segment_revision(self, clip, number: int | None, change: tuple | None, annotator) -> SegmentRow:
        if annotator is None:
            raise LlamoError("a segment needs the annotator who marked it.")
        if change is not None:
            _check_words(change[2], change[3])
        cid, aid = row_id(clip), row_id(annotator)

        def work(s: Session) -> SegmentRow:
            clip_row = s.get(Clip, cid, with_for_update=True)  # numbers and revisions one at a time
            if clip_row is None or clip_row.deleted_at is not None or clip_row.fps <= 0:
                raise LlamoError("that clip is not stored (or was deleted); open it again.")
            prev = _latest(s, cid, number) if number is not None else None
            if number is not None and (prev is None or prev.deleted):
                raise LlamoError(f"segment {number} of this clip does not exist (or was deleted).")
            if prev is None:
                top = s.exec(select(func.max(Segment.number)).where(Segment.clip_id == cid)).one()
                number_, revision = (top or 0) + 1, 1
            else:
                number_, revision = prev.number, prev.revision + 1
            start, end, label, text = _content(change, clip_row, prev)
            seg = Segment(
                clip_id=cid, number=number_, revision=revision, annotator_id=aid, start_frame=start,
                end_frame=end, label=label, text=text, deleted=change is None,
            )  # fmt: skip
            s.add(seg)
            s.flush()
            person = s.get(Annotator, aid)
            if person is None:
                raise LlamoError(f"annotator {aid} does not exist.")
            return _row(seg, clip_row, person.name)

        return self._unit_of_work(work)

    def segments(self, clip: Clip | int, *, with_deleted: bool = False) -> list[SegmentRow]:
        """A clip's segments (each one's latest revision), in time order."""
        cid = row_id(clip)
        with self._read() as s:
            clip_row = s.get(Clip, cid)
            if clip_row is None:
                return []
            names = dict(s.exec(select(Annotator.id, Annotator.name)).all())
            segs = s.exec(select(Segment).where(Segment.id.in_(_latest_ids(cid)))).all()
        rows = [
            _row(g, clip_row, names.get(g.annotator_id, "")) for g in segs if with_deleted or not g.deleted
        ]
        return sorted(rows, key=lambda r: (r.start_frame, r.end_frame, r.number))

    def segment_history(self, clip: Clip | int, number: int) -> list[SegmentRow]:
        """Every revision of one segment, oldest first."""
        cid = row_id(clip)
        with self._read() as s:
            clip_row = s.get(Clip, cid)
            names = dict(s.exec(select(Annotator.id, Annotator.name)).all())
            segs = s.exec(
                select(Segment)
                .where(Segment.clip_id == cid, Segment.number == int(number))
                .order_by(Segment.revision)
            ).all()
        return [_row(g, clip_row, names.get(g.annotator_id, "")) for g in segs]

    def clip_segments(
        self, *, annotator: str | None = None, since: datetime | None = None
    ) -> list[ClipSegments]:
        """Every live clip's live segments (latest revisions), optionally only those whose latest
        revision `annotator` wrote, or written at or after `since`."""
        with self._read() as s:
            names = dict(s.exec(select(Annotator.id, Annotator.name)).all())
            pairs = s.exec(
                select(Segment, Clip)
                .join(Clip, Segment.clip_id == Clip.id)
                .where(Segment.id.in_(_latest_ids()), Clip.deleted_at.is_(None))
                .order_by(Clip.id, Segment.start_frame, Segment.end_frame, Segment.number)
            ).all()
        by_clip: dict[int, list] = {}
        for seg, clip in pairs:
            author = names.get(seg.annotator_id, "")
            if seg.deleted or (annotator and author != annotator) or (since and seg.created_at < since):
                continue
            by_clip.setdefault(clip.id, [clip, []])[1].append(_row(seg, clip, author))
        return [
            ClipSegments(clip.sha256, clip.motion_path, clip.video_path, tuple(rows))
            for clip, rows in by_clip.values()
        ]
