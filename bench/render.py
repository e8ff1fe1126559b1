"""`python -m bench.render`: time to build the views, and the overlay's speed.

1. Views for a 30 s clip at 20 fps (600 frames, synthetic squats): the plotly skeleton (built and
   serialised to JSON, as `gr.Plot` does), the GLB and the kinematics figure (with repetition
   counting). Target: all three together <= 1 s. Baseline, interleaved in the same run: the
   same skeleton built the naive way, one `go.Frame` per motion frame with float64 numpy arrays.
2. Overlay: render seconds per video second on the real clips in ../shared/data/videos (when
   present; extracted once, untimed) and on a generated 1280x720 30 fps clip. Target: < 1.
3. Repetition counts against the synthetic generator's exact labels, per action (accuracy).

Hygiene (bench/_util.py): untimed warm-up, threads pinned and printed, median and minimum of N,
machine load printed, baseline interleaved with the candidate.
"""

from __future__ import annotations

import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from bench._util import add_out_argument, interleaved, machine_line, main_for, pin_threads

SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"


def add_arguments(parser) -> None:
    parser.add_argument("--threads", type=int, default=2, help="threads (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    parser.add_argument("--frames", type=int, default=600, help="motion frames for the views (default 600)")
    parser.add_argument("--skip", default="", help="comma list of sections to skip: views,overlay,reps")
    add_out_argument(parser)


def naive_figure(motion, max_fps: float | None = None):
    """The baseline: a go.Frame per frame, numpy float64 arrays, one segment trace per bone."""
    import plotly.graph_objects as go

    from llamo.skeleton import BONES

    j = motion.joints.astype(np.float64)

    def traces(f):
        xs, ys, zs = [], [], []
        for p, c in BONES:
            xs += [j[f, p, 0], j[f, c, 0], np.nan]
            ys += [j[f, p, 1], j[f, c, 1], np.nan]
            zs += [j[f, p, 2], j[f, c, 2], np.nan]
        return [go.Scatter3d(x=np.array(xs), y=np.array(ys), z=np.array(zs), mode="lines+markers")]

    frames = [go.Frame(data=traces(f), name=str(f)) for f in range(motion.num_frames)]
    fig = go.Figure(data=traces(0), frames=frames)
    fig.update_layout(
        sliders=[
            {
                "steps": [
                    {"method": "animate", "args": [[str(f)]], "label": str(f)}
                    for f in range(motion.num_frames)
                ]
            }
        ]
    )
    return fig


def bench_views(args, report: dict) -> None:
    from llamo.data.synth import synthesize
    from llamo.kinematics import count_repetitions
    from llamo.views.glb import motion_to_glb
    from llamo.views.kinematics_plot import kinematics_figure
    from llamo.views.skeleton3d import skeleton_view

    motion = synthesize("squat", reps=int(args.frames / 20 / 2.2) + 2, seed=0)
    motion = motion.slice(0, args.frames)
    sizes: dict[str, int] = {}

    def skeleton():
        sizes["skeleton"] = skeleton_view(motion)[1]

    def glb():
        sizes["glb"] = len(motion_to_glb(motion))

    def kinematics():
        sizes["kinematics"] = len(kinematics_figure(motion, count_repetitions(motion)).to_json())

    def naive():
        sizes["naive"] = len(naive_figure(motion).to_json())

    def total():
        skeleton(), glb(), kinematics()

    fns = {
        "skeleton": skeleton,
        "glb": glb,
        "kinematics": kinematics,
        "views total": total,
        "naive go.Frame": naive,
    }
    timings = interleaved(fns, repeats=args.repeats, warmup=1)
    sizes["views total"] = sizes["skeleton"] + sizes["glb"] + sizes["kinematics"]
    sizes["naive go.Frame"] = sizes["naive"]
    print(f"\n1. views for {motion.num_frames} frames ({motion.duration:.0f} s at {motion.fps:g} fps); "
          f"median and min of {args.repeats}")  # fmt: skip
    print(f"{'view':<16} {'median ms':>9} {'min ms':>8} {'bytes':>10}")
    rows = []
    for name, t in timings.items():
        print(f"{name:<16} {t.median * 1e3:>9.1f} {t.minimum * 1e3:>8.1f} {sizes[name]:>10,d}")
        rows.append({"view": name, **t.as_dict(), "bytes": sizes[name]})
    tot = timings["views total"].median
    print(f"views total {tot:.3f} s (target <= 1 s): {'met' if tot <= 1.0 else 'NOT met'}; "
          f"naive go.Frame baseline is {timings['naive go.Frame'].median / timings['skeleton'].median:.0f}x "
          f"slower and {sizes['naive'] / sizes['skeleton']:.0f}x larger than the skeleton view")  # fmt: skip
    report["views"] = rows


def _generated_clip(tmp: Path, seconds: float = 10.0, size: tuple[int, int] = (1280, 720)):
    """A generated 30 fps clip (moving gradient + noise) and a motion with image landmarks over it."""
    from llamo.data.synth import synthesize
    from llamo.motion import Motion
    from llamo.video import write_video

    m = synthesize("jumping_jack", reps=int(seconds / 1.1), seed=0)
    rate = Fraction(30)
    n = int(seconds * 30)
    path = tmp / "generated.mp4"
    rng = np.random.default_rng(0)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) * 255 // (w + h)], -1).astype(np.uint8)
    base = np.clip(base + rng.integers(0, 24, base.shape), 0, 255).astype(np.uint8)
    write_video(path, (np.roll(base, i, axis=1) for i in range(n)), rate)
    t = min(m.num_frames, int(seconds * m.fps))
    lm = np.zeros((t, 33, 4), np.float32)
    lm[..., 0] = size[0] / 2 + rng.normal(0, size[0] / 10, (t, 33))
    lm[..., 1] = size[1] / 2 + rng.normal(0, size[1] / 6, (t, 33))
    lm[..., 3] = 0.9
    motion = Motion(
        joints=m.joints[:t], fps=m.fps, confidence=m.confidence[:t], source_times=np.arange(t) / m.fps,
        image_size=size, landmarks_image=lm, source_kind="video",
    )  # fmt: skip
    return path, motion


def bench_overlay(args, report: dict) -> None:
    from llamo.views.overlay import render_overlay

    rows = []
    print(f"\n2. overlay (H.264, every source frame; median and min of {max(1, args.repeats // 2)})")
    print(
        f"{'clip':<22} {'size':>9} {'fps':>4} {'video s':>7} {'median s':>8} {'min s':>6} {'s per video s':>13}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = []
        if SHARED_VIDEOS.is_dir():
            from llamo.capture import extract_video

            for name in ("pose_1.mp4", "pose_squats.mp4"):
                if (SHARED_VIDEOS / name).exists():
                    clips.append((name, SHARED_VIDEOS / name, extract_video(SHARED_VIDEOS / name)))
        path, motion = _generated_clip(tmp)
        clips.append(("generated 1280x720", path, motion))
        for name, path, motion in clips:
            render_overlay(motion, path, tmp / "warm.mp4")  # warm-up
            times, res = [], None
            for _ in range(max(1, args.repeats // 2)):
                start = time.perf_counter()
                res = render_overlay(motion, path, tmp / "o.mp4")
                times.append(time.perf_counter() - start)
            med = float(np.median(times))
            rtf = med / res.video_seconds
            print(f"{name:<22} {res.width:>4}x{res.height:<4} {res.fps:>4.0f} {res.video_seconds:>7.1f} "
                  f"{med:>8.2f} {min(times):>6.2f} {rtf:>13.2f}")  # fmt: skip
            rows.append({"clip": name, "width": res.width, "height": res.height, "fps": res.fps,
                         "video_s": res.video_seconds, "median_s": med, "min_s": min(times),
                         "s_per_video_s": rtf})  # fmt: skip
    worst = max(r["s_per_video_s"] for r in rows)
    print(f"worst {worst:.2f} s per video second (target < 1, faster than real time): "
          f"{'met' if worst < 1 else 'NOT met'}")  # fmt: skip
    report["overlay"] = rows


def bench_reps(args, report: dict) -> None:
    """Repetition counts against the synthetic generator's exact labels (accuracy, not time)."""
    from llamo.data.synth import ACTIONS, synthesize
    from llamo.kinematics import count_repetitions

    rows, offsets = {}, []
    for seed in range(4):
        for action in ACTIONS:
            for reps in (1, 2, 4, 6):
                for tempo in (0.8, 1.3):
                    m = synthesize(action, reps=reps, seed=seed, tempo=tempo, noise=True)
                    truth = m.meta["labels"]["rep_peaks"]
                    r = count_repetitions(m, "torso_twist" if action == "torso_twist" else "auto")
                    row = rows.setdefault(action, {"n": 0, "exact": 0, "within1": 0, "signals": set()})
                    row["n"] += 1
                    row["exact"] += r.count == len(truth)
                    row["within1"] += abs(r.count - len(truth)) <= 1
                    row["signals"].add(r.signal_name)
                    if r.count == len(truth):
                        offsets += [abs(a - b) / m.fps for a, b in zip(r.peak_frames, truth, strict=True)]
    print("\n3. repetition counts vs the synthetic labels (noise on; 4 seeds x reps 1,2,4,6 x tempo 0.8,1.3)")
    print(f"{'action':<13} {'exact':>7} {'within 1':>8}  signal(s)")
    for action, row in rows.items():
        print(f"{action:<13} {row['exact']:>3}/{row['n']:<3} {row['within1']:>4}/{row['n']:<3}  "
              f"{', '.join(sorted(row['signals']))}")  # fmt: skip
    n = sum(r["n"] for r in rows.values())
    exact = sum(r["exact"] for r in rows.values())
    print(f"all: {exact}/{n} exact ({exact / n:.1%}); peak timing on exact clips: median "
          f"{np.median(offsets):.2f} s, 90th percentile {np.percentile(offsets, 90):.2f} s")  # fmt: skip
    report["reps"] = {a: {**r, "signals": sorted(r["signals"])} for a, r in rows.items()}


def run(args) -> dict:

    threads = pin_threads(args.threads)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:
        pass
    print(machine_line(threads))
    skip = set(args.skip.split(","))
    report: dict = {"machine": machine_line(threads)}
    if "views" not in skip:
        bench_views(args, report)
    if "overlay" not in skip:
        bench_overlay(args, report)
    if "reps" not in skip:
        bench_reps(args, report)
    print(machine_line(threads))
    return report


def main(argv: list[str] | None = None) -> int:
    return main_for("bench.render", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
