"""Page load as a user sees it: time to interactive in headless Chromium, for one client.

"Interactive" means the page is drawn (`#llamo-who` visible) and no component waits on a
load event any more (no `.pending`/`.generating` left). Each load is from a fresh browser
context (cold: nothing cached) and then a reload in the same context (warm: what a returning
user gets). The baseline is the same app served without `app.ui.static_cache` (Gradio's
defaults: ETag revalidation of every asset on a reload), launched in the same run.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
READY_JS = "() => document.querySelectorAll('.pending, .generating').length === 0"


@dataclass
class PageFigures:
    """Seconds to interactive for `loads` page loads of one served app, and bytes moved."""

    label: str
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    cold_bytes: int = 0
    warm_bytes: int = 0


def _load(page, url: str, reload: bool) -> tuple[float, int]:
    moved: list[int] = []

    def count(request) -> None:
        moved.append(_size(request))

    page.on("requestfinished", count)
    start = time.perf_counter()
    if reload:
        page.reload(wait_until="domcontentloaded")
    else:
        page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("#llamo-who", state="visible", timeout=60_000)
    page.wait_for_function(READY_JS, timeout=60_000)
    took = time.perf_counter() - start
    page.remove_listener("requestfinished", count)
    return took, sum(moved)


def _size(request) -> int:
    try:
        return int(request.sizes()["responseBodySize"])
    except Exception:  # noqa: BLE001 - a request without a body (or gone) moved nothing
        return 0


def _cold_and_warm(browser, url: str, into: PageFigures | None) -> None:
    """One cold load in a fresh context, then a warm reload in it, added to `into` (None: a warm-up)."""
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        cold, cold_bytes = _load(page, url, reload=False)
        warm, warm_bytes = _load(page, url, reload=True)
    finally:
        ctx.close()
    if into is not None:
        into.cold.append(cold)
        into.warm.append(warm)
        into.cold_bytes, into.warm_bytes = cold_bytes, warm_bytes


def page_load_figures(urls: dict[str, str], loads: int) -> list[PageFigures]:
    """One PageFigures per (label -> url) in one browser, the variants interleaved load by load
    (in turn first and last: the machine's drift falls on all of them alike); one untimed
    warm-up round (the server's first page build and the browser's first start)."""
    from playwright.sync_api import sync_playwright

    figures = {label: PageFigures(label) for label in urls}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for i in range(loads + 1):
                for label in list(urls) if i % 2 else list(urls)[::-1]:
                    _cold_and_warm(browser, urls[label], figures[label] if i else None)
        finally:
            browser.close()
    return list(figures.values())


def print_page_figures(results: list[PageFigures], target_s: float = 1.5) -> None:
    print(f"page load, time to interactive (s), one client; target <= {target_s} s cold")
    print(f"{'':40s} {'n':>3s} {'median':>8s} {'min':>8s} {'kB moved':>9s}")
    for r in results:
        for kind, values, moved in (("cold", r.cold, r.cold_bytes), ("warm reload", r.warm, r.warm_bytes)):
            if values:
                print(f"{r.label + ', ' + kind:40s} {len(values):3d} {statistics.median(values):8.2f} "
                      f"{min(values):8.2f} {max(0, moved) / 1000:9.0f}")  # fmt: skip
