"""Thin adapters from the app to the libraries it wires (kinematics, views, export). Each is one
call into the library; the adaptation is only of names and arguments, so the rest of the app
reads the same whichever way a library spells them. (Files are read by
`llamo.importers.load_motion` and probed by `llamo.video.probe_video`, called directly.)"""

from __future__ import annotations

from pathlib import Path

from llamo.errors import LlamoError
from llamo.motion import Motion


def repetitions(motion: Motion):
    """The repetition count for the summary and timeline, or None when the motion has none."""
    from llamo.kinematics import count_repetitions

    try:
        return count_repetitions(motion)
    except LlamoError:
        return None


def render(motion: Motion, video: Path | None, out_dir: Path, progress, reps=None) -> dict:
    """skeleton (plotly figure), kinematics (figure), glb (path) and, for videos with image
    landmarks, overlay (mp4 path)."""
    from llamo.views.glb import write_glb
    from llamo.views.kinematics_plot import kinematics_figure
    from llamo.views.overlay import render_overlay
    from llamo.views.skeleton3d import skeleton_figure

    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict = {}
    progress(0.0, "3D skeleton")
    result["skeleton"] = skeleton_figure(motion)
    progress(0.15, "kinematics")
    result["kinematics"] = kinematics_figure(motion, reps)
    progress(0.3, "animated GLB")
    result["glb"] = str(write_glb(motion, out_dir / "skeleton.glb"))
    if video is not None and motion.landmarks_image is not None:
        progress(0.4, "overlay video")
        render_overlay(
            motion, video, out_dir / "overlay.mp4", progress=lambda f, m="": progress(0.4 + 0.6 * f, m)
        )
        result["overlay"] = str(out_dir / "overlay.mp4")
    progress(1.0, "views ready")
    return result


def glb(motion: Motion, out: Path) -> Path:
    """The animated skeleton alone (the review workspace's 3D view of a stored clip)."""
    from llamo.views.glb import write_glb

    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(write_glb(motion, out))


def statuses(status: str) -> tuple[str, ...] | None:
    """The export's status choice as a tuple: "all", "accepted,corrected", ...; None: the default."""
    from annotations.models import STATUSES

    if status == "all":
        return tuple(STATUSES)
    return tuple(s.strip() for s in status.split(",") if s.strip()) or None


def export(store, folder: Path, fmt: str, *, status: str = "", annotator: str = ""):
    """status: "accepted", "accepted,corrected", "all", ... (the store's default: accepted)."""
    from annotations.export import export_dataset

    kwargs: dict = {}
    if statuses(status):
        kwargs["status"] = statuses(status)
    if annotator:
        kwargs["annotator"] = annotator
    return export_dataset(store, folder, format=fmt, **kwargs)
