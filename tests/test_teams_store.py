"""Teams in the store, on both backends (SQLite and PostgreSQL, the `backend` fixture of
tests/test_store_backends.py): roles, settings, assignment with overlap, the export audit log,
the review record, and agreement per kind of question (Krippendorff's alpha, span IoU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import krippendorff
import numpy as np
import pytest
import test_store_backends
from test_store_backends import Backend

from annotations.agreement import Judgement, agreement_by_kind, span_overlap
from llamo.errors import LlamoError
from llamo.testing import random_motion

backend = test_store_backends.backend  # the two-backend fixture (sqlite, postgres)


def _clip(store, seed: int, title: str):
    return store.add_clip(random_motion(30, seed=seed), None, "example", meta={"title": title})


def test_settings_roles_and_the_audit_log(backend: Backend):
    store = backend.open()
    boss = store.get_or_create_annotator("boss", role="admin")
    assert store.settings() == {"guidelines": "", "blind": False, "overlap": 1}
    store.set_setting("guidelines", "# Counting\nA rep ends **standing**.", by=boss)
    store.set_setting("blind", True, by=boss)
    store.set_setting("overlap", 2, by=boss)
    store.set_setting("guidelines", "# Counting\nv2", by=boss)  # the latest wins
    assert store.settings() == {"guidelines": "# Counting\nv2", "blind": True, "overlap": 2}
    for key, bad in (("overlap", 0), ("overlap", "2"), ("blind", "yes"), ("colour", 1)):
        with pytest.raises(LlamoError):
            store.set_setting(key, bad, by=boss)
    # an admin may review (the store checks the role itself)
    ana = store.get_or_create_annotator("ana")
    clip = _clip(store, 0, "squat.mp4")
    turn = store.add_turn(store.start_conversation(clip, ana), "How many?")
    fix = store.add_correction(turn, "Three.", annotator=ana)
    store.review(fix, boss, accept=True)
    with pytest.raises(LlamoError, match="reviewer role"):
        store.review(fix, ana, accept=True)
    store.log_export(boss, "llava", {"status": ["accepted"], "annotator": None}, rows=3, conversations=1)
    store.log_export(None, "push", {}, rows=0, conversations=0)
    log = store.export_log()
    assert [(e.who, e.what, e.rows, e.conversations) for e in log] == [
        (None, "push", 0, 0),
        ("boss", "llava", 3, 1),
    ]
    assert log[1].filters == {"status": ["accepted"], "annotator": None}
    store.close()
    again = backend.open()  # stored, not in memory
    assert again.settings()["guidelines"] == "# Counting\nv2" and len(again.export_log()) == 2
    again.close()


def test_assignment_with_overlap(backend: Backend):
    store = backend.open()
    people = [store.get_or_create_annotator(n) for n in ("ana", "bea", "cai")]
    clips = [_clip(store, i, f"clip{i}.mp4") for i in range(4)]
    assert store.assign(people, overlap=2) == 8
    per_clip = {
        c.id: {p.name for p in people if c.id in {x.clip_id for x in store.clip_choices(p)}} for c in clips
    }
    assert all(len(v) == 2 for v in per_clip.values())
    loads = sorted(len(store.clip_choices(p)) for p in people)
    assert loads == [2, 3, 3]  # least loaded first: balanced
    assert store.assign(people, overlap=2) == 0  # already done: idempotent
    clips.append(_clip(store, 9, "new.mp4"))
    assert store.assign(people, overlap=2) == 2  # only the new clip
    with pytest.raises(LlamoError, match="at least 4 annotators"):
        store.assign(people, overlap=4)
    titles = [c.title for c in store.clip_choices()]
    assert titles[0] == "new.mp4" and set(titles) == {f"clip{i}.mp4" for i in range(4)} | {"new.mp4"}
    assert store.clip_choices()[0].label().startswith("new.mp4 · ")
    store.close()


def test_turn_record_has_every_revision_with_its_author(backend: Backend):
    store = backend.open()
    ana, rui = store.get_or_create_annotator("ana"), store.get_or_create_annotator("rui", role="reviewer")
    clip = _clip(store, 1, "jump.mp4")
    turn = store.add_turn(store.start_conversation(clip, ana), "How high?")
    store.add_candidate(turn, "Ten metres.")
    store.add_candidate(turn, "Half a metre.", regenerated=True)
    first = store.add_correction(turn, "About 40 cm.", annotator=ana, rating=2, tags=["wrong count"])
    store.review(first, rui, accept=False, note="too vague")
    store.add_correction(turn, "38 cm.", annotator=rui)
    rec = store.turn_record(turn)
    assert (rec.owner, rec.question, rec.clip_sha256) == ("ana", "How high?", clip.sha256)
    assert [a.text for a in rec.model_answers] == ["Ten metres.", "Half a metre."]
    assert [(r.revision, r.author, r.text, r.rating, r.tags) for r in rec.revisions] == [
        (1, "ana", "About 40 cm.", 2, ("wrong count",)),
        (2, "rui", "38 cm.", None, ()),
    ]
    assert rec.revisions[0].reviews == ("rejected by rui: too vague",)
    with pytest.raises(LlamoError, match="does not exist"):
        store.turn_record(10_000)
    store.close()


def _overlapping(store):
    """Three annotators answer the same two questions about one clip, each in their own
    conversation (assignment with overlap), and mark segments on it."""
    clip = _clip(store, 2, "squats.mp4")
    people = [store.get_or_create_annotator(n) for n in ("ana", "bea", "cai")]
    ratings = {"ana": (2, 4), "bea": (2, 5), "cai": (1, 4)}
    for p in people:
        conv = store.start_conversation(clip, p)
        t0, t1 = store.add_turn(conv, "How many squats?"), store.add_turn(conv, "Which knee caves in?")
        r0, r1 = ratings[p.name]
        store.add_correction(t0, "Four squats." if p.name != "cai" else "five squats", annotator=p, rating=r0,
                             tags=["wrong count"])  # fmt: skip
        store.add_correction(t1, "The left knee.", annotator=p, rating=r1,
                             tags=["wrong body part"] if p.name != "bea" else [])  # fmt: skip
    store.add_segment(clip, 0.5, 1.0, "rep 1", annotator=people[0])
    store.add_segment(clip, 0.5, 0.75, "rep 1", annotator=people[1])
    return people


def test_agreement_per_kind_from_overlapping_annotators(backend: Backend):
    store = backend.open()
    _overlapping(store)
    kinds = store.stats()["agreement"]["by_kind"]
    # the same figures straight from the library, on the same reliability data
    ratings = np.array([[2, 4], [2, 5], [1, 4]], dtype=float)
    expected = krippendorff.alpha(reliability_data=ratings, level_of_measurement="ordinal")
    assert kinds["rating"]["alpha"] == pytest.approx(expected)
    assert (kinds["rating"]["units"], kinds["rating"]["coders"]) == (2, 3)
    labels = np.array([[1, 1], [1, 0], [1, 1]], dtype=float)  # (unit, tag) columns
    assert kinds["labels"]["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=labels, level_of_measurement="nominal")
    )
    answers = np.array([[0, 1], [0, 1], [2, 1]], dtype=float)
    assert kinds["answer"]["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=answers, level_of_measurement="nominal")
    )
    assert kinds["segments"]["level"] == "iou" and kinds["segments"]["alpha"] == pytest.approx(0.5)
    store.close()


def test_stats_command_prints_the_agreement(backend: Backend):
    store = backend.open()
    _overlapping(store)
    store.close()
    env = {**os.environ, "LLAMO_DATA_DIR": str(backend.data_dir)}
    if backend.url:
        env["LLAMO_DATABASE_URL"] = backend.url
    out = subprocess.run([sys.executable, "-m", "annotations", "stats"], capture_output=True, text=True,
                         env=env, check=True)  # fmt: skip
    kinds = json.loads(out.stdout)["agreement"]["by_kind"]
    assert kinds["rating"]["units"] == 2 and kinds["rating"]["alpha"] is not None


def test_alpha_is_none_when_undefined_and_iou_by_hand():
    one = agreement_by_kind([Judgement("u", 1, "a", 3, ()), Judgement("u", 2, "a", 3, ())])
    assert one["rating"]["alpha"] is None and one["rating"]["observed"] == 1.0  # one value: undefined
    alone = agreement_by_kind([Judgement("u", 1, "a", 3, ())])
    assert alone["rating"] == {"alpha": None, "level": "ordinal", "units": 0, "coders": 0, "observed": None}
    spans = span_overlap({"c": {1: [(0.0, 1.0), (2.0, 3.0)], 2: [(0.0, 1.0)], 3: []}})
    # ana's two spans: 1.0 and 0.0; bea's one: 1.0 -> (1 + 0 + 1) / 3
    assert spans.alpha == pytest.approx(2 / 3) and (spans.units, spans.coders) == (1, 2)
