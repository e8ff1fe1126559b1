from pathlib import Path

import pytest

# gradio_client's httpx settings: a file download from the app on a loaded 2-core machine took
# longer than httpx's 5 s default read timeout (seen once in the fast set)
SLOW_MACHINE = {"timeout": 120}
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "incremental: the tests of a class (or module) are steps of one flow: after a failed step "
        "the later ones are skipped, so the report names the step that broke",
    )


def pytest_runtest_makereport(item, call):
    if "incremental" in item.keywords and call.excinfo is not None and call.when == "call":
        item.parent._failed_step = item.name


def pytest_runtest_setup(item):
    failed = getattr(item.parent, "_failed_step", None) if "incremental" in item.keywords else None
    if failed is not None:
        pytest.skip(f"an earlier step failed: {failed}")


@pytest.fixture
def shared_data() -> Path:
    """`../shared/data` beside the project; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recordings not present at {SHARED_DATA} (see ../shared/data/README.md)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on the real default model, launched once per test module (end-to-end and browser)."""
    from annotations.store import Store
    from app import AppConfig, create_app
    from app.ui import launch_kwargs
    from llamo.model import load_default

    demo = create_app(
        load_default(),
        Store.open(tmp_path_factory.mktemp("data"), announce=False),
        AppConfig(max_new_tokens=24, min_new_tokens=512),
    )
    _, url, _ = demo.launch(
        prevent_thread_lock=True,
        server_name="127.0.0.1",
        ssr_mode=False,
        quiet=True,
        **launch_kwargs(demo.llamo_core),
    )
    yield demo, url
    demo.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium for the browser tests (their flags: test_browser_app.ARGS)."""
    from playwright.sync_api import sync_playwright
    from test_browser_app import ARGS, CHROMIUM

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
