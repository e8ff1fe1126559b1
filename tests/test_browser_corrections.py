"""Issue 18.1 in a real browser (headless Debian chromium, a tiny model, ana signed in): correct an
answer in place (the edit box holds the answer alone), regenerate (the correction stays in the
bubble and the box), Stop when nothing runs, reload, reopen from "My conversations", and a new
clip empties the form. Screenshots go to artifacts/browser/corrections-*.png (look at them).

Steps of one class share a page, in order (the `incremental` marker, tests/conftest.py)."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from test_browser_app import ARGS, ART, CHROMIUM, NEEDS_CHROMIUM, reload_and_reopen, serve, sign_in, wait_text  # noqa: E402

FIX = "They jump three times."
pytestmark = [pytest.mark.slow, pytest.mark.incremental, NEEDS_CHROMIUM]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from app import AppConfig
    from llamo.testing import tiny_model

    cfg = AppConfig(users={"ana": "a-pw"}, max_new_tokens=16, min_new_tokens=16)
    demo, url = serve(tiny_model(), tmp_path_factory.mktemp("data"), cfg)
    yield demo, url
    demo.close()


@pytest.fixture(scope="module")
def page(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        p = sign_in(browser, app[1], "ana", "a-pw")
        yield p
        browser.close()


def shot(page, name: str) -> None:
    ART.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ART / f"corrections-{name}.png"), full_page=True)


def open_example(page, name: str | None = None) -> None:
    page.get_by_role("tab", name="Examples").click()
    if name:
        page.locator("#llamo-open-example").locator("xpath=..").locator("input").first.click()
        page.get_by_role("option", name=name, exact=True).click()
    page.locator("#llamo-open-example").click()
    wait_text(page, "#llamo-status", "Opened the example", 120)


class TestCorrectionFlow:
    def test_ask_about_an_example(self, page):
        open_example(page)
        page.locator("#llamo-question textarea").fill("What is the person doing?")
        page.locator("#llamo-ask").click()
        wait_text(page, "#llamo-answer-stats", "first token", 120)
        assert "llamo-stats" not in page.locator("#llamo-chat").inner_html()

    def test_edit_in_place_holds_only_the_answer(self, page, app):
        chat = page.locator("#llamo-chat")
        chat.locator("button[aria-label=Edit]").nth(1).click()
        box = chat.locator("textarea").first
        shown = box.input_value()
        shot(page, "1-edit-box")
        assert "<small" not in shown and "first token" not in shown, shown
        box.fill(FIX)
        chat.locator("button[aria-label=Submit]").click()
        wait_text(page, "#llamo-save-status", "of answer 1", 30)
        turn = app[0].llamo_core.store.list_turns(status="corrected")[0]
        assert [f.rating for f in app[0].llamo_core.store.corrections(turn.turn_id)] == [None]  # none set

    def test_regenerate_keeps_the_correction(self, page):
        page.locator("#llamo-regenerate").click()
        wait_text(page, "#llamo-answer-stats", "regenerated ×1", 120)
        wait_text(page, "#llamo-chat", FIX, 30)
        assert page.locator("#llamo-fix textarea").input_value() == FIX
        shot(page, "2-regenerated")

    def test_stop_when_nothing_runs(self, page):
        page.locator("#llamo-stop").click()
        wait_text(page, "#llamo-status", "Nothing to stop", 30)

    def test_reload_and_reopen_my_conversation(self, page):
        reload_and_reopen(page, FIX)
        shot(page, "3-reopened-after-reload")

    def test_new_clip_empties_the_form(self, page):
        page.locator("#llamo-answer-pick input").click()
        page.get_by_role("option").first.click()
        wait_text(page, "#llamo-fix", "", 10)
        page.wait_for_function("() => document.querySelector('#llamo-fix textarea').value.length > 0")
        open_example(page, "walk")
        page.wait_for_function("() => document.querySelector('#llamo-fix textarea').value === ''")
        shot(page, "4-new-clip")
