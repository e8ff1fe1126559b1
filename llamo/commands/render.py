"""`python -m llamo render MOTION.npz [--html OUT.html] [--glb OUT.glb] [--overlay-video SRC --overlay OUT.mp4]
[--kinematics OUT.html] [--csv OUT.csv]`: write the views asked for, with sizes and times.

-o/--out is the primary output, the 3D skeleton page (same as --html). The HTML pages load
plotly.js from a `plotly.min.js` written once beside them (works offline, 4.7 MB shared);
--plotly-js inline makes each page self-contained, --plotly-js cdn makes them small but online-only.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from llamo.errors import LlamoError
from llamo.fileio import atomic_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "motion", help="motion .npz (from `python -m llamo extract`) or any file load_motion reads"
    )
    parser.add_argument("-o", "--out", help="primary output: the 3D skeleton page (.html)")
    parser.add_argument("--html", help="3D skeleton page (.html)")
    parser.add_argument("--glb", help="animated GLB (.glb)")
    parser.add_argument(
        "--overlay-video", help="the source video the motion was extracted from (default: its recorded path)"
    )
    parser.add_argument("--overlay", help="overlay video (.mp4, H.264); needs --overlay-video")
    parser.add_argument("--kinematics", help="kinematics page (.html)")
    parser.add_argument("--csv", help="per-frame CSV")
    parser.add_argument("--signal", default="auto", help="repetition signal (default auto)")
    parser.add_argument(
        "--plotly-js", choices=("directory", "inline", "cdn"), default="directory",
        help="where the HTML pages get plotly.js: a plotly.min.js beside them (default), inline, or the CDN",
    )  # fmt: skip


def _load(path: str):
    """Our own .npz is read whatever its length; other files under the usual 600 s limit."""
    from llamo.importers import load_motion

    p = Path(path)
    return load_motion(p, max_duration=0 if p.suffix.lower() == ".npz" else 600.0)


def _write_html(fig, path: str, plotly_js: str) -> None:
    include = {"inline": True, "cdn": "cdn", "directory": "directory"}[plotly_js]
    with atomic_path(path) as tmp:
        fig.write_html(str(tmp), include_plotlyjs=include, full_html=True)


def _size(path: str | Path) -> str:
    n = Path(path).stat().st_size
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def run(args: argparse.Namespace) -> int:
    html = args.html or args.out
    if args.out and args.html and args.out != args.html:
        raise LlamoError("Give the skeleton page once: -o/--out and --html name the same output.")
    if args.overlay_video and not args.overlay:
        raise LlamoError("--overlay-video names the source; give --overlay OUT.mp4 for the overlay video.")
    if not any([html, args.glb, args.overlay, args.kinematics, args.csv]):
        raise LlamoError("Nothing to write: give -o/--html, --glb, --overlay, --kinematics or --csv.")
    motion = _load(args.motion)
    overlay_video = args.overlay_video
    if args.overlay and not overlay_video:
        # default: the video the motion was extracted from, if it is still there
        if motion.source_kind == "video" and motion.source_path and Path(motion.source_path).exists():
            overlay_video = motion.source_path
        else:
            raise LlamoError("The overlay needs --overlay-video SOURCE (the video the motion came from).")
    print(f"{args.motion}: {motion.num_frames} frames at {motion.fps:g} fps ({motion.duration:.1f} s)")
    reps = None
    if args.kinematics or args.csv:
        from llamo.kinematics import count_repetitions

        reps = count_repetitions(motion, args.signal)
        print(f"repetitions: {reps.count} (signal {reps.signal_name}) at "
              + ", ".join(f"{t:.1f}s" for t in reps.peak_times))  # fmt: skip

    def done(kind: str, path, start: float, extra: str = "") -> None:
        print(f"wrote {kind:<10} {path}  {_size(path)}  {time.perf_counter() - start:.2f} s{extra}")

    if html:
        from llamo.views.skeleton3d import skeleton_view

        start = time.perf_counter()
        fig, nbytes = skeleton_view(motion)
        _write_html(fig, html, args.plotly_js)
        done("skeleton", html, start, f"  (figure JSON {nbytes / 1e3:.0f} kB)")
    if args.glb:
        from llamo.views.glb import write_glb

        start = time.perf_counter()
        write_glb(motion, args.glb)
        done("glb", args.glb, start)
    if args.kinematics:
        from llamo.views.kinematics_plot import kinematics_figure

        start = time.perf_counter()
        _write_html(kinematics_figure(motion, reps), args.kinematics, args.plotly_js)
        done("kinematics", args.kinematics, start)
    if args.csv:
        from llamo.export_csv import write_csv

        start = time.perf_counter()
        write_csv(motion, args.csv, reps)
        done("csv", args.csv, start)
    if args.overlay:
        from llamo.views.overlay import render_overlay

        start = time.perf_counter()
        res = render_overlay(motion, overlay_video, args.overlay)
        done(
            "overlay", args.overlay, start,
            f"  ({res.frames} frames {res.width}x{res.height} at {res.fps:g} fps, "
            f"{res.realtime_factor:.2f} s per video second)",
        )  # fmt: skip
    if args.plotly_js == "directory":
        for folder in sorted({Path(p).parent for p in (html, args.kinematics) if p}):
            print(
                f"wrote {'plotly.js':<10} {folder / 'plotly.min.js'}  {_size(folder / 'plotly.min.js')}  (shared by the pages)"
            )
    return 0
