"""The web app through its API (gradio_client) on a tiny injected model: clip -> views -> streamed
chat -> regenerate -> correction -> export; bad input and hostile text; roles. Fast (no backbone
download, no video decoding except where marked)."""

import json
import os
import re
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from conftest import SLOW_MACHINE  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

from annotations.store import Store  # noqa: E402
from app import AppConfig, create_app  # noqa: E402
from app.config import parse_users  # noqa: E402
from app.identity import Identity, identify  # noqa: E402
from app.render import answer_notes, chat_messages, strip_display  # noqa: E402
from app.session import Session, Settings  # noqa: E402
from app.ui import launch_kwargs  # noqa: E402
from llamo.errors import LlamoError  # noqa: E402

HOSTILE = '<img src="http://127.0.0.1:9/track.png"> <b>bold</b> ![x](http://127.0.0.1:9/y.png) <script>alert(1)</script>'
SAMPLING = (1.0, 1.0, 24, 7)  # temperature, top_p, max new tokens, seed: a tiny model says something


def project_clip(path: Path) -> Path:
    """A project-made clip: a bundled example when present, else a synthetic squat."""
    examples = sorted((Path(__file__).resolve().parents[1] / "assets" / "examples").glob("*.npz"))
    if examples:
        return examples[0]
    from llamo.data.synth import synthesize

    synthesize("squat", reps=3, seed=0).save(path)
    return path


@pytest.fixture(scope="module")
def tiny():
    from llamo.testing import tiny_model

    model = tiny_model()
    # random weights: held to the measured count, its sampled answers to "how many?" all read
    # "6" and spaces, and the regenerate below must differ (grounding in the app: test_browser_app)
    model.grounded = ()
    return model


def serve(model, data_dir: Path, config: AppConfig | None = None):
    demo = create_app(model, Store.open(data_dir, announce=False), config or AppConfig())
    _, url, _ = demo.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True,
        **launch_kwargs(demo.llamo_core),
    )  # fmt: skip
    return demo, url


@pytest.fixture(scope="module")
def app_url(tiny, tmp_path_factory):
    # every delta sent, so the tiny model's quick answers still arrive in pieces (the 0.15 s
    # throttle of real use is tested on its own: test_streaming_updates_are_throttled...)
    demo, url = serve(tiny, tmp_path_factory.mktemp("data"), AppConfig(stream_interval_s=0.0))
    yield demo, url
    demo.close()


def texts(chat: list[dict]) -> list[str]:
    return ["".join(b.get("text", "") for b in m["content"]) if isinstance(m["content"], list) else m["content"]
            for m in chat]  # fmt: skip


# ---- pieces without a server ---------------------------------------------------------------


def test_chat_text_is_escaped_and_edits_come_back_plain():
    from app.session import ChatTurn

    turn = ChatTurn(question=HOSTILE, answer="a < b & c", timings={"ttft_s": 0.25, "tokens_per_s": 20.0})
    user, bot = chat_messages([turn])
    assert "<img" not in user["content"] and "&lt;img" in user["content"] and "<script" not in user["content"]
    assert bot["content"].startswith("a &lt; b &amp; c")
    assert bot["content"] == "a &lt; b &amp; c"  # the answer alone: what an in-place edit shows
    assert "first token 0.25 s" in answer_notes([turn])  # the small print is beside the chat
    assert strip_display(bot["content"]) == "a < b & c"  # what an in-place edit gives back


def test_an_answer_the_measurement_contradicts_is_flagged_until_corrected():
    """The app's check (llamo.answer_check) on a real conversation: a tiny model, a synthetic kick
    with the right leg, measured by llamo.evidence; the answers are set as a model might give them."""
    from app.chatting import _measured_check
    from app.session import ChatTurn
    from llamo.chat import ChatSession
    from llamo.data.synth import synthesize
    from llamo.testing import tiny_model

    chat = ChatSession(tiny_model(), synthesize("kick", side="right", reps=3, noise=False, seed=5))
    wrong = ChatTurn(
        question="Which leg does the person kick with?", answer="The left leg.", timings={"ttft_s": 0.1}
    )
    wrong.check = _measured_check(chat, wrong)
    right = ChatTurn(question=wrong.question, answer="The right leg.", timings={"ttft_s": 0.1})
    right.check = _measured_check(chat, right)
    assert wrong.check == "The answer says the left leg; the joints show the right leg moving most."
    assert right.check == ""
    notes = answer_notes([wrong, right])
    assert notes.count("measured otherwise") == 1 and "the right leg moving most" in notes
    wrong.corrected = "The right leg."  # an expert has decided: the flag goes
    assert "measured otherwise" not in answer_notes([wrong])


def test_a_grounded_count_says_where_it_was_counted():
    from app.session import ChatTurn

    turn = ChatTurn(question="How many squats?", answer="3 squats.", timings={"ttft_s": 0.1})
    turn.grounded = "The number is counted from the joints: 3 (pelvis up-down, 0.0-12.5 s)."
    assert "↳ The number is counted from the joints: 3" in answer_notes([turn])
    turn.corrected = "4 squats."  # an expert has decided: the note goes with the model's number
    assert "counted from the joints" not in answer_notes([turn])


def test_identity_rules():
    local = AppConfig()
    typed = identify(local, typed="  ana ")
    assert typed == Identity("ana", "annotator", "typed")
    assert (
        identify(AppConfig(reviewers=frozenset({"ana"})), typed="ana").role == "annotator"
    )  # never reviewer
    served = AppConfig(users={"rui": "pw"}, reviewers=frozenset({"rui"}))
    assert identify(served, typed="rui") is None  # with auth, a typed name is nobody
    assert identify(served, username="rui").is_reviewer
    space = AppConfig(on_spaces=True, oauth=True, reviewers=frozenset({"hf-rev"}))
    assert identify(space, typed="x") is None
    assert identify(space, oauth_name="hf-rev") == Identity("hf-rev", "reviewer", "hf-oauth")
    assert parse_users("a:1, b:2") == {"a": "1", "b": "2"}


def test_store_roles_follow_the_deployment(tiny, tmp_path):
    from app.core import LlamoApp

    store = Store.open(tmp_path / "d", announce=False)
    core = LlamoApp(tiny, store, AppConfig())
    assert core.annotator(Identity("rui", "annotator", "password")).role == "annotator"
    assert core.annotator(Identity("rui", "reviewer", "password")).role == "reviewer"  # promoted later
    with pytest.raises(LlamoError, match="belongs to a signed-in annotator"):
        core.annotator(Identity("rui", "annotator", "typed"))  # no typing your way into rui
    assert core.annotator(Identity("ana", "annotator", "typed")).auth == "typed"
    with pytest.raises(LlamoError):
        parse_users("nopassword")


def test_uploads_are_refused_before_heavy_work(tiny, tmp_path):
    from app.core import LlamoApp

    core = LlamoApp(
        tiny, Store.open(tmp_path / "d", announce=False), AppConfig(max_file_mb=1, max_duration_s=2.0)
    )
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    big = tmp_path / "big.npz"
    big.write_bytes(b"\0" * (2 * 1024 * 1024))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"this is not a video at all")
    for path, words in [
        (empty, "empty"),
        (big, "limit is 1 MB"),
        (text, "not supported"),
        (fake, "fake.mp4"),
    ]:
        with pytest.raises(LlamoError, match=words):
            core.check_upload(path)
    s = Session()
    try:
        with pytest.raises(LlamoError, match="bring a clip"):
            list(core.ask(s, "what?", Settings(), None))
        long_clip = project_clip(tmp_path / "squat.npz")
        with pytest.raises(LlamoError, match="limit"):
            core.open_file(s, long_clip)  # several seconds > the 2 s limit
    finally:
        s.close()
    assert not s.workdir.exists()


# ---- through the API -----------------------------------------------------------------------


@pytest.mark.slow  # over 5 s (real app round trips)
def test_api_flow_clip_chat_regenerate_correct_export(app_url, tmp_path):
    demo, url = app_url
    client = Client(url, verbose=False, httpx_kwargs=SLOW_MACHINE)
    out = client.predict(handle_file(str(project_clip(tmp_path / "squat.npz"))), api_name="/open_motion")
    summary, overlay, skeleton, glb, glb_file, kinematics = out[:6]
    assert "fps" in summary and "person in 100%" in summary
    assert skeleton["type"] == "plotly" and json.loads(skeleton["plot"])["layout"]["sliders"]
    assert kinematics["type"] == "plotly"
    assert Path(glb).read_bytes()[:4] == b"glTF"
    assert (overlay or {}).get("value") is None  # a motion file has no video to draw on

    streamed = []
    for question in ("What is the person doing?", "And how many times?"):
        job = client.submit(question, *SAMPLING, "ana", api_name="/ask")
        final = job.result()
        streamed.append(len(job.outputs()))
    chat, notes = texts(final[0]), final[-2]
    assert len(chat) == 4 and chat[2] == "And how many times?"
    assert "first token" in notes and "looked at" in notes
    assert min(streamed) >= 3  # the answers arrived in pieces

    before = chat[3]
    job = client.submit(*SAMPLING[:3], 8, "ana", api_name="/regenerate")
    chat = texts(job.result()[0])
    assert "regenerated ×1" in job.result()[-2] and chat[3] != before

    chat, _, status, jump = client.predict(
        1, "They squat three times.", 2, ["wrong count"], "ana", api_name="/correct"
    )
    assert "choices" in jump  # the saved answer's times become jump buttons
    assert status.startswith("✅ Saved correction #")
    assert texts(chat)[3].startswith("They squat three times.")

    store = demo.llamo_core.store
    turn = store.list_turns(status="corrected")[0]
    assert [c.regenerated for c in store.candidates(turn.turn_id)] == [False, True]
    for fmt in ("llava", "dpo"):
        archive, counts, stats = client.predict(fmt, "accepted,corrected", "", "ana", api_name="/export")
        data = zipfile.ZipFile(archive).read("data.jsonl").decode()
        assert "They squat three times." in data, fmt
        rows = int(re.search(r"\*\*rows\*\*: (\d+)", counts).group(1))  # the page shows words, not JSON
        assert rows >= 1 and "**turns by status**" in stats and "{" not in counts + stats
        if fmt == "dpo":
            row = [json.loads(line) for line in data.splitlines() if "three times" in line][0]
            rejected = json.dumps(row["rejected"])
            assert any(
                c.text.strip() and json.dumps(c.text)[1:-1] in rejected
                for c in store.candidates(turn.turn_id)
            )


def test_api_bad_input_and_hostile_text(app_url, tmp_path):
    _, url = app_url
    client = Client(url, verbose=False, httpx_kwargs=SLOW_MACHINE)
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(Exception, match="broken.npz"):
        client.predict(handle_file(str(bad)), api_name="/open_motion")
    with pytest.raises(Exception, match="[Bb]ring a clip"):
        client.predict("What?", *SAMPLING, "", api_name="/ask")
    client.predict(handle_file(str(project_clip(tmp_path / "squat.npz"))), api_name="/open_motion")
    with pytest.raises(Exception, match="Type a question"):
        client.predict("   ", *SAMPLING, "", api_name="/ask")
    chat = texts(client.predict(HOSTILE, *SAMPLING, "", api_name="/ask")[0])
    assert "<img" not in chat[0] and "<script" not in chat[0] and "&lt;img" in chat[0]
    assert "<" not in chat[1].split('<small class="llamo-stats">')[0]  # the model's text is escaped too
    with pytest.raises(Exception, match="[Tt]ype your name"):
        client.predict(0, "fix", 3, [], "", api_name="/correct")  # nobody known: refused, said why
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict(0, "fix", 3, ["<b>tag</b>"], "bob", api_name="/correct")
    with pytest.raises(Exception, match="[Oo]nly reviewers"):
        client.predict("corrected", "", "", "", False, "bob", api_name="/review_list")
    # the app is still usable afterwards
    chat = texts(client.predict("Still there?", *SAMPLING, "", api_name="/ask")[0])
    assert len(chat) == 4


@pytest.mark.slow  # over 5 s (real app round trips)
def test_reviewer_accepts_and_roles_come_from_auth(tiny, tmp_path):
    cfg = AppConfig(users={"ana": "a-pw", "rui": "r-pw"}, reviewers=frozenset({"rui"}))
    demo, url = serve(tiny, tmp_path / "data", cfg)
    try:
        ana = Client(url, auth=("ana", "a-pw"), verbose=False, httpx_kwargs=SLOW_MACHINE)
        ana.predict(handle_file(str(project_clip(tmp_path / "squat.npz"))), api_name="/open_motion")
        ana.predict("What is the person doing?", *SAMPLING, "someone-else", api_name="/ask")
        ana.predict(0, "Squats.", 4, ["wrong action"], "someone-else", api_name="/correct")
        with pytest.raises(Exception, match="[Oo]nly reviewers"):
            ana.predict("llava", "all", "", "", api_name="/export")
        rui = Client(url, auth=("rui", "r-pw"), verbose=False, httpx_kwargs=SLOW_MACHINE)
        rows, note = rui.predict("corrected", "", "wrong action", "", False, "", api_name="/review_list")
        table = rows["data"] if isinstance(rows, dict) else rows
        assert len(table) == 1 and table[0][3] == "ana"  # the auth user, not the typed name
        turn_id = table[0][0]
        note, rows = rui.predict(
            turn_id, "", "fine", "", "corrected", "", "", "", False, api_name="/review_accept"
        )
        assert "accepted" in note
        assert not (rows["data"] if isinstance(rows, dict) else rows)  # no longer "corrected"
        store = demo.llamo_core.store
        assert store.list_turns(status="accepted")[0].turn_id == turn_id
        archive, counts, _ = rui.predict("llava", "accepted", "", "", api_name="/export")
        assert "Squats." in zipfile.ZipFile(archive).read("data.jsonl").decode()
        reopened = rui.predict(table[0][1], "", api_name="/reopen")
        assert "Reopened conversation" in reopened[14]
        chat = texts(reopened[10])
        assert chat[0] == "What is the person doing?" and chat[1] == "Squats."
        reopened = ana.predict(table[0][1], "", api_name="/reopen")  # her own: after a reload, say
        assert texts(reopened[10])[1] == "Squats."
    finally:
        demo.close()


@pytest.mark.slow  # over 5 s (real app round trips)
def test_range_selector_asks_about_a_part(app_url, tmp_path):
    demo, url = app_url
    client = Client(url, verbose=False, httpx_kwargs=SLOW_MACHINE)
    client.predict(handle_file(str(project_clip(tmp_path / "squat.npz"))), api_name="/open_motion")
    _, note = client.predict(2.0, 4.0, api_name="/set_span")
    assert "0:02.0–0:04.0" in note
    client.predict("What happens here?", *SAMPLING, "ana", api_name="/ask")
    _, _, status, _ = client.predict(0, "Going down.", 3, [], "ana", api_name="/correct")
    assert "Saved correction" in status
    store = demo.llamo_core.store
    turn = store.get_turn(store.list_turns(annotator="ana", limit=1)[0].turn_id)
    frames = turn.timings["selected_frames"]
    assert frames and max(frames) <= 2.0 * 20 + 1  # frame indices of the 2 s part
    with pytest.raises(Exception, match="two frames"):
        client.predict(3.0, 3.0, api_name="/set_span")
    # Clear: the chat empties, stored turns stay, the next question starts a new conversation
    chat, *_, note = client.predict(api_name="/clear")
    assert chat == [] and "stored turns are kept" in note
    chat = texts(client.predict("Again?", *SAMPLING, "ana", api_name="/ask")[0])
    assert len(chat) == 2
    rows = store.list_turns(annotator="ana", limit=10)
    assert len({r.conversation_id for r in rows if r.question in ("What happens here?", "Again?")}) == 2


@pytest.mark.slow  # over 5 s (real app round trips)
def test_long_video_refused_before_the_queue(tiny, tmp_path, shared_data):
    demo, url = serve(tiny, tmp_path / "data", AppConfig(max_duration_s=5.0))
    try:
        client = Client(url, verbose=False, httpx_kwargs=SLOW_MACHINE)
        with pytest.raises(Exception, match="pose_squats.mp4 lasts 13 s; the limit is 5 s"):
            client.predict(
                handle_file(str(shared_data / "videos" / "pose_squats.mp4")), api_name="/open_video"
            )
        assert demo.llamo_core.store.stats()["clips"] == 0  # refused before decoding or storing
    finally:
        demo.close()


def write_blank_video(path: Path, frames: int = 20) -> Path:
    import av
    import numpy as np

    with av.open(str(path), "w") as f:
        stream = f.add_stream("libx264", rate=10)
        stream.width = stream.height = 128
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((128, 128, 3), 90 + i, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                f.mux(packet)
        for packet in stream.encode():
            f.mux(packet)
    return path


@pytest.mark.slow  # over 5 s (real app round trips)
def test_video_without_a_person_and_examples(app_url, tmp_path):
    demo, url = app_url
    client = Client(url, verbose=False, httpx_kwargs=SLOW_MACHINE)
    with pytest.raises(Exception, match="[Nn]o person was found in empty.mp4"):
        client.predict(handle_file(str(write_blank_video(tmp_path / "empty.mp4"))), api_name="/open_video")
    examples = demo.llamo_core.examples()
    if not examples:
        with pytest.raises(Exception, match="[Pp]ick an example first"):
            client.predict(None, api_name="/open_example")
    else:
        name = next(iter(examples))
        out = client.predict(name, api_name="/open_example")
        assert name in out[0].replace("\\", "") and "Opened the example" in out[14]
    assert demo.llamo_core.store.stats()["clips"] >= 0  # the server is still up
    client.predict(handle_file(str(project_clip(tmp_path / "squat.npz"))), api_name="/open_motion")


def test_handlers_name_their_outputs(tiny, tmp_path):
    """Without a server: handlers return {component: value}, the review table is read by column
    name, the question validator is core's check, and bound handlers still look like the
    functions Gradio inspects (parameters, type hints, streaming)."""
    import inspect
    from types import SimpleNamespace

    import gradio as gr
    import pandas as pd

    from app.annotating import REVIEW_COLUMNS
    from app.core import LlamoApp
    from app.ui import handlers as h
    from app.ui.context import Ui
    from app.ui.events import bind
    from app.ui.layout import build_layout

    core = LlamoApp(tiny, Store.open(tmp_path / "d", announce=False), AppConfig())
    ui = Ui(core, build_layout(core))
    r = ui.page.review
    rui = SimpleNamespace(username="rui", session_hash=None)
    core.config.users, core.config.reviewers = {"rui": "pw"}, frozenset({"rui"})  # review_pick asks
    row = dict(
        zip(
            REVIEW_COLUMNS,
            [7, 3, "corrected", "ana", "ab12", "", "", "q?", "the model's", "fixed"],
            strict=True,
        )
    )
    table = pd.DataFrame([row])[list(reversed(REVIEW_COLUMNS))]  # by name, whatever the column order
    assert h.review_pick(ui, table, "", SimpleNamespace(index=[0, 1]), rui) == {
        r.turn: 7,
        r.text: "fixed",
        r.conversation: 3,
    }
    row["correction"] = ""
    picked = h.review_pick(ui, [list(row.values())], "", SimpleNamespace(index=[0, 0]), rui)
    assert picked[r.text] == "the model's"
    with pytest.raises(LlamoError, match="only reviewers"):
        h.review_pick(ui, table, "", SimpleNamespace(index=[0, 1]), None)
    core.config.users, core.config.reviewers = {}, frozenset()

    sampling, s = (0.0, 1.0, 24, -1, ""), Session()  # a tab without a clip
    for question, message in [("  ", "Type a question about the clip."),
                              ("x" * 2001, "The question is 2,001 characters long; the limit is 2,000."),
                              ("What?", "Bring a clip first: upload a video or motion file, or pick an example.")]:  # fmt: skip
        first, *rest = h.check_question(ui, question, s, *sampling)
        assert first == gr.validate(False, message) and rest == [gr.validate(True, "")] * 6
        with pytest.raises(LlamoError, match=message[1:12]):  # the same check inside core.ask
            list(core.ask(s, question, Settings(), None))
    s.close()

    cleared = h.clear(ui, None)
    assert (
        set(cleared) == {*ui.page.answer_outputs(), ui.page.chat.chatbot}
        and cleared[ui.page.chat.fix_box] == ""
    )
    ask = bind(h.ask, ui)
    assert inspect.isgeneratorfunction(ask) and ask.__name__ == "ask"
    assert list(inspect.signature(ask).parameters)[:2] == ["question", "state"]
    assert inspect.signature(ask).parameters["request"].annotation is gr.Request
    assert inspect.signature(bind(h.review_act, ui, "accept")).parameters["turn_id"]


def test_error_messages_are_escaped():
    from app.ui.errors import sentence

    # Gradio renders error toasts as HTML: a file name must not become markup
    assert sentence('<img src="http://x/t.png">.npz could not be read.') == (
        '&lt;img src="http://x/t.png"&gt;.npz could not be read.'
    )
    assert sentence("the question is empty.") == "The question is empty."
    assert sentence("squat.npz lasts 8 s.") == "squat.npz lasts 8 s."


def test_markdown_text_is_inert():
    from app.render import esc_md, summary_markdown

    md = summary_markdown({"title": "![x](http://127.0.0.1:9/y.png) <b>a</b>.npz", "duration": 2.0, "fps": 20.0,
                           "num_frames": 40, "person_pct": 100.0, "warnings": ["legs out of frame [0:01]"]})  # fmt: skip
    assert "![x](" not in md and "<b>" not in md and r"\!\[x\]\(" in md
    assert esc_md("a_b*c") == r"a\_b\*c"


@pytest.mark.slow  # over 5 s (real app round trips)
def test_on_a_space_with_sign_in(tiny, tmp_path, monkeypatch):
    """As Hugging Face runs it (SYSTEM=spaces, SPACE_ID, hf_oauth): a sign-in button, no typed
    names, a banner without /data, corrections refused until signed in, export hidden."""
    import httpx

    for key, value in {"SYSTEM": "spaces", "SPACE_ID": "me/llamo", "OAUTH_CLIENT_ID": "x", "OAUTH_CLIENT_SECRET": "y",
                       "OAUTH_SCOPES": "openid profile", "OPENID_PROVIDER_URL": "https://huggingface.co"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
        if key.startswith(("OAUTH_", "OPENID_")):  # gradio.oauth read these at import
            monkeypatch.setattr(f"gradio.oauth.{key}", value)
    cfg = AppConfig.from_env()
    assert cfg.on_spaces and cfg.oauth and not cfg.typed_names_allowed
    cfg.persistent_storage = False  # as without /data
    demo, url = serve(tiny, tmp_path / "data", cfg)
    try:
        config = httpx.get(url + "config").json()
        kinds = {c["type"] for c in config["components"]}
        texts_shown = " ".join(str(c.get("props", {}).get("value", "")) for c in config["components"])
        assert "loginbutton" in kinds or "Sign in with Hugging Face" in texts_shown
        assert "Storage is ephemeral" in texts_shown and "lost when it restarts" in texts_shown
        client = Client(url, verbose=False, httpx_kwargs=SLOW_MACHINE)
        client.predict(handle_file(str(project_clip(tmp_path / "squat.npz"))), api_name="/open_motion")
        client.predict("What is the person doing?", *SAMPLING, "typed-name", api_name="/ask")
        with pytest.raises(Exception, match="[Ss]ign in with Hugging Face"):
            client.predict(0, "fix", 3, [], "typed-name", api_name="/correct")
        with pytest.raises(Exception, match="[Oo]nly reviewers"):
            client.predict("llava", "all", "", "typed-name", api_name="/export")
    finally:
        demo.close()


def test_summary_shows_what_the_model_is_told(tmp_path):
    """With a summary-token model, opening a clip lists the rows the LLM receives, in words."""
    from app.core import LlamoApp
    from app.render import UNNAMED, summary_markdown
    from llamo.testing import random_walk, tiny_model

    model = tiny_model(summary_tokens=2)
    core = LlamoApp(model, Store.open(tmp_path / "data", announce=False), AppConfig())
    session = Session()
    clip = random_walk(80)
    path = tmp_path / "walk.npz"
    clip.save(path)
    core.open_file(session, path)
    reads = session.clip.info["model_reads"]
    assert reads == model.motion_summary(model.encode_motion(session.clip.motion)) and 1 <= len(reads) <= 2
    md = summary_markdown(session.clip.info)
    first = UNNAMED if reads[0]["action"] == "other" else reads[0]["action"].replace("_", " ")
    assert "What the model is told about the motion: " + first in md
    session.close()


def test_summary_counts_read_as_whole_repetitions():
    from app.render import esc_md, summary_markdown

    info = {"title": "c.npz", "duration": 13.0, "fps": 20.0, "num_frames": 260, "person_pct": 100.0}
    rows = [("squat", 2.6, 0.6, 12.7), ("bend_forward", 0.5, 3.6, 10.1), ("arm_raise", 0.1, 0.2, 9.9),
            ("other", 2.2, 10.0, 12.0)]  # fmt: skip
    info["model_reads"] = [{"action": a, "count": c, "start_s": s, "end_s": e} for a, c, s, e in rows]
    md = summary_markdown(info)
    assert (
        esc_md("squat ×3 (0:00.6–0:12.7) · bend forward ×1 (0:03.6–0:10.1) · arm raise (0:00.2–0:09.9)") in md
    )
    assert esc_md("a movement it has no name for ×2 (0:10.0–0:12.0)") in md  # the summary's "other"


def test_streaming_updates_are_throttled_but_the_first_text_is_not():
    """A page update per token cost more than the decoding with ten tabs; the first text still
    goes out at once (time to first token), then at most one update per interval."""
    from types import SimpleNamespace

    from app.ui.handlers import throttled

    clock = iter([0.0, 0.01, 0.02, 0.03, 0.05, 0.16, 0.2, 0.33]).__next__
    answers = ["", "A", "An", "Ans", "Answ", "Answe", "Answer", "Answer."]
    shown = [t.answer for t in throttled((SimpleNamespace(answer=a) for a in answers), 0.15, clock)]
    assert shown == ["", "A", "Answe", "Answer."]
