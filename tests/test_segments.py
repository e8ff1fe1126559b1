"""Time segments on a clip's motion (issue 18.2): stored with author and revision on both backends,
exported as grounded questions with answers in times, read by the trainer's reader, and the app's
core seam (no UI). The browser step is in tests/test_browser_segments.py."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from annotations.export import FORMATS, export_dataset
from annotations.importing import import_dataset
from annotations.segment_qa import person_question, seconds
from annotations.store import Store
from llamo.conversation import MOTION_MARKER, read_jsonl
from llamo.data.instructions import InstructionData
from llamo.errors import LlamoError
from llamo.testing import random_motion
from tests.test_store_backends import backend  # noqa: F401  (the sqlite / postgres fixture)


def _clip(store: Store, seed: int = 0, frames: int = 150):
    return store.add_clip(random_motion(frames, seed=seed), None, "example")  # 20 fps: 7.5 s


def test_segments_revisions_deletion_and_times(backend):  # noqa: F811
    store = backend.open()
    clip = _clip(store)
    ana, rui = store.get_or_create_annotator("ana"), store.get_or_create_annotator("rui", role="reviewer")
    fall = store.add_segment(clip, 4.21, 5.0, "loses balance", "The person loses balance.", annotator=ana)
    assert (fall.number, fall.revision, fall.start_frame, fall.end_frame) == (1, 1, 84, 100)  # snapped
    assert (fall.start_s, fall.end_s, fall.author) == (4.2, 5.0, "ana")
    rep = store.add_segment(clip, 1.0, 2.0, "rep 2: knee valgus", annotator=ana)
    assert rep.number == 2
    edited = store.edit_segment(clip, 2, 1.05, 2.5, "rep 2: knee valgus", "left knee", annotator=rui)
    assert (edited.number, edited.revision, edited.author, edited.start_frame) == (2, 2, "rui", 21)
    gone = store.delete_segment(clip, 1, annotator=rui)
    assert gone.deleted and gone.revision == 2 and gone.label == "loses balance"
    assert [(g.number, g.revision) for g in store.segments(clip)] == [(2, 2)]
    assert [(g.number, g.deleted) for g in store.segments(clip, with_deleted=True)] == [(2, False), (1, True)]
    history = store.segment_history(clip, 2)
    assert [(g.revision, g.author, g.end_s, g.text) for g in history] == [
        (1, "ana", 2.0, ""),
        (2, "rui", 2.5, "left knee"),
    ]
    with store.engine.connect() as conn:  # everything appended, nothing overwritten
        assert conn.execute(text("SELECT count(*) FROM segment")).scalar() == 4
    for bad, message in [
        ((3.0, 2.0, "x"), "end at least one frame after"),
        ((0.0, 100.0, "x"), "outside the clip"),
        (("soon", 1.0, "x"), "number of seconds"),
        ((0.0, 1.0, "  "), "label is empty"),
    ]:
        with pytest.raises(LlamoError, match=message):
            store.add_segment(clip, *bad, annotator=ana)
    with pytest.raises(LlamoError, match="segment 1 of this clip does not exist"):
        store.edit_segment(clip, 1, 0, 1, "again", annotator=ana)  # deleted: no more revisions
    with pytest.raises(LlamoError, match="segment 9"):
        store.delete_segment(clip, 9, annotator=ana)
    other = _clip(store, seed=1)
    assert store.add_segment(other, 0, 1, "walks", annotator=ana).number == 1  # numbered per clip
    store.close()


def test_a_v3_store_migrates_to_segments(backend):  # noqa: F811
    store = backend.open()
    clip = _clip(store)
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE segment"))
        conn.execute(text("UPDATE schema_version SET version = 3"))
    store.close()
    store = backend.open()
    assert store.migrated == [4, 5]
    assert store.add_segment(clip, 0, 1, "stands", annotator=store.get_or_create_annotator("ana")).number == 1
    store.close()


def _segmented_store(tmp_path) -> tuple[Store, object]:
    store = Store.open(tmp_path / "data", announce=False)
    clip = _clip(store)
    ana = store.get_or_create_annotator("ana")
    store.add_segment(clip, 4.2, 5.0, "loses balance", "The person loses balance.", annotator=ana)
    store.add_segment(clip, 1.0, 2.0, "knee valgus", annotator=ana)
    store.add_segment(clip, 6.0, 6.5, "knee valgus", annotator=ana)
    store.add_segment(clip, 3.0, 3.5, "a mistake", annotator=ana)
    store.delete_segment(clip, 4, annotator=ana)
    return store, clip


def test_segments_export_as_questions_answered_in_times(tmp_path):
    store, clip = _segmented_store(tmp_path)
    summary = export_dataset(store, tmp_path / "out", "llava")
    assert (summary.conversations, summary.clips) == (1, 1)  # no chat at all: the segments alone
    (row,) = [json.loads(line) for line in (tmp_path / "out" / "data.jsonl").read_text().splitlines()]
    assert row["id"] == f"segments-{clip.sha256}" and row["motion"] == f"motions/{clip.sha256}.npz"
    assert row["meta"]["kind"] == "segments"
    pairs = [
        (a["value"], b["value"])
        for a, b in zip(row["conversations"][::2], row["conversations"][1::2], strict=True)
    ]
    assert pairs == [
        (f"{MOTION_MARKER}\nWhat happens between 1.0 s and 2.0 s?", "Knee valgus."),
        ("What happens between 4.2 s and 5.0 s?", "The person loses balance."),
        ("What happens between 6.0 s and 6.5 s?", "Knee valgus."),
        ('When does "knee valgus" happen?', "From 1.0 s to 2.0 s and from 6.0 s to 6.5 s."),
        ('When does "loses balance" happen?', "From 4.2 s to 5.0 s."),
        ("When does the person lose balance?", "From 4.2 s to 5.0 s."),
    ]  # the deleted segment ("a mistake") is gone
    assert all(m["train"] for m in row["conversations"][1::2])
    first = row["meta"]["turns"][0]
    assert first["corrected_by"] == "ana" and first["segments"][0]["start_frame"] == 20
    # The trainer's reader takes them: the motion, and every answer a training target.
    (conv,) = list(read_jsonl(tmp_path / "out" / "data.jsonl"))
    assert conv.has_motion and sum(t.train for t in conv.turns if t.role == "assistant") == 6
    data = InstructionData(tmp_path / "out" / "data.jsonl")
    assert len(data) == 1 and data.motion(0).num_frames == 150
    # Every format carries them (TRL's per-turn ones: one row per question), or none of them.
    for fmt in FORMATS:
        got = export_dataset(store, tmp_path / fmt, fmt)
        assert got.rows == {"llava": 1, "messages": 1, "prompt-completion": 6, "dpo": 0, "kto": 6}[fmt]
    assert export_dataset(store, tmp_path / "none", "llava", segments=False).rows == 0
    assert export_dataset(store, tmp_path / "rui", "llava", annotator="rui").rows == 0
    # Importing another store's export leaves the segment questions out (they are not chat turns).
    other = Store.open(tmp_path / "other", announce=False)
    assert import_dataset(other, tmp_path / "out").skipped_segments == 1 and other.list_turns() == []
    store.close()


def test_segment_words():
    assert [seconds(t) for t in (4.2, 5.0, 127 / 30, 0.0)] == ["4.2", "5.0", "4.23", "0.0"]
    assert person_question("The person loses balance.") == "When does the person lose balance?"
    assert person_question("the athlete reaches up") == "When does the athlete reach up?"
    assert person_question("Person carries the bar.") == "When does the person carry the bar?"
    assert person_question("Knee valgus.") is None
    assert person_question("The person fell.") is None  # not a present-tense verb: no question made


# --- the app's core seam (no UI) ----------------------------------------------------------------


def test_app_core_marks_segments_on_the_open_clip(tmp_path):
    from pathlib import Path

    from app.config import AppConfig
    from app.core import LlamoApp
    from app.identity import Identity
    from app.session import Session
    from llamo.testing import tiny_model

    core = LlamoApp(tiny_model(), Store.open(tmp_path / "data", announce=False), AppConfig())
    session = Session()
    ana = Identity("ana", "annotator", "typed")
    with pytest.raises(LlamoError, match="bring a clip first"):
        core.add_segment(session, 0, 1, "x", "", ana)
    examples = Path(__file__).resolve().parents[1] / "assets" / "examples"
    core.open_file(session, examples / "squat.npz", source="example", title="squat")
    fps = session.clip.motion.fps
    assert core.snap_time(session, 1.0 + 0.4 / fps) == round(round(fps + 0.4) / fps, 4)  # onto a frame
    with pytest.raises(LlamoError, match="type your name"):
        core.add_segment(session, 0.5, 1.0, "rep 1", "", None)
    row = core.add_segment(session, 0.5, 1.0, " rep 1: knee valgus ", "", ana)
    assert (row.label, row.author) == ("rep 1: knee valgus", "ana")
    core.add_segment(session, 2.0, 2.5, "loses balance", "The person loses balance.", ana)
    core.edit_segment(session, row.number, 0.4, 1.0, "rep 1: knee valgus", "left knee in", ana)
    lines = core.segment_lines(session)
    assert [(s.number, s.start, s.label, s.revision) for s in lines] == [
        (1, 0.4, "rep 1: knee valgus", 2),
        (2, 2.0, "loses balance", 1),
    ]
    fig = core.kinematics_with_segments(session)
    bands = [s for s in fig.layout.shapes if s.name == "llamo-band"]
    assert [(b.x0, b.x1) for b in bands] == [(0.4, 1.0), (2.0, 2.5)]
    assert [a.text for a in fig.layout.annotations if a.name == "llamo-band"][0] == "1: rep 1: knee valgus"
    assert not [s for s in session.clip.views["kinematics"].layout.shapes if s.name == "llamo-band"]  # a copy
    core.delete_segment(session, 2, ana)
    assert [s.number for s in core.segment_lines(session)] == [1]
    with pytest.raises(LlamoError, match="pick a segment"):
        core.delete_segment(session, None, ana)
    other = Session()  # another tab opening the same clip sees the segments (they belong to the clip)
    core.open_file(other, examples / "squat.npz", source="example", title="squat")
    assert [s.label for s in core.segment_lines(other)] == ["rep 1: knee valgus"]
    session.close()
    other.close()
