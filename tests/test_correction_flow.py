"""Issue 18.1, the correction flow, at the app's core seam (no server, no browser): each test
names the defect it pins down, and each fails on 7cd22d4.

- the in-place edit box holds only the answer (no small print in the message);
- a saved correction survives regenerate and reopen; regenerate samples and keeps every candidate;
- ratings are explicit, the same for the form and in-place edits;
- a reviewer's "Save edit and accept" keeps the annotator's rating and tags, attributed;
- a new clip empties the correction form; Stop ends in every state;
- an annotator lists and reopens their own conversations (what a reload needs).
"""

import json
import os
import threading
import time
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402

from annotations.store import Store  # noqa: E402
from app.config import AppConfig  # noqa: E402
from app.core import LlamoApp  # noqa: E402
from app.identity import Identity  # noqa: E402
from app.render import answer_notes, chat_messages, esc  # noqa: E402
from app.session import Session, Settings  # noqa: E402
from llamo.errors import LlamoError  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"
ANA = Identity("ana", "annotator", "typed")
BOB = Identity("bob", "annotator", "typed")
RUI = Identity("rui", "reviewer", "password")
SHORT = Settings(max_new_tokens=12, min_new_tokens=12)  # greedy, fixed length: the app's default sampling


@pytest.fixture(scope="module")
def tiny():
    from llamo.testing import tiny_model

    return tiny_model()


@pytest.fixture
def core(tiny, tmp_path):
    return LlamoApp(tiny, Store.open(tmp_path / "data", announce=False), AppConfig())


@pytest.fixture
def ui(core):
    from app.ui.context import Ui
    from app.ui.layout import build_layout

    return Ui(core, build_layout(core))


def clip(name: str = "squat") -> Path:
    path = EXAMPLES / f"{name}.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not in this checkout")
    return path


def asked(core: LlamoApp, s: Session, question: str = "What is the person doing?", who=ANA):
    list(core.ask(s, question, SHORT, who))
    return s.turns[-1]


def test_edit_box_holds_only_the_answer_text(core):
    """The Chatbot's edit box shows the message's content: the answer alone, the small print
    (first token, speed, where the model looked) beside the chat."""
    s = Session()
    core.open_file(s, clip())
    turn = asked(core, s)
    user, bot = chat_messages(s.turns)
    assert bot["content"] == esc(turn.answer) and "<small" not in bot["content"]
    assert "first token" in answer_notes(s.turns) and "looked at" in answer_notes(s.turns)
    core.correct(s, 0, "Squats, three of them.", ANA)
    assert chat_messages(s.turns)[1]["content"] == "Squats, three of them."
    s.close()


def test_regenerate_keeps_the_saved_correction_and_samples(core, ui):
    from app.ui import updates

    s = Session()
    core.open_file(s, clip())
    turn = asked(core, s)
    core.correct(s, 0, "They squat three times.", ANA, rating=2)
    for _ in range(2):
        list(core.regenerate(s, SHORT, ANA))
    assert turn.corrected == "They squat three times."  # the bubble and the box keep it
    assert chat_messages(s.turns)[1]["content"] == "They squat three times."
    s.selected = 0
    assert updates.fix_text(s) == "They squat three times."
    assert "the model's latest answer" in answer_notes(s.turns) or turn.answer == turn.corrected
    cands = core.store.candidates(turn.turn_id)
    assert [c.regenerated for c in cands] == [False, True, True]  # every candidate kept
    assert [c.settings["temperature"] for c in cands] == [0.0, 0.7, 0.7]  # greedy asks, sampled regenerates
    assert Settings(seed=7).for_regenerate(1).seed != Settings(seed=7).for_regenerate(2).seed
    assert [f.text for f in core.store.corrections(turn.turn_id)] == ["They squat three times."]
    again = Session()  # a reload: a fresh tab reopens the conversation
    core.reopen(again, s.conversation_id, ANA)
    assert again.turns[0].corrected == "They squat three times."
    assert chat_messages(again.turns)[1]["content"] == "They squat three times."
    s.close()
    again.close()


def test_ratings_are_explicit_in_the_form_and_in_place(core, ui):
    from types import SimpleNamespace

    from app.ui import corrections as fix

    assert ui.page.chat.rating.value is None  # no rating until the expert picks one
    s = Session()
    core.open_file(s, clip())
    asked(core, s)
    asked(core, s, "How many times?")
    fix.save_fix(ui, 0, "Squats.", ui.page.chat.rating.value, [], s, "ana", None)
    fix.on_edit(ui, s, "ana", None, [], SimpleNamespace(index=3, value="Three."), None)
    fix.on_edit(ui, s, "ana", 2, ["wrong count"], SimpleNamespace(index=3, value="Three times."), None)
    fixes = [core.store.corrections(t.turn_id) for t in s.turns]
    assert [f.rating for f in fixes[0]] == [None]
    assert [(f.rating, f.tags) for f in fixes[1]] == [(None, []), (2, ["wrong count"])]
    s.close()


def test_reviewer_edit_keeps_the_annotators_rating_and_tags(core, tmp_path):
    s = Session()
    core.open_file(s, clip())
    turn = asked(core, s)
    core.correct(s, 0, "Three squats.", ANA, rating=2, tags=["wrong count"])
    core.review(RUI, turn.turn_id, "edit", text="Three deep squats.")
    done = core.export(RUI, "llava", status="accepted", out_root=tmp_path / "x")
    rows = [
        json.loads(line) for line in zipfile.ZipFile(done.archive).read("data.jsonl").decode().splitlines()
    ]
    meta = rows[0]["meta"]["turns"][0]
    assert meta["correction"] == "Three deep squats." and meta["corrected_by"] == "rui"
    assert meta["rating"] == 2 and meta["rated_by"] == "ana"
    assert meta["tags"] == ["wrong count"] and meta["tagged_by"] == "ana"
    s.close()


@pytest.mark.slow  # over 5 s (real app round trips)
def test_a_new_clip_empties_the_correction_form(core, ui):
    from app.ui import handlers as h

    s = Session()
    core.open_file(s, clip())
    asked(core, s)
    core.correct(s, 0, "Squats.", ANA, rating=4)
    s.selected = 0
    core.open_file(s, clip("walk"))
    c = ui.page.chat
    out = h.clip_update(ui, s, "Opened walk.")
    form = (out[c.fix_box], out[c.rating], out[c.tags], out[c.save_status], out[c.stats])
    assert form == ("", None, [], "", "")
    s.close()


def test_stop_ends_in_every_state(core, ui):
    from app.ui import handlers as h

    assert h.stop(ui, None) != "Stopping…"
    s = Session()
    core.open_file(s, clip())
    assert core.stop(s) == "idle" and h.stop(ui, s) != "Stopping…"  # nothing being written
    long = Settings(max_new_tokens=512, min_new_tokens=512)
    worker = threading.Thread(target=lambda: list(core.ask(s, "Describe it.", long, ANA)))
    worker.start()
    deadline = time.monotonic() + 60
    while not (s.turns and s.turns[-1].answer) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert core.stop(s, wait_s=30) == "stopped"
    worker.join(30)
    assert s.turns[-1].stopped and s.turns[-1].turn_id is not None  # the partial answer is kept
    assert h.stop(ui, s) == h.STOP_NOTES["idle"]  # after the answer ended: no "Stopping…" for good
    s.close()


def test_annotators_list_and_reopen_their_own_conversations(core):
    sessions = [Session() for _ in range(3)]
    for s, who, name in zip(sessions, (ANA, ANA, BOB), ("squat", "walk", "squat"), strict=True):
        core.open_file(s, clip(name))
        asked(core, s, who=who)
    core.correct(sessions[0], 0, "Squats.", ANA)
    mine = core.my_conversations(ANA)
    assert [m.conversation for m in mine] == [sessions[0].conversation_id, sessions[1].conversation_id]
    assert mine[0].corrected == 1 and "squat" in mine[0].label()
    assert [m.conversation for m in core.my_conversations(BOB)] == [sessions[2].conversation_id]
    with pytest.raises(LlamoError):
        core.my_conversations(None)
    reloaded = Session()
    core.reopen(reloaded, mine[0].conversation, ANA)
    assert reloaded.clip.sha256 == sessions[0].clip.sha256 and reloaded.turns[0].corrected == "Squats."
    with pytest.raises(LlamoError, match="other annotators"):
        core.reopen(Session(), sessions[2].conversation_id, ANA)
    core.reopen(Session(), sessions[2].conversation_id, RUI)  # reviewers reopen anyone's
    for s in [*sessions, reloaded]:
        s.close()


def test_an_answer_ending_keeps_the_experts_pick_and_typing(core, ui):
    """An expert who picks answer 1 to correct while answer 2 is written keeps the form: the
    answer's last update neither moves the pick nor refills the box they type in (it did)."""
    import gradio as gr

    from app.ui import corrections as fix
    from app.ui import handlers as h

    c = ui.page.chat
    s = Session()
    core.open_file(s, clip())
    asked(core, s)
    stream = h._streamed(ui, s, core.ask(s, "How many times?", SHORT, ANA), "done", {})
    next(stream)  # answer 2 has begun
    fix.pick_answer(ui, 0, s)
    *_, last = stream
    assert last[c.fix_box] == gr.skip() and last[c.answer_pick].value == 0 and s.selected == 0
    assert len(last[c.answer_pick].choices) == 2  # answer 2 is offered too
    *_, last = h._streamed(ui, s, core.ask(s, "And then?", SHORT, ANA), "done", {})  # nobody picked
    assert last[c.fix_box] == s.turns[2].answer and last[c.answer_pick].value == 2
    s.close()
