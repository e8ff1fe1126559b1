"""Issue 18.2 in a real browser (headless Debian chromium, a tiny model, ana signed in): open an
example, move the time cursor, set the segment's start and end from it, label it, add it; the
table lists it, the kinematics shades it, and the store holds it snapped to frames with its author.
Screenshots: artifacts/browser/segments-1-added.png (the band) and segments-2-form.png (look at them)."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from test_browser_app import ARGS, ART, CHROMIUM, NEEDS_CHROMIUM, serve, sign_in, wait_text  # noqa: E402

pytestmark = [pytest.mark.slow, NEEDS_CHROMIUM]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from app import AppConfig
    from llamo.testing import tiny_model

    cfg = AppConfig(users={"ana": "a-pw"}, max_new_tokens=8)
    demo, url = serve(tiny_model(), tmp_path_factory.mktemp("data"), cfg)
    yield demo, url
    demo.close()


def _set_cursor(page, seconds: float) -> None:
    box = page.locator("#llamo-cursor input[type=number]")
    box.fill(str(seconds))
    box.press("Enter")
    page.wait_for_timeout(300)


def test_mark_a_segment_from_the_cursor(app):
    from playwright.sync_api import sync_playwright

    demo, url = app
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = sign_in(browser, url, "ana", "a-pw")
        page.get_by_role("tab", name="Examples").click()
        page.locator("#llamo-open-example").click()
        wait_text(page, "#llamo-status", "Opened the example", 120)
        _set_cursor(page, 1.0)
        page.locator("#llamo-seg-start-now").click()
        page.wait_for_function(
            "() => document.querySelector('#llamo-seg-start input').value === '1'", timeout=30_000
        )
        _set_cursor(page, 2.0)
        page.locator("#llamo-seg-end-now").click()
        page.wait_for_function(
            "() => document.querySelector('#llamo-seg-end input').value === '2'", timeout=30_000
        )
        page.locator("#llamo-seg-label textarea, #llamo-seg-label input").first.fill("rep 1: knee valgus")
        page.locator("#llamo-seg-text textarea, #llamo-seg-text input").first.fill(
            "The person loses balance."
        )
        page.locator("#llamo-seg-add").click()
        wait_text(page, "#llamo-seg-status", "Segment 1 added", 60)
        wait_text(page, "#llamo-seg-table", "rep 1: knee valgus", 30)
        page.wait_for_function(  # the band is drawn on the kinematics
            "() => [...document.querySelectorAll('#llamo-kinematics .annotation-text')]"
            ".some(e => e.textContent.includes('knee valgus'))",
            timeout=30_000,
        )
        ART.mkdir(parents=True, exist_ok=True)
        page.locator("#llamo-kinematics").scroll_into_view_if_needed()
        page.screenshot(path=str(ART / "segments-1-added.png"), full_page=False)
        page.locator("#llamo-seg-box").screenshot(path=str(ART / "segments-2-form.png"))
        browser.close()
    store = demo.llamo_core.store
    (found,) = store.clip_segments()
    (seg,) = found.segments
    assert (seg.start_s, seg.end_s, seg.author, seg.label) == (1.0, 2.0, "ana", "rep 1: knee valgus")
