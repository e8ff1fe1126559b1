"""The whole flow in a real browser (headless Debian chromium via Playwright), by clicking, on the
real default model: bring the squat video, move the cursor, chat twice, regenerate, jump to
where the model looked, correct beside the chat and in place, ask something hostile, export
and find the correction in the downloaded zip. A screenshot of every step goes to
artifacts/browser/ (look at them).

Each step is its own test, in page order, on one module-scoped page: a failure names the step
that broke, and the steps after it are skipped (the `incremental` marker, tests/conftest.py)."""

import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from conftest import SLOW_MACHINE  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ART = ROOT / "artifacts" / "browser"
SQUATS = ROOT.parent / "shared" / "data" / "videos" / "pose_squats.mp4"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]  # a test-pattern webcam  # fmt: skip
HOSTILE = 'Is <b>this</b> a squat? <img src="http://127.0.0.1:9/t.png"> ![x](http://127.0.0.1:9/y.png)'
VIEWPORT = {"width": 1400, "height": 1000}

NEEDS_CHROMIUM = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (apt-get install chromium)"
)
pytestmark = [pytest.mark.slow, pytest.mark.incremental, NEEDS_CHROMIUM]


def reload_and_reopen(page, answer: str) -> None:
    """Reload the page, reopen the newest of "My conversations" and wait for `answer` in the chat."""
    page.reload()
    page.wait_for_selector("#llamo-chat", timeout=60_000)
    page.locator("#llamo-mine-box").get_by_text("My conversations").click()
    page.locator("#llamo-mine input").click()
    page.get_by_role("option").first.click()
    page.locator("#llamo-mine-open").click()
    wait_text(page, "#llamo-status", "Reopened your conversation", 120)
    wait_text(page, "#llamo-chat", answer, 30)


def serve(model, data_dir: Path, config):
    """The app on `model` with a fresh store in `data_dir`, launched for a browser: (demo, url)."""
    from annotations.store import Store
    from app import create_app
    from app.ui import launch_kwargs

    demo = create_app(model, Store.open(data_dir, announce=False), config)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True,
                            **launch_kwargs(demo.llamo_core))  # fmt: skip
    return demo, url


def wait_text(page, selector: str, text: str, timeout: float = 180) -> None:
    page.wait_for_function(
        "([s, t]) => { const e = document.querySelector(s); return e && e.innerText.includes(t); }",
        arg=[selector, text], timeout=timeout * 1000,
    )  # fmt: skip


def answers_shown(page, n: int, timeout: float = 240) -> None:
    """Wait until n answers are finished (each has its small print beside the chat)."""
    page.wait_for_function(
        "n => document.querySelector('#llamo-answer-stats').innerText.split('first token').length - 1 >= n",
        arg=n, timeout=timeout * 1000,
    )  # fmt: skip


class Shots:
    """Numbered screenshots in page order, so artifacts/browser/ reads as the flow."""

    def __init__(self, first: int = 1) -> None:
        self.n = first - 1
        ART.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, name: str, full: bool = False) -> None:
        self.n += 1
        page.screenshot(path=str(ART / f"{self.n:02d}-{name}.png"), full_page=full)


@pytest.fixture(scope="module")
def shot():
    for old in ART.glob("*.png"):
        old.unlink()
    return Shots()


@dataclass
class Flow:
    page: object  # playwright Page
    demo: object  # the served Blocks (demo.llamo_core is the app)
    url: str
    outside: list[str]  # requests to the hostile text's host (there must be none)


@pytest.fixture(scope="module")
def flow(served, browser):
    """One page on the served app, shared by the steps of TestFlow in order."""
    demo, url = served
    page = browser.new_page(viewport=VIEWPORT)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if "127.0.0.1:9/" in r.url else None)
    page.goto(url)
    yield Flow(page, demo, url, outside)
    page.close()


class TestFlow:
    """The annotator's flow on the real model, step by step."""

    def test_page_opens_and_takes_a_name(self, flow, shot):
        page = flow.page
        page.wait_for_selector("#llamo-chat", timeout=60_000)
        shot(page, "start")
        page.get_by_label("Your name").fill("ana")
        page.get_by_label("Your name").press("Enter")
        wait_text(page, "#llamo-who", "ana (typed name, annotator)", 30)

    def test_clip_opens_with_its_views(self, flow, shot, tmp_path_factory):
        page, demo = flow.page, flow.demo
        if SQUATS.exists():  # the real squat video: pose extraction, overlay, views
            page.locator("#llamo-video-in input[type=file]").set_input_files(str(SQUATS))
        else:  # a fresh clone without ../shared/data: a project-made motion
            from llamo.data.synth import synthesize

            clip = synthesize("squat", reps=3, seed=0).save(tmp_path_factory.mktemp("clip") / "squat.npz")
            page.get_by_role("tab", name="Motion file").click()
            page.locator("#llamo-motion-in input[type=file]").set_input_files(str(clip))
        wait_text(page, "#llamo-status", "Opened", 240)
        wait_text(page, "#llamo-summary", "Repetitions found")
        if demo.llamo_core.model.summary is not None:  # the shipped checkpoint's
            wait_text(page, "#llamo-summary", "What the model is told about the motion:", 30)
            told = (
                page.locator("#llamo-summary")
                .inner_text()
                .split("What the model is told about the motion:")[1]
            )
            assert "squat ×" in told.splitlines()[0], told  # a squat row with its count, among others
        page.wait_for_selector("#llamo-kinematics .js-plotly-plot", timeout=30_000)
        if SQUATS.exists():
            page.wait_for_function(
                "document.querySelector('#llamo-overlay video')?.readyState >= 1", timeout=30_000
            )
        page.locator("#llamo-skeleton").scroll_into_view_if_needed()
        shot(page, "clip-opened-views", full=True)
        page.locator("#llamo-glb").scroll_into_view_if_needed()
        page.wait_for_selector("#llamo-glb canvas", timeout=30_000)
        page.wait_for_timeout(2000)  # the animated GLB plays (WebGL through swiftshader)
        shot(page, "animated-glb")

    def test_cursor_drives_skeleton_video_and_kinematics(self, flow, shot):
        page = flow.page
        box = page.locator("#llamo-cursor input[type=number]")
        box.fill("3")
        box.press("Enter")
        wait_text(page, "#llamo-skeleton", "time 0:03.0", 30)
        page.wait_for_function(  # and the kinematics plots carry the cursor line
            "() => (document.querySelector('#llamo-kinematics .js-plotly-plot').layout.shapes || [])"
            ".some(x => x.name === 'llamo-cursor' && Math.abs(x.x0 - 3) < 1e-6)",
            timeout=30_000,
        )
        if SQUATS.exists():
            t = page.evaluate("document.querySelector('#llamo-overlay video').currentTime")
            assert abs(t - 3.0) < 0.3, t
        page.locator("#llamo-skeleton").scroll_into_view_if_needed()
        shot(page, "cursor-at-3s")
        page.locator("#llamo-kinematics").scroll_into_view_if_needed()
        shot(page, "cursor-on-kinematics")

    def test_two_questions_are_answered(self, flow, shot):
        page = flow.page
        chat = page.locator("#llamo-chat")
        for i, text in enumerate(["What is the person doing?", "How many repetitions?"], start=1):
            page.locator("#llamo-question textarea").fill(text)
            page.locator("#llamo-ask").click()
            answers_shown(page, i)
            chat.scroll_into_view_if_needed()
            shot(page, f"answer-{i}")
        assert "How many repetitions?" in chat.inner_text()
        # the count is held to the measured one, and the small print says where it was counted
        wait_text(page, "#llamo-answer-stats", "The number is counted from the joints:", 30)

    def test_regenerate(self, flow, shot):
        page = flow.page
        page.locator("#llamo-regenerate").click()
        wait_text(page, "#llamo-answer-stats", "regenerated ×1", 240)
        shot(page, "regenerated")

    def test_jump_to_where_the_model_looked(self, flow, shot):
        """Marks on the timeline; clicking one moves the cursor there."""
        page = flow.page
        jump = page.locator("#llamo-jump label")
        assert jump.count() >= 1
        last = jump.last
        minutes, seconds = last.inner_text().split(" ")[0].split(":")
        target = float(minutes) * 60 + float(seconds)
        last.click()
        page.wait_for_function(
            "t => Math.abs(parseFloat(document.querySelector('#llamo-cursor input[type=number]').value) - t) < 0.06",
            arg=target, timeout=30_000,
        )  # fmt: skip
        page.locator("#llamo-timeline").scroll_into_view_if_needed()
        shot(page, "jumped-to-where-the-model-looked")

    def test_correct_beside_the_chat(self, flow, shot):
        """Answer 2 is preselected; a rating and a tag go with the correction."""
        page = flow.page
        page.locator("#llamo-fix textarea").fill("They do three squats.")
        page.get_by_label("wrong count").check()
        page.locator("#llamo-save").click()
        wait_text(page, "#llamo-save-status", "Saved correction", 30)
        assert "They do three squats." in page.locator("#llamo-chat").inner_text()
        shot(page, "corrected-beside")

    def test_correct_in_place(self, flow, shot):
        """The chat's own edit button on answer 1."""
        page = flow.page
        chat = page.locator("#llamo-chat")
        chat.locator("button[aria-label=Edit]").nth(1).click()
        chat.locator("textarea").first.fill("A woman doing squats <3 times, facing the camera.")
        chat.locator("button[aria-label=Submit]").click()
        wait_text(page, "#llamo-save-status", "of answer 1", 30)
        assert "A woman doing squats <3 times" in chat.inner_text()
        shot(page, "corrected-in-place")

    def test_hostile_text_is_shown_literally_and_loads_nothing(self, flow, shot):
        page, outside = flow.page, flow.outside
        chat = page.locator("#llamo-chat")
        page.locator("#llamo-question textarea").fill(HOSTILE)
        page.locator("#llamo-ask").click()
        answers_shown(page, 3)
        assert HOSTILE in chat.inner_text()
        assert chat.locator("b").count() == 0 and chat.locator("img[src*='127.0.0.1:9']").count() == 0
        assert not outside, outside
        shot(page, "hostile-text-escaped")

    def test_like_saves_and_question_edit_is_refused(self, flow, shot):
        """Thumbs up on answer 3 = "the model was right"; editing a question is refused and recorded."""
        page = flow.page
        chat = page.locator("#llamo-chat")
        chat.locator("button[aria-label=Like]").last.click()
        wait_text(page, "#llamo-save-status", "answer 3 is right", 30)
        chat.locator("button[aria-label=Edit]").first.click()
        chat.locator("textarea").first.fill("What is she doing, really?")
        chat.locator("button[aria-label=Submit]").click()
        wait_text(page, "#llamo-save-status", "can't be changed", 30)
        assert "What is the person doing?" in chat.inner_text() and "really?" not in chat.inner_text()
        shot(page, "liked-and-question-edit-refused")

    def test_export_zip_holds_both_corrections(self, flow, shot):
        page, demo = flow.page, flow.demo
        page.get_by_role("tab", name="Export").click()
        page.get_by_label("dpo").check()
        page.locator("#llamo-export").click()
        link = page.locator("#llamo-export-file a").first
        link.wait_for(timeout=60_000)
        data = page.request.get(link.get_attribute("href")).body()
        rows = zipfile.ZipFile(io.BytesIO(data)).read("data.jsonl").decode()
        assert "They do three squats." in rows and "<3 times" in rows
        assert all(json.loads(r)["rejected"] for r in rows.splitlines())
        shot(page, "exported")
        page.get_by_role("tab", name="Model").click()
        shot(page, "model-tab")
        assert {r.correction for r in demo.llamo_core.store.list_turns(status="corrected")} >= {
            "They do three squats.", "A woman doing squats <3 times, facing the camera."}  # fmt: skip

    def test_closing_a_tab_stops_its_answer(self, flow, browser, shot, tmp_path_factory):
        """Closing a tab mid-answer stops its generation; the partial answer is kept as a candidate."""
        demo = flow.demo
        tab = browser.new_page(viewport=VIEWPORT)
        tab.goto(flow.url)
        tab.wait_for_selector("#llamo-chat", timeout=60_000)
        if demo.llamo_core.examples():  # the bundled examples, through the Examples tab
            tab.get_by_role("tab", name="Examples").click()
            tab.locator("#llamo-open-example").click()
        else:
            from llamo.data.synth import synthesize

            clip = synthesize("walk", reps=2, seed=1).save(tmp_path_factory.mktemp("walk") / "walk.npz")
            tab.get_by_role("tab", name="Motion file").click()
            tab.locator("#llamo-motion-in input[type=file]").set_input_files(str(clip))
        wait_text(tab, "#llamo-status", "Opened", 120)
        tab.get_by_text("Sampling").click()
        tab.locator("#llamo-max-new input[type=number]").fill("512")
        tab.locator("#llamo-max-new input[type=number]").press("Enter")
        tab.locator("#llamo-question textarea").fill("Describe every step of this walk in great detail.")
        tab.locator("#llamo-ask").click()
        tab.wait_for_function(
            "document.querySelector('#llamo-chat').innerText.includes('Describe every step')", timeout=120_000
        )
        tab.wait_for_timeout(1500)  # some tokens stream
        tab.locator("#llamo-chat").scroll_into_view_if_needed()
        shot(tab, "long-answer-before-closing")
        tab.close()
        store = demo.llamo_core.store
        deadline = time.monotonic() + 90
        partial = []
        while time.monotonic() < deadline and not partial:
            rows = [r for r in store.list_turns(limit=50) if r.question.startswith("Describe every step")]
            partial = [c for r in rows for c in store.candidates(r.turn_id)]
            time.sleep(0.5)
        assert partial, "the closed tab's answer was not stored"
        assert partial[0].partial and partial[0].timings["new_tokens"] < 512, (
            "closing the tab did not stop the answer"
        )


# ---- the review tab, with sign-in (a tiny model: no generation quality is needed) ----------------


@dataclass
class SignedIn:
    demo: object
    url: str
    tmp: Path


@pytest.fixture(scope="module")
def signed_in_app(tmp_path_factory):
    """ana (annotator) and rui (reviewer) behind launch(auth=...); ana has one corrected turn."""
    from gradio_client import Client, handle_file

    from annotations.store import Store
    from app import AppConfig, create_app
    from app.ui import launch_kwargs
    from llamo.data.synth import synthesize
    from llamo.testing import tiny_model

    tmp = tmp_path_factory.mktemp("review")
    ART.mkdir(parents=True, exist_ok=True)
    cfg = AppConfig(users={"ana": "a-pw", "rui": "r-pw"}, reviewers=frozenset({"rui"}), max_new_tokens=16)
    demo = create_app(tiny_model(), Store.open(tmp / "data", announce=False), cfg)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True,
                            **launch_kwargs(demo.llamo_core))  # fmt: skip
    try:
        clip = synthesize("squat", reps=3, seed=0).save(tmp / "squat.npz")
        ana = Client(url, auth=("ana", "a-pw"), verbose=False, httpx_kwargs=SLOW_MACHINE)
        ana.predict(handle_file(str(clip)), api_name="/open_motion")
        ana.predict("How many squats? <i>x</i>", 1.0, 1.0, 16, 5, "", api_name="/ask")
        ana.predict(0, "Three squats.", 2, ["wrong count"], "", api_name="/correct")
        yield SignedIn(demo, url, tmp)
    finally:
        demo.close()


def sign_in(browser, url: str, user: str, password: str):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#llamo-chat", timeout=60_000)
    return page


@pytest.fixture(scope="module")
def ana_page(browser, signed_in_app):
    page = sign_in(browser, signed_in_app.url, "ana", "a-pw")
    yield page
    page.close()


@pytest.fixture(scope="module")
def rui_page(browser, signed_in_app):
    page = sign_in(browser, signed_in_app.url, "rui", "r-pw")
    yield page
    page.close()


class TestReviewTab:
    """An annotator does not see the tab; a reviewer filters, accepts and reopens."""

    def test_annotator_sees_no_review_tab(self, ana_page):
        ana_page.wait_for_function(
            "document.querySelector('#llamo-who').innerText.includes('ana (signed in')"
        )
        assert ana_page.get_by_role("tab", name="Review").count() == 0

    def test_webcam_without_a_person_says_so(self, ana_page):
        """Chromium's fake camera (a test pattern, no person) records 2 s; the clip reaches the
        pipeline, which says so in one sentence and leaves the chat alone."""
        cam = ana_page.locator("#llamo-video-in")
        cam.get_by_role("button", name="Capture from camera").click()
        cam.get_by_text("Click to Access Webcam").click()
        cam.get_by_role("button", name="start recording").click()
        ana_page.wait_for_timeout(2000)
        cam.get_by_role("button", name="start recording").click()  # the same button stops
        ana_page.get_by_text("No person was found in").wait_for(timeout=60_000)
        assert "Error" not in ana_page.locator("#llamo-chat").inner_text()
        ana_page.screenshot(path=str(ART / "19-webcam-no-person.png"))

    def test_hostile_file_name_is_escaped(self, ana_page, signed_in_app):
        """A file name is user text too (Gradio strips < > from uploaded names; we escape anyway)."""
        bad = signed_in_app.tmp / "<i>bad<i> clip.npz"
        bad.write_bytes(b"not a motion")
        ana_page.get_by_role("tab", name="Motion file").click()
        ana_page.locator("#llamo-motion-in input[type=file]").set_input_files(str(bad))
        ana_page.get_by_text("clip.npz could not be read").first.wait_for(timeout=60_000)
        assert ana_page.locator(".toast-body i, [class*=toast] i").count() == 0
        ana_page.screenshot(path=str(ART / "19b-hostile-file-name.png"))

    def test_reviewer_filters_and_picks_a_turn(self, rui_page):
        page = rui_page
        page.get_by_role("tab", name="Review").click()
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_function(  # the queue shows the question; the record beside it the texts
            "document.querySelector('#llamo-review-table').innerText.includes('How many squats?')"
        )
        assert "<i>x</i>" in page.locator("#llamo-review-table").inner_text()  # shown literally
        page.screenshot(path=str(ART / "20-review-table.png"))
        page.locator("#llamo-review-table span.text", has_text="How many squats?").first.click()
        page.wait_for_function(
            "document.querySelector('#llamo-review-record').innerText.includes('Three squats.')"
        )
        page.wait_for_function(
            '[...document.querySelectorAll("textarea")].some(t => t.value === "Three squats.")'
        )

    def test_reviewer_accepts(self, rui_page, signed_in_app):
        rui_page.get_by_role("button", name="Accept", exact=True).click()
        rui_page.wait_for_function("document.body.innerText.includes('accepted.')", timeout=30_000)
        rui_page.screenshot(path=str(ART / "21-review-accepted.png"))
        assert (
            signed_in_app.demo.llamo_core.store.list_turns(status="accepted")[0].correction == "Three squats."
        )

    def test_reviewer_reopens_the_conversation(self, rui_page):
        rui_page.get_by_role("button", name="Reopen clip and conversation").click()
        rui_page.wait_for_function(
            "document.querySelector('#llamo-chat').innerText.includes('Three squats.')", timeout=60_000
        )
        rui_page.wait_for_selector("#llamo-skeleton .js-plotly-plot", timeout=30_000)
        rui_page.screenshot(path=str(ART / "22-review-reopened.png"))
