"""The Gradio UI over `app.core.LlamoApp`: layout.py (one builder per tab), handlers.py (what
each event does), events.py (the wiring), static/ (the page's CSS and the cursor's JS).

    demo = queue(build_ui(core), core)
    demo.launch(**launch_kwargs(core))
"""

from pathlib import Path

import gradio as gr

from app.core import LlamoApp
from app.ui.context import Ui
from app.ui.events import wire
from app.ui.layout import build_layout
from app.ui.static_cache import page_middleware

STATIC = Path(__file__).parent / "static"


def build_ui(core: LlamoApp) -> gr.Blocks:
    """The Blocks, every event wired; `demo.llamo_core` is the core and `demo.llamo_sessions`
    the open tabs (tests reach them there)."""
    page = build_layout(core)
    ui = Ui(core, page)
    wire(ui)
    page.demo.llamo_core = core
    page.demo.llamo_sessions = ui.sessions  # the open tabs (tests measure them)
    return page.demo


def launch_kwargs(core: LlamoApp) -> dict:
    """The launch() arguments every entry point uses (CLI, Spaces shim, tests, bench). Gradio 6
    takes the page's CSS here, not in Blocks()."""
    cfg = core.config
    kw = {
        "max_file_size": f"{cfg.max_file_mb}mb",
        "css_paths": [STATIC / "llamo.css"],
        "show_error": False,
        "footer_links": ["api"],
        "js": (STATIC / "review_keys.js").read_text(),  # j / k: next / previous record in the queue
        "state_session_capacity": 2 * cfg.max_sessions,  # Gradio's own per-tab values, bounded too
        "app_kwargs": {"middleware": page_middleware()},  # cached, compressed page assets
    }
    if cfg.users:
        kw["auth"] = list(cfg.users.items())
        kw["auth_message"] = "LLaMo: sign in to annotate."
    return kw


def queue(demo: gr.Blocks, core: LlamoApp) -> gr.Blocks:
    return demo.queue(max_size=core.config.queue_size, default_concurrency_limit=2)


__all__ = ["build_ui", "launch_kwargs", "queue"]
