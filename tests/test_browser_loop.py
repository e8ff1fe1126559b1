"""Issue 18's whole loop in a real browser (headless Debian chromium), as three people on one
served app: ana (annotator) opens the real squat video, marks a segment, corrects an answer,
regenerates and reloads; rui (reviewer) accepts it in the queue; ada (admin) exports. Then, as a
team would on the command line: push the store to a local `datasets` folder, train `--init` on
the browser's export, and ask the new model the corrected question again.

The app runs on a tiny checkpoint (llamo.testing.tiny_checkpoint) so that the same checkpoint
trains in seconds; the clip is real. Steps are one class, in order (the `incremental` marker): a
failure names the step. Screenshots: artifacts/browser/loop-N-*.png (look at them)."""

import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from test_browser_app import (  # noqa: E402
    ART,
    NEEDS_CHROMIUM,
    ROOT,
    SQUATS,
    reload_and_reopen,
    serve,
    sign_in,
    wait_text,
)

QUESTION = "How many squats does she do?"
FIX = "Three squats."
USERS = {"ana": "a-pw", "rui": "r-pw", "ada": "d-pw"}
pytestmark = [
    pytest.mark.slow,
    pytest.mark.incremental,
    NEEDS_CHROMIUM,
    pytest.mark.skipif(not SQUATS.exists(), reason=f"the real squat video is not at {SQUATS}"),
]


@dataclass
class Loop:
    """The served app and what the steps hand on to each other."""

    demo: object
    url: str
    tmp: Path
    pages: dict = field(default_factory=dict)  # user name -> signed-in page
    export: Path | None = None  # the unzipped export the admin downloaded

    @property
    def ckpt(self) -> Path:
        return self.tmp / "ckpt"


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    from app import AppConfig
    from llamo.model import Llamo
    from llamo.testing import tiny_checkpoint

    tmp = tiny_checkpoint(tmp_path_factory.mktemp("loop"))
    model = Llamo.from_pretrained(tmp / "ckpt").merge_lora().eval()
    cfg = AppConfig(users=USERS, reviewers=frozenset({"rui"}), admins=frozenset({"ada"}),
                    max_new_tokens=16, min_new_tokens=4)  # fmt: skip
    demo, url = serve(model, tmp / "data", cfg)
    yield Loop(demo, url, tmp)
    demo.close()


def page_of(loop: Loop, browser, user: str):
    """Each person in a browser context of their own (their own sign-in cookie)."""
    if user not in loop.pages:
        loop.pages[user] = sign_in(browser, loop.url, user, USERS[user])
    return loop.pages[user]


def shot(page, n: int, name: str, full: bool = True) -> None:
    ART.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ART / f"loop-{n}-{name}.png"), full_page=full)


def run(*argv: str, timeout: float = 600) -> str:
    """A project command as a user runs it; its output on failure."""
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done.stdout


def answer(ckpt: Path, motion: Path) -> str:
    """The greedy answer of a checkpoint to the corrected question (`llamo chat`)."""
    return run("-m", "llamo", "chat", str(motion), "-q", QUESTION, "--model", str(ckpt),
               "--max-new-tokens", "16", "--device", "cpu", "--quiet").strip()  # fmt: skip


def set_cursor(page, seconds: float) -> None:
    box = page.locator("#llamo-cursor input[type=number]")
    box.fill(str(seconds))
    box.press("Enter")
    page.wait_for_timeout(300)


class TestLoop:
    def test_1_annotator_marks_a_segment_on_the_real_clip(self, loop, browser):
        page = page_of(loop, browser, "ana")
        page.locator("#llamo-video-in input[type=file]").set_input_files(str(SQUATS))
        wait_text(page, "#llamo-status", "Opened", 300)
        page.wait_for_function(
            "document.querySelector('#llamo-overlay video')?.readyState >= 1", timeout=60_000
        )
        set_cursor(page, 1.0)
        page.locator("#llamo-seg-start-now").click()
        page.wait_for_function("() => document.querySelector('#llamo-seg-start input').value === '1'")
        set_cursor(page, 2.5)
        page.locator("#llamo-seg-end-now").click()
        page.wait_for_function("() => document.querySelector('#llamo-seg-end input').value === '2.5'")
        page.locator("#llamo-seg-label input, #llamo-seg-label textarea").first.fill("rep 1: knee valgus")
        page.locator("#llamo-seg-add").click()
        wait_text(page, "#llamo-seg-status", "Segment 1 added", 60)
        wait_text(page, "#llamo-seg-table", "rep 1: knee valgus", 30)
        page.locator("#llamo-kinematics").scroll_into_view_if_needed()
        shot(page, 1, "segment", full=False)
        (found,) = loop.demo.llamo_core.store.clip_segments()
        assert [(s.start_s, s.end_s, s.author) for s in found.segments] == [(1.0, 2.5, "ana")]

    def test_2_annotator_corrects_an_answer(self, loop, browser):
        page = page_of(loop, browser, "ana")
        page.locator("#llamo-question textarea").fill(QUESTION)
        page.locator("#llamo-ask").click()
        wait_text(page, "#llamo-answer-stats", "first token", 120)
        page.wait_for_function(  # the answer is picked for correction (this resets the form) ...
            "q => document.querySelector('#llamo-answer-pick input').value.includes(q)", arg=QUESTION
        )
        page.wait_for_timeout(1000)  # ... and that reset has landed before typing
        page.locator("#llamo-fix textarea").fill(FIX)
        page.get_by_label("wrong count").check()
        page.locator("#llamo-save").click()
        wait_text(page, "#llamo-save-status", "Saved correction", 30)
        wait_text(page, "#llamo-chat", FIX, 30)
        shot(page, 2, "corrected")
        (turn,) = loop.demo.llamo_core.store.list_turns(status="corrected")
        assert (turn.correction, turn.question) == (FIX, QUESTION)

    def test_3_regenerate_keeps_the_correction(self, loop, browser):
        page = page_of(loop, browser, "ana")
        page.locator("#llamo-regenerate").click()
        wait_text(page, "#llamo-answer-stats", "regenerated ×1", 120)
        wait_text(page, "#llamo-chat", FIX, 30)
        assert page.locator("#llamo-fix textarea").input_value() == FIX
        page.evaluate("window.scrollTo(0, 0)")  # the chat, at the top
        shot(page, 3, "regenerated", full=False)
        (turn,) = loop.demo.llamo_core.store.list_turns(status="corrected")
        assert len(loop.demo.llamo_core.store.candidates(turn.turn_id)) == 2  # both answers kept

    def test_4_reload_and_reopen(self, loop, browser):
        page = page_of(loop, browser, "ana")
        reload_and_reopen(page, FIX)
        wait_text(page, "#llamo-seg-table", "rep 1: knee valgus", 30)
        shot(page, 4, "reloaded-and-reopened", full=False)

    def test_5_reviewer_accepts_in_the_queue(self, loop, browser):
        page = page_of(loop, browser, "rui")
        page.get_by_role("tab", name="Review").click()
        page.locator("#llamo-review-refresh").click()
        wait_text(page, "#llamo-review-table", QUESTION, 60)
        page.locator("#llamo-review-table span.text", has_text=QUESTION).first.click()
        wait_text(page, "#llamo-review-record", "Revision 1 by", 60)
        assert "ana" in page.locator("#llamo-review-record").inner_text()
        assert page.locator("#llamo-review-text textarea").input_value() == FIX
        page.wait_for_selector("#llamo-review-glb canvas", timeout=60_000)
        page.wait_for_timeout(1500)  # the clip's 3D view draws
        page.locator("#llamo-review-accept").click()
        wait_text(page, "#llamo-review-note", "accepted", 30)
        shot(page, 5, "review-accepted")
        assert [t.correction for t in loop.demo.llamo_core.store.list_turns(status="accepted")] == [FIX]

    def test_6_admin_exports(self, loop, browser):
        page = page_of(loop, browser, "ada")
        page.get_by_role("tab", name="Export").click()
        page.get_by_label("Status of turns").click()
        page.get_by_role("option", name="accepted", exact=True).click()
        page.locator("#llamo-export").click()
        link = page.locator("#llamo-export-file a").first
        link.wait_for(timeout=60_000)
        data = page.request.get(link.get_attribute("href")).body()
        loop.export = loop.tmp / "export"
        zipfile.ZipFile(io.BytesIO(data)).extractall(loop.export)
        rows = (loop.export / "data.jsonl").read_text()
        assert FIX in rows and "knee valgus" in rows  # the correction and the segment
        shot(page, 6, "exported")

    def test_7_push_to_a_local_dataset_folder(self, loop):
        from datasets import load_from_disk

        out = loop.tmp / "dataset"
        run("-m", "annotations", "--data-dir", str(loop.tmp / "data"), "push", "-o", str(out))
        (row,) = [r for r in load_from_disk(str(out)) if r["question"] == QUESTION]
        assert {"user_id": "ana", "value": FIX, "status": "accepted"} in row["responses"]
        assert len(row["motion"]) > 30 and row["fps"] > 0  # the real clip's frames
        assert (out / "README.md").exists()

    def test_8_train_init_on_the_export(self, loop):
        new = loop.tmp / "next"
        run("-m", "llamo", "train", "--init", str(loop.ckpt), "--stage", "instruct",
            "--data", str(loop.export / "data.jsonl"), "-o", str(new), "--instruct-steps", "150",
            "--lr-instruct", "3e-2", "--batch-size", "2", "--device", "cpu")  # fmt: skip
        history = json.loads((new / "training.json").read_text())["history"]["instruct"]
        assert history["steps"] == 150 and history["loss"][-1][1] < history["loss"][0][1]

    def test_9_the_new_model_answers_the_corrected_question_differently(self, loop):
        (motion,) = sorted((loop.export / "motions").glob("*.npz"))
        before, after = answer(loop.ckpt, motion), answer(loop.tmp / "next", motion)
        print(f"before: {before!r}, after: {after!r}")
        assert after != before
        assert after == FIX  # and it says what the annotator wrote
