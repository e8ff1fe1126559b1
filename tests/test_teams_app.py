"""Teams through the app's core seam (LlamoApp, no browser): roles annotator < reviewer < admin
checked on the server, guidelines and settings, assignment with overlap, blind mode, the review
record and queue steps, agreement figures and the export audit log."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402

from annotations.store import Store  # noqa: E402
from app import AppConfig  # noqa: E402
from app.core import LlamoApp  # noqa: E402
from app.identity import HOW_TO_REVIEW, Identity, identify, who_line  # noqa: E402
from app.session import Session, Settings  # noqa: E402
from llamo.errors import LlamoError  # noqa: E402
from llamo.testing import random_motion, tiny_model  # noqa: E402

ANA, BEA = Identity("ana", "annotator", "password"), Identity("bea", "annotator", "password")
RUI, ADA = Identity("rui", "reviewer", "password"), Identity("ada", "admin", "password")


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture
def core(model, tmp_path):
    cfg = AppConfig(users={"ana": "1", "bea": "2", "rui": "3", "ada": "4"}, reviewers=frozenset({"rui"}),
                    admins=frozenset({"ada"}))  # fmt: skip
    return LlamoApp(model, Store.open(tmp_path / "data", announce=False), cfg)


def _answer(core, ident, clip, question="How many squats?", fix="Four.", rating=3):
    s = Session()
    core.open_file(s, clip, source="import")
    list(core.ask(s, question, Settings(max_new_tokens=4), ident))
    core.correct(s, 0, fix, ident, rating=rating, tags=["wrong count"])
    s.close()


def test_roles_come_from_the_deployment_and_the_start_says_how(core):
    cfg = core.config
    assert identify(cfg, username="ada").role == "admin" and identify(cfg, username="rui").role == "reviewer"
    assert identify(cfg, username="ana").role == "annotator"
    assert ADA.is_reviewer and ADA.is_admin and RUI.is_reviewer and not RUI.is_admin
    local = AppConfig()
    assert HOW_TO_REVIEW in who_line(local, None) and "--admins" in HOW_TO_REVIEW


def test_only_an_admin_changes_settings_and_everyone_reads_the_guidelines(core):
    for who in (None, ANA, RUI):
        with pytest.raises(LlamoError, match="only admins"):
            core.set_team_settings(who, guidelines="# no")
        with pytest.raises(LlamoError, match="only admins"):
            core.assign(who, 1)
        with pytest.raises(LlamoError, match="only admins"):
            core.export_log(who)
    core.set_team_settings(ADA, guidelines="# Counting\nA rep ends standing.", blind=True, overlap=2)
    assert core.guidelines() == "# Counting\nA rep ends standing."
    assert core.team_settings(ADA) == {
        "guidelines": "# Counting\nA rep ends standing.",
        "blind": True,
        "overlap": 2,
    }


def test_export_rules_and_the_audit_log(core, tmp_path):
    clip = random_motion(60, seed=3).save(tmp_path / "clip.npz")
    _answer(core, ANA, clip)
    with pytest.raises(LlamoError, match="only reviewers"):
        core.export(ANA, "llava", status="corrected", out_root=tmp_path / "a")
    with pytest.raises(LlamoError, match="only admins export"):
        core.export(RUI, "llava", status="corrected", out_root=tmp_path / "r")
    core.export(RUI, "llava", status="accepted", out_root=tmp_path / "r")  # reviewed data: a reviewer's
    done = core.export(ADA, "messages", status="all", annotator="ana", out_root=tmp_path / "x")
    log = core.export_log(ADA)
    assert [(e.who, e.what, e.filters["annotator"]) for e in log] == [
        ("ada", "messages", "ana"),
        ("rui", "llava", None),
    ]
    assert log[0].rows == done.counts["rows"] and log[0].filters["status"][0] == "unreviewed"
    assert log[1].filters == {"status": ["accepted"], "annotator": None}


def test_assignment_overlap_blind_mode_and_agreement(core, tmp_path):
    clips = [random_motion(60, seed=i).save(tmp_path / f"c{i}.npz") for i in range(2)]
    _answer(core, ANA, clips[0], rating=2)
    _answer(core, BEA, clips[0], fix="four", rating=3)
    _answer(core, ANA, clips[1], rating=4)
    _answer(core, BEA, clips[1], fix="Two.", rating=4)
    assert "each clip goes to 2 of 2 annotators" in core.assign(ADA, 2)
    assert len(core.my_assignments(ANA)) == 2 and core.my_assignments(None) == []
    label, sha = core.my_assignments(BEA)[0]
    assert label.startswith("c1.npz · ") and len(sha) == 64  # by name and date, not a raw hash
    kinds = core.agreement(RUI)
    assert (
        kinds["rating"]["units"] == 2
        and kinds["rating"]["coders"] == 2
        and kinds["rating"]["alpha"] is not None
    )
    assert kinds["answer"]["observed"] == 0.5  # "Four." == "four", "Four." != "Two."
    with pytest.raises(LlamoError, match="only reviewers"):
        core.agreement(ANA)
    core.set_team_settings(ADA, blind=True)
    assert core.blind(ANA) and not core.blind(RUI)
    with pytest.raises(LlamoError, match="only reviewers"):  # shared: never an annotator's
        core.stats(ANA)
    users, core.config.users = core.config.users, {}
    with pytest.raises(LlamoError, match="blind mode"):  # local: not in blind mode either
        core.stats(ANA)
    core.config.users = users
    assert core.stats(RUI)["agreement"]["by_kind"] == kinds
    mine = core.my_conversations(ANA)
    assert len(mine) == 2  # her own two, not bea's
    with pytest.raises(LlamoError, match="only reviewers can reopen"):
        core.reopen(Session(), core.my_conversations(BEA)[0].conversation, ANA)


def test_review_record_and_queue_steps(core, tmp_path):
    from app.ui import team_handlers as team
    from app.ui.context import Ui
    from app.ui.layout import build_layout

    clip = random_motion(60, seed=5).save(tmp_path / "clip.npz")
    _answer(core, ANA, clip, question="Which <b>knee</b>?", fix="The left one.")
    _answer(core, BEA, clip, question="How deep?", fix="Half.")
    rows = core.review_rows(RUI, status="corrected")
    assert [r.annotator for r in rows] == ["bea", "ana"] and rows[0].queue_cells()[3] == "bea"
    core.review(RUI, rows[1].turn, "edit", text="The left knee.")
    rec = core.review_record(RUI, rows[1].turn, workdir=tmp_path / "glb")
    assert rec.glb and os.path.getsize(rec.glb) > 1000 and rec.clip_title == "clip.npz"
    assert [(v.author, v.text) for v in rec.revisions] == [
        ("ana", "The left one."),
        ("rui", "The left knee."),
    ]
    assert (
        rec.revisions[1].reviews == ("accepted by rui: edited by reviewer",) and rec.text == "The left knee."
    )
    md = team.record_markdown(rec)
    assert "by **ana**" in md and "by **rui**" in md and "<b>" not in md  # escaped
    with pytest.raises(LlamoError, match="only reviewers"):
        core.review_record(ANA, rows[1].turn)
    ui = Ui(core, build_layout(core))
    rui = SimpleNamespace(username="rui", session_hash=None)
    table = [r.queue_cells() for r in rows]
    r = ui.page.review
    assert team.review_step(ui, 1, table, None, "", rui)[r.turn] == rows[0].turn
    assert team.review_step(ui, 1, table, rows[0].turn, "", rui)[r.turn] == rows[1].turn
    assert team.review_step(ui, 1, table, rows[1].turn, "", rui) == {r.note: "End of the queue."}
    assert team.review_step(ui, -1, table, rows[1].turn, "", rui)[r.turn] == rows[0].turn
    with pytest.raises(LlamoError, match="only reviewers"):
        team.review_step(ui, 1, table, None, "", SimpleNamespace(username="ana", session_hash=None))
    picked = team.review_choices(ui, "", rui)
    assert ("any clip", "") in picked[r.clip].choices and any(
        c[0].startswith("clip.npz") for c in picked[r.clip].choices
    )


def test_answers_the_measurement_contradicts_are_stored_listed_and_shown_again(core, tmp_path):
    """The app stores each answer's measurement check; reviewers list those answers, see the
    sentence in the record, and a reopened conversation shows it under the uncorrected answer."""
    from app.render import answer_notes
    from app.ui import team_handlers as team
    from llamo.answer_check import flag_of
    from llamo.data.synth import synthesize

    clip = synthesize("kick", side="right", reps=3, noise=False, seed=5).save(tmp_path / "kick.npz")
    s = Session()
    core.open_file(s, clip, source="import")
    list(core.ask(s, "Which leg does the person kick with?", Settings(max_new_tokens=6), ANA))
    turn = s.turns[0]
    # the kick's right leg clearly moves most: the side is grounded, and the note says so
    assert turn.grounded.startswith("The side is measured from the joints: the right leg's end")
    stored = core.store.review_rows()[0]
    # whatever the tiny model said, the store holds the check of exactly that answer
    assert stored.answer == turn.answer and stored.flag == turn.check
    assert turn.check == flag_of(turn.question, turn.answer, s.chat.measured)
    # A contradicted answer, written as the app writes it (the tiny model cannot be made to err).
    flag = flag_of("Which leg does the person kick with?", "The left leg.", s.chat.measured)
    assert flag == "The answer says the left leg; the joints show the right leg moving most."
    list(core.ask(s, "And which leg kicks?", Settings(max_new_tokens=6), ANA))
    second = s.turns[1].turn_id
    core.store.add_candidate(second, "The left leg.", regenerated=True, measured_flag=flag)
    conv = s.conversation_id
    s.close()
    rows = core.review_rows(RUI, flagged=True)
    assert [r.turn for r in rows] == [second] and rows[0].flag == "⚠"
    assert rows[0].queue_cells()[6] == "⚠"
    md = team.record_markdown(core.review_record(RUI, second, workdir=tmp_path / "glb"))
    assert "Measured otherwise" in md and "the right leg moving most" in md
    first = team.record_markdown(core.review_record(RUI, turn.turn_id, workdir=tmp_path / "glb"))
    assert "The side is measured from the joints" in first  # the reviewer sees it too
    again = Session()
    core.reopen(again, conv, ANA)
    notes = answer_notes(again.turns)
    assert notes.count("measured otherwise") == 1 and "the right leg moving most" in notes
    assert again.turns[0].grounded == turn.grounded and "The side is measured from the joints" in notes
    core.correct(again, 1, "The right leg.", ANA)
    assert "measured otherwise" not in answer_notes(again.turns)  # an expert decided: it goes
    assert core.review_rows(RUI, status="unreviewed", flagged=True) == []
    again.close()
