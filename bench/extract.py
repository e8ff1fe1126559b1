"""`python -m bench.extract VIDEO`: our capture pipeline against MediaPipe's naive loop.

Naive loop (the anchor): OpenCV decodes every frame, then `Pose.process` on each (tracking mode,
complexity 1). Ours: `extract_video` at default settings (20 fps grid, decode thread overlapping
inference, two trackers on two halves of clips of 20 s or more, then mapping, smoothing, root).

A clip shorter than `--min-seconds` is looped (forward, then backward, so the person never
jumps) into a temporary H.264 file first. Hygiene (bench/_util.py): a short untimed warm-up,
threads pinned and printed, runs interleaved, median and minimum of N, machine load printed.

Accuracy, on the kept frames (JSON):
- median_joint_mm: our final 22 joints, pelvis-relative, against the naive loop's landmarks
  mapped the same way (so it includes our smoothing and the 20 fps tracking);
- median_landmark_mm / median_image_px: our raw MediaPipe landmarks (33) against the naive ones;
- seam_joint_mm: the same as median_joint_mm within 0.5 s after each seam between trackers.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bench._util import add_out_argument, interleaved, machine_line, main_for, pin_threads


def add_arguments(parser) -> None:
    parser.add_argument("video", help="a video file (looped to --min-seconds if shorter)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads to pin (torch/OpenCV; default 2)")
    parser.add_argument(
        "--min-seconds", type=float, default=30.0, help="loop shorter clips to this (default 30)"
    )
    parser.add_argument("--fps", type=float, default=20.0, help="our pipeline's rate (default 20)")
    parser.add_argument("--workers", type=int, default=None, help="our trackers in parallel (default: auto)")
    add_out_argument(parser)


class LoopedClip(NamedTuple):
    path: Path
    seconds: float
    repeats: int  # 1: the source itself, long enough


def loop_clip(src: Path, dst: Path, min_seconds: float) -> LoopedClip:
    """Ping-pong loop a clip to at least `min_seconds` (forward, then backward: no jump)."""
    import av

    from llamo.video import probe_video, rotate, write_video

    info = probe_video(src)
    if info.duration >= min_seconds:
        return LoopedClip(src, info.duration, 1)
    with av.open(str(src)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    if info.rotation:
        frames = [rotate(f, info.rotation) for f in frames]
    out, reps = [], 0
    while len(out) / info.fps < min_seconds:
        out += frames if reps % 2 == 0 else frames[::-1]
        reps += 1
    write_video(dst, out, info.fps)
    return LoopedClip(dst, len(out) / info.fps, reps)


class NaiveRun(NamedTuple):
    """The anchor's landmarks for every source frame: world, image (N, 33, 4), found (N,)."""

    world: np.ndarray
    image: np.ndarray
    found: np.ndarray


def naive_loop(path: Path) -> NaiveRun:
    """OpenCV decode of every frame + Pose.process (tracking mode, complexity 1)."""
    import cv2

    from llamo.capture import PoseTracker, quiet_native_stderr

    cap = cv2.VideoCapture(str(path))
    world, image, found = [], [], []
    with quiet_native_stderr(), PoseTracker() as tracker:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            out = tracker.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if out is None:
                world.append(np.full((33, 4), np.nan, np.float32))
                image.append(np.full((33, 4), np.nan, np.float32))
            else:
                world.append(out.world)
                image.append(out.image)
            found.append(out is not None)
    cap.release()
    return NaiveRun(np.stack(world), np.stack(image), np.array(found))


def accuracy(motion, naive: NaiveRun, src_fps: float) -> dict:
    from llamo.motion_ops import mediapipe_to_canonical

    world, image, found = naive
    idx = np.rint((motion.source_times - motion.source_times[0]) * src_fps).astype(int)
    ok = (idx < len(found)) & motion.person_found
    idx_ok = idx[ok]
    ok[ok] = found[idx_ok]
    idx = idx[ok]
    ref, _ = mediapipe_to_canonical(world[idx])
    ref = ref - ref[:, :1]
    ours = motion.joints[ok] - motion.joints[ok][:, :1]
    joint_err = (
        np.linalg.norm(ours - ref, axis=-1)[:, 1:] * 1000
    )  # (F, 21) mm; the pelvis is 0 by construction
    lm_err = np.linalg.norm(motion.landmarks_world[ok, :, :3] - world[idx, :, :3], axis=-1) * 1000
    px_err = np.linalg.norm(motion.landmarks_image[ok, :, :2] - image[idx, :, :2], axis=-1)
    result = {
        "frames_compared": int(ok.sum()),
        "median_joint_mm": float(np.median(joint_err)),
        "p95_joint_mm": float(np.percentile(joint_err, 95)),
        "median_landmark_mm": float(np.median(lm_err)),
        "median_image_px": float(np.median(px_err)),
        "p95_image_px": float(np.percentile(px_err, 95)),
    }
    seams = motion.meta.get("seams") or []
    if seams:
        frames = np.flatnonzero(ok)
        near = np.zeros(len(frames), bool)
        for s in seams:
            near |= (frames >= s) & (frames < s + int(0.5 * motion.fps))
        if near.any():
            result["seam_joint_mm"] = float(np.median(joint_err[near]))
            result["seam_image_px"] = float(np.median(px_err[near]))
    return result


def run(args) -> dict:
    import cv2

    from llamo.capture import extract_video
    from llamo.video import probe_video

    threads = pin_threads(args.threads)
    cv2.setNumThreads(threads)
    print(machine_line(threads))
    src = Path(args.video)
    info = probe_video(src)
    with tempfile.TemporaryDirectory() as tmp:
        clip, seconds, reps = loop_clip(src, Path(tmp) / "looped.mp4", args.min_seconds)
        print(f"clip: {src.name} {info.width}x{info.height} {info.fps:g} fps {info.duration:.1f} s"
              + (f", looped x{reps} (ping-pong) to {seconds:.1f} s" if reps > 1 else ""))  # fmt: skip
        warm, _, _ = loop_clip(src, Path(tmp) / "warm.mp4", 0.0)
        results: dict = {}
        cpu: dict[str, list[float]] = {"naive": [], "ours": []}

        def naive():
            c = time.process_time()
            results["naive"] = naive_loop(clip)
            cpu["naive"].append(time.process_time() - c)

        def ours():
            c = time.process_time()
            results["ours"] = extract_video(clip, fps=args.fps, max_duration=0, workers=args.workers)
            cpu["ours"].append(time.process_time() - c)

        t = time.perf_counter()
        naive_loop(warm)  # warm-up: imports, model files in the page cache
        extract_video(warm, fps=args.fps, max_duration=0, workers=1)
        print(
            f"warm-up {time.perf_counter() - t:.1f} s; timing {args.repeats} interleaved runs of each ...",
            flush=True,
        )
        timings = interleaved({"naive": naive, "ours": ours}, repeats=args.repeats, warmup=0)
    motion = results["ours"]
    rtf = {k: v.median / seconds for k, v in timings.items()}
    speedup = timings["naive"].median / timings["ours"].median
    cpu_ratio = statistics.median(cpu["naive"]) / statistics.median(cpu["ours"])
    acc = accuracy(motion, results["naive"], info.fps)
    for name, label in (("naive", "naive loop (OpenCV decode all + Pose.process)"),
                        ("ours", f"ours (extract_video, {args.fps:g} fps, workers {motion.meta.get('workers')})")):  # fmt: skip
        tm = timings[name]
        print(f"{label}: median {tm.median:.2f} s, min {tm.minimum:.2f} s, real-time factor {rtf[name]:.3f} "
              f"(s per video s); CPU time median {statistics.median(cpu[name]):.2f} s")  # fmt: skip
    met = speedup >= 2.0 and acc["median_joint_mm"] <= 15.0
    print(f"speed-up {speedup:.2f}x (min-based {timings['naive'].minimum / timings['ours'].minimum:.2f}x); "
          f"CPU-time ratio {cpu_ratio:.2f}x; target >= 2x at <= 15 mm: {'met' if met else 'NOT met'}")  # fmt: skip
    report = {
        "machine": machine_line(threads),
        "clip": {"source": src.name, "seconds": seconds, "fps": info.fps, "size": [info.width, info.height]},
        "naive": {**timings["naive"].as_dict(), "rtf": rtf["naive"], "cpu_s": cpu["naive"]},
        "ours": {
            **timings["ours"].as_dict(),
            "rtf": rtf["ours"],
            "fps": args.fps,
            "workers": motion.meta.get("workers"),
            "cpu_s": cpu["ours"],
        },  # fmt: skip
        "speedup": speedup,
        "cpu_ratio": cpu_ratio,
        "accuracy": acc,
        "target_met": met,
    }
    print(
        json.dumps(
            {
                "speedup": round(speedup, 3),
                "cpu_ratio": round(cpu_ratio, 3),
                "accuracy": {k: round(v, 2) for k, v in acc.items()},
            }
        )
    )
    return report


def main(argv: list[str] | None = None) -> int:
    return main_for("bench.extract", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
