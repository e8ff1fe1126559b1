"""Issue 18.3-4 in a real browser (headless Debian chromium, a tiny model): an admin signs in to
a store where two annotators answered the same questions about one clip. The Review tab's queue
fills, a row opens its record beside the clip's 3D view with every revision and its author, the
`j` key steps to the next record, Accept works, "Measured otherwise only" lists the answer the
joints contradict and its record says how, the guidelines show beside the form, and the Admin tab
shows the agreement figures. Screenshots: artifacts/browser/review-*.png (look at them).
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from test_browser_app import ARGS, ART, CHROMIUM, NEEDS_CHROMIUM, serve, sign_in, wait_text  # noqa: E402

GUIDE = "# Counting squats\nA repetition ends **standing**."
KICK = "Which leg does the person kick with?"
pytestmark = [pytest.mark.slow, pytest.mark.incremental, NEEDS_CHROMIUM]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from app import AppConfig
    from app.identity import Identity
    from app.session import Session, Settings
    from llamo.answer_check import flag_of
    from llamo.data.synth import synthesize
    from llamo.testing import random_motion, tiny_model

    tmp = tmp_path_factory.mktemp("review")
    cfg = AppConfig(users={"ana": "1", "bea": "2", "ada": "3"}, admins=frozenset({"ada"}), max_new_tokens=8)
    demo, url = serve(tiny_model(), tmp / "data", cfg)
    core = demo.llamo_core
    clip = random_motion(80, seed=4).save(tmp / "squats.npz")
    for name, fix, rating in (("ana", "Four squats.", 2), ("bea", "Five squats.", 3)):
        who, s = Identity(name, "annotator", "password"), Session()
        core.open_file(s, clip, source="import")
        list(core.ask(s, "How many squats?", Settings(max_new_tokens=8), who))
        core.correct(s, 0, fix, who, rating=rating, tags=["wrong count"])
        s.close()
    # An answer the joints contradict, stored as the app stores it (a tiny model cannot be made to err)
    who, s = Identity("ana", "annotator", "password"), Session()
    core.open_file(s, synthesize("kick", side="right", reps=3, noise=False, seed=5).save(tmp / "kick.npz"),
                   source="import")  # fmt: skip
    list(core.ask(s, KICK, Settings(max_new_tokens=8), who))
    flag = flag_of(KICK, "The left leg.", s.chat.measured)
    core.store.add_candidate(s.turns[0].turn_id, "The left leg.", regenerated=True, measured_flag=flag)
    s.close()
    core.set_team_settings(Identity("ada", "admin", "password"), guidelines=GUIDE, overlap=2)
    yield demo, url
    demo.close()


@pytest.fixture(scope="module")
def page(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield sign_in(browser, app[1], "ada", "3")
        browser.close()


def shot(page, name: str) -> None:
    ART.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ART / f"review-{name}.png"), full_page=True)


class TestReviewWorkspace:
    def test_guidelines_beside_the_annotation_form(self, page):
        wait_text(page, "#llamo-guidelines", "Counting squats", 60)
        assert page.locator("#llamo-guidelines strong").inner_text() == "standing"  # Markdown, rendered

    def test_queue_and_record_beside_the_clip(self, page):
        page.get_by_role("tab", name="Review").click()
        page.locator("#llamo-review-refresh").click()
        wait_text(page, "#llamo-review-table", "bea", 60)
        shot(page, "0-queue")
        page.locator("#llamo-review-table span.text", has_text="bea").first.click()
        wait_text(page, "#llamo-review-record", "Revision 1 by", 60)
        record = page.locator("#llamo-review-record").inner_text()
        assert "How many squats?" in record and "Model's answer" in record and "bea" in record
        assert page.locator("#llamo-review-text textarea").input_value() == "Five squats."
        page.wait_for_selector("#llamo-review-glb canvas", timeout=60_000)
        wait_text(page, "#llamo-review-guidelines", "Counting squats", 10)
        page.wait_for_timeout(1500)  # the 3D view draws
        shot(page, "1-record")
        # the clip picker lists clips by name and date, not by hash
        page.locator("#llamo-review-refresh").click()
        page.get_by_label("Clip").click()
        assert page.get_by_role("option").filter(has_text="squats.npz").count() == 1
        page.keyboard.press("Escape")

    def test_j_steps_to_the_next_record_and_accept(self, page):
        page.locator("#llamo-review-record").click()  # focus outside any field
        page.keyboard.press("j")
        wait_text(page, "#llamo-review-note", "Record 2 of 2", 30)
        wait_text(page, "#llamo-review-record", "by **ana**".replace("*", ""), 30)
        assert page.locator("#llamo-review-text textarea").input_value() == "Four squats."
        page.locator("#llamo-review-accept").click()
        wait_text(page, "#llamo-review-note", "accepted", 30)
        shot(page, "2-accepted")

    def test_measured_otherwise_lists_the_contradicted_answer(self, page):
        page.get_by_label("Status").click()
        page.get_by_role("option", name="unreviewed", exact=True).click()
        page.locator("#llamo-review-flagged input").check()  # lists at once, no Refresh
        wait_text(page, "#llamo-review-note", "1 turns.", 60)
        table = page.locator("#llamo-review-table").inner_text()
        assert KICK in table and "How many squats?" not in table and "⚠" in table
        page.locator("#llamo-review-table span.text", has_text=KICK).first.click()
        wait_text(page, "#llamo-review-record", "Measured otherwise", 60)
        record = page.locator("#llamo-review-record").inner_text()
        assert "the joints show the right leg moving most" in record and "The left leg." in record
        page.wait_for_timeout(1500)  # the 3D view draws
        shot(page, "3-measured-otherwise")
        # Reopened, the conversation shows the sentence under the stored answer again
        page.get_by_role("button", name="Reopen clip and conversation").click()
        wait_text(page, "#llamo-answer-stats", "measured otherwise", 60)
        assert "the right leg moving most" in page.locator("#llamo-answer-stats").inner_text()
        page.wait_for_selector("#llamo-skeleton .js-plotly-plot", timeout=30_000)
        shot(page, "3b-reopened-with-its-flag")

    def test_admin_sees_agreement(self, page):
        page.get_by_role("tab", name="Admin").click()
        wait_text(page, "#llamo-admin-agreement", "Krippendorff", 30)
        text = page.locator("#llamo-admin-agreement").inner_text()
        assert "rating" in text and "labels" in text and "segments" in text
        assert page.locator("#llamo-admin-guidelines textarea").input_value() == GUIDE
        shot(page, "4-admin")
