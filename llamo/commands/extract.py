"""`python -m llamo extract INPUT -o OUT`: video, motion file or folder -> canonical motion .npz.

One summary line per clip: frames, fps, seconds, share of frames with a person, warnings, time.
For a folder, -o is a directory and each clip keeps its relative path (suffix .npz). A clip that
fails prints one error line; the others still run, and the exit status is 1.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from llamo.errors import LlamoError


def add_arguments(parser) -> None:
    parser.add_argument(
        "input", help="a video (.mp4 .mov .webm .avi .mkv .m4v), a .bvh/.npy/.npz, or a folder"
    )
    parser.add_argument(
        "-o", "--out", help="output .npz (a directory when INPUT is a folder); default ./<name>.npz"
    )
    parser.add_argument("--fps", type=float, default=20.0, help="output frame rate (default 20)")
    parser.add_argument("--keep-fps", action="store_true", help="keep a motion file's own frame rate")
    parser.add_argument(
        "--max-duration", type=float, default=600.0, help="refuse longer clips, seconds (default 600)"
    )
    parser.add_argument("--keep-all-tracks", action="store_true",
                        help="keep every tracked person instead of the longest consistent track")  # fmt: skip
    parser.add_argument("--subject", metavar="X,Y",
                        help="who to track when several people are seen: a point on them (or a box "
                             "X0,Y0,X1,Y1), normalised image coordinates (0-1) of the first frame "
                             "where they appear; --people shows the choices")  # fmt: skip
    parser.add_argument("--people", metavar="PNG",
                        help="save a still of the video with the people numbered, print each one's "
                             "--subject point, and stop")  # fmt: skip


def _progress(name: str):
    """Progress on a terminal; written to a copy of stderr's descriptor, because tracking points
    fd 2 at /dev/null to hide MediaPipe's native logs."""
    if not sys.stderr.isatty():
        return None
    tty = os.fdopen(os.dup(sys.stderr.fileno()), "w")

    def report(fraction: float, message: str) -> None:
        tty.write(f"\r{name}: {fraction:4.0%} {message}\x1b[K")
        if fraction >= 1.0:
            tty.write("\r\x1b[K")
            tty.close()
        else:
            tty.flush()

    return report


def summary(motion, src: Path, out: Path, seconds: float) -> str:
    warn = "; ".join(motion.warnings) if motion.warnings else "no warnings"
    return (
        f"{src.name} -> {out}: {motion.num_frames} frames, {motion.fps:g} fps, {motion.duration:.1f} s, "
        f"person {motion.person_fraction:.0%}, {warn}, {seconds:.1f} s"
    )


def convert(src: Path, out: Path, args) -> str:
    from llamo.importers import VIDEO_SUFFIXES, load_motion

    start = time.perf_counter()
    fps = None if (args.keep_fps and src.suffix.lower() not in VIDEO_SUFFIXES) else args.fps
    if getattr(args, "subject", None) and src.suffix.lower() in VIDEO_SUFFIXES:
        from llamo.capture import extract_video

        motion = extract_video(src, fps=fps, max_duration=args.max_duration, progress=_progress(src.name),
                               keep_all_tracks=args.keep_all_tracks, subject=args.subject)  # fmt: skip
    else:
        motion = load_motion(src, fps=fps, max_duration=args.max_duration, progress=_progress(src.name),
                             keep_all_tracks=args.keep_all_tracks)  # fmt: skip
    motion.save(out)
    return summary(motion, src, out, time.perf_counter() - start)


def people(src: Path, png: Path) -> str:
    """The --people still and one line a person: number, --subject point, box."""
    from llamo.capture.people import people_still

    still = people_still(src)
    still.save(png)
    lines = [f"{len(still.people)} people at {still.time:.2f} s in {src.name}, numbered in {png}:"]
    lines += [f"  {p.number}: --subject {p.point[0]:.3f},{p.point[1]:.3f}" for p in still.people]
    return "\n".join(lines)


def run(args) -> int:
    from llamo.importers import iter_inputs

    src = Path(args.input)
    if not src.exists():
        raise LlamoError(f"{src} does not exist.")
    if getattr(args, "people", None):
        if src.is_dir():
            raise LlamoError("--people takes one video, not a folder.")
        print(people(src, Path(args.people)))
        return 0
    if getattr(args, "subject", None):
        from llamo.capture.subject import Subject

        if src.is_dir():
            raise LlamoError("--subject takes one video, not a folder (each clip has its own people).")
        Subject.parse(args.subject)  # a bad point is refused before any decoding
    if src.is_dir():
        out_dir = Path(args.out or src.name + "_motions")
        if out_dir.exists() and not out_dir.is_dir():
            raise LlamoError(f"{out_dir} exists and is not a directory.")
        files = iter_inputs(src)
        if not files:
            raise LlamoError(f"{src} contains no videos or motion files.")
        failed = 0
        for f in files:
            out = out_dir / f.relative_to(src).with_suffix(".npz")
            try:
                print(convert(f, out, args), flush=True)
            except LlamoError as exc:
                failed += 1
                print(f"{f.name}: error: {exc}", flush=True)
        print(f"{len(files) - failed} of {len(files)} clips converted into {out_dir}")
        return 1 if failed else 0
    out = Path(args.out) if args.out else Path(src.stem + ".npz")
    if out.suffix.lower() != ".npz":
        raise LlamoError(f"the output {out.name} must end in .npz.")
    if out.resolve() == src.resolve():
        raise LlamoError("the output would overwrite the input; choose another -o.")
    print(convert(src, out, args))
    return 0
