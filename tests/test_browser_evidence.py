"""Issue 16 in a real browser (headless Debian chromium, a tiny model): the clip's summary shows
"What the model measured", and a time written in an answer (here an expert's correction) becomes
a button that moves the time cursor, the 3D skeleton and the kinematics' cursor line there
(a video's overlay seeks by the same script, static/cursor.js). Screenshots go to
artifacts/browser/evidence-*.png (look at them)."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from test_browser_app import ARGS, ART, CHROMIUM, NEEDS_CHROMIUM, serve, sign_in, wait_text  # noqa: E402
from test_browser_corrections import open_example  # noqa: E402

SAID = "The second repetition is at 1.5 s."
pytestmark = [pytest.mark.slow, pytest.mark.incremental, NEEDS_CHROMIUM]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    from app import AppConfig
    from llamo.testing import tiny_model

    # 8 tokens: under the sampling slider's usual minimum of 16, which once failed every question
    cfg = AppConfig(users={"ana": "a-pw"}, max_new_tokens=8, min_new_tokens=8)
    demo, url = serve(tiny_model(), tmp_path_factory.mktemp("data"), cfg)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield sign_in(browser, url, "ana", "a-pw")
        browser.close()
    demo.close()


def open_streams(page) -> set:
    """The page's event streams (`queue/data`) still open, kept current by the page's events."""
    streams: set = set()
    page.on("request", lambda r: streams.add(r) if "/queue/data" in r.url else None)
    for done in ("requestfinished", "requestfailed"):
        page.on(done, lambda r: streams.discard(r))  # playwright wraps a function, not a builtin
    return streams


def wait_streams_closed(page, streams: set, timeout_s: float = 30.0) -> None:
    """Gradio's client shares one event stream per session and closes it when the server says
    no event is pending; an event that joins in that instant can lose its updates (seen here 1
    run in 10 when Save followed the answer at once). Wait for the answer's stream to close."""
    for _ in range(int(timeout_s * 10)):
        if not streams:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"event streams still open after {timeout_s} s: {streams}")


def shot(page, name: str) -> None:
    ART.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ART / f"evidence-{name}.png"), full_page=True)


class TestEvidenceAndCitedTimes:
    def test_summary_shows_what_the_model_measured(self, page):
        open_example(page)
        wait_text(page, "#llamo-summary", "What the model measured", 30)
        text = page.locator("#llamo-summary").inner_text()
        assert "rep" in text and " s" in text, text  # repetitions with their times, in words
        shot(page, "1-measured")

    def test_a_time_in_the_answer_moves_the_cursor_and_the_video(self, page):
        streams = open_streams(page)
        page.locator("#llamo-question textarea").fill("When does the second repetition happen?")
        page.locator("#llamo-ask").click()
        wait_text(page, "#llamo-answer-stats", "first token", 120)
        # the answer's last update (the correction form, filled for this answer) lands after
        # its small print: type only once the form offers the answer, or that update wipes it
        page.wait_for_function(
            "() => (document.querySelector('#llamo-answer-pick input') || {}).value?.startsWith('1:')",
            timeout=60_000,
        )
        page.locator("#llamo-fix textarea").fill(SAID)
        wait_streams_closed(page, streams)
        page.locator("#llamo-save").click()
        wait_text(page, "#llamo-save-status", "of answer 1", 60)
        button = page.locator("#llamo-jump").get_by_text("1.5 s (in the answer)")
        button.wait_for(timeout=30_000)
        button.click()
        page.wait_for_function(
            "() => Math.abs(parseFloat(document.querySelector('#llamo-cursor input[type=number]').value) - 1.5) < 0.06",
            timeout=30_000,
        )
        page.wait_for_function(  # the 3D skeleton shows the frame at 1.5 s (static/cursor.js)
            """() => { const s = document.querySelector('#llamo-skeleton .js-plotly-plot').layout.sliders[0];
                       return String(s.steps[s.active].label).endsWith(':01.5'); }""",
            timeout=30_000,
        )
        page.wait_for_function(  # and the kinematics plots draw the cursor line there
            """() => (document.querySelector('#llamo-kinematics .js-plotly-plot').layout.shapes || [])
                       .some(x => x.name === 'llamo-cursor' && Math.abs(x.x0 - 1.5) < 0.06)""",
            timeout=30_000,
        )
        shot(page, "2-jumped-to-1.5s")  # the skeleton figure at 0:01.5, the dotted line at 1.5 s
