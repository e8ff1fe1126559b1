"""In headless Chromium (Debian's), a gradio page with the 3D skeleton in a `gr.Plot`: scrubbing the
slider moves the skeleton (two screenshots differ in the 3D scene, not only at the slider).

Screenshots go to artifacts/browser/ (gitignored) for people to look at.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("LLAMO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]  # fmt: skip


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LLAMO_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def plot_page():
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    from llamo.data.synth import synthesize
    from llamo.views.skeleton3d import skeleton_figure

    fig = skeleton_figure(synthesize("squat", reps=2, seed=0, noise=False))
    with gr.Blocks() as demo:
        gr.Plot(value=fig, elem_id="skeleton")
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


def _png(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


@pytest.mark.slow
def test_skeleton_moves_when_scrubbed(chromium, plot_page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page(viewport={"width": 900, "height": 800})
    page.goto(plot_page)
    plot = page.locator("#skeleton .js-plotly-plot")
    plot.wait_for(state="visible", timeout=30_000)
    page.wait_for_function(
        "() => { const p = document.querySelector('#skeleton .js-plotly-plot');"
        " return p && p._fullLayout && p.querySelector('.slider-container') && p.querySelector('canvas'); }",
        timeout=30_000,
    )
    page.wait_for_timeout(1500)  # WebGL (swiftshader) draws
    first, second = ARTIFACTS / "skeleton_t0.png", ARTIFACTS / "skeleton_scrubbed.png"
    plot.screenshot(path=str(first))
    z0 = page.evaluate("() => document.querySelector('#skeleton .js-plotly-plot').data[2].z.slice(0, 6)")

    # Drag the slider handle along its rail, as a person would, to about 55% of the clip (deepest point).
    rail = page.locator("#skeleton .slider-container .slider-rail-rect").bounding_box()
    grip = page.locator("#skeleton .slider-container .slider-grip-rect").bounding_box()
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(rail["x"] + rail["width"] * 0.27, y, steps=8)
    page.mouse.up()
    page.wait_for_timeout(1500)
    plot.screenshot(path=str(second))
    z1 = page.evaluate("() => document.querySelector('#skeleton .js-plotly-plot').data[2].z.slice(0, 6)")
    active = page.evaluate(
        "() => document.querySelector('#skeleton .js-plotly-plot').layout.sliders[0].active"
    )
    assert active and active > 0
    assert z1 != z0  # the centre chain's heights were restyled

    a, b = _png(first), _png(second)
    assert a.shape == b.shape
    box = plot.bounding_box()
    slider_top = int(rail["y"] - box["y"]) - 20
    scene_a, scene_b = a[:slider_top], b[:slider_top]  # the 3D scene only, above the slider
    changed = np.abs(scene_a - scene_b).max(axis=-1) > 40
    assert changed.sum() > 500, f"only {changed.sum()} pixels of the scene changed"
    # the skeleton's colours are on screen (left blue, right red) in both shots
    for img in (scene_a, scene_b):
        blue = (np.abs(img - np.array([31, 119, 180])).sum(-1) < 60).sum()
        red = (np.abs(img - np.array([214, 39, 40])).sum(-1) < 60).sum()
        assert blue > 100 and red > 100, (blue, red)


@pytest.mark.slow
def test_glb_plays_in_model3d(chromium, tmp_path):
    """gr.Model3D autoplays the GLB's animation: two screenshots a moment apart differ."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    from llamo.data.synth import synthesize
    from llamo.views.glb import write_glb

    glb = write_glb(synthesize("jumping_jack", reps=3, seed=0, noise=False), tmp_path / "jj.glb")
    with gr.Blocks() as demo:
        gr.Model3D(value=str(glb), elem_id="glb", height=480)
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True,
                allowed_paths=[str(tmp_path)])  # fmt: skip
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page = chromium.new_page(viewport={"width": 800, "height": 700})
        page.goto(demo.local_url)
        canvas = page.locator("#glb canvas")
        canvas.wait_for(state="visible", timeout=30_000)
        page.wait_for_timeout(3000)  # load the GLB, start the animation
        shots = []
        for i in range(2):
            path = ARTIFACTS / f"glb_model3d_{i}.png"
            canvas.screenshot(path=str(path))
            shots.append(_png(path))
            page.wait_for_timeout(550)
    finally:
        demo.close()
    a, b = shots
    body = (np.abs(a - np.array([31, 119, 180])).sum(-1) < 120).sum()  # the left side's blue
    assert body > 50, "no blue (left side) pixels: the skeleton is not on screen"
    assert (np.abs(a - b).max(axis=-1) > 40).sum() > 200, "the skeleton did not move between the shots"
