"""Thin adapters from the app to the libraries it wires (capture, importers, views, kinematics,
export). Each is one call into the library; the adaptation is only of names and arguments, so
the rest of the app reads the same whichever way a library spells them."""

from __future__ import annotations

from pathlib import Path

from llamo.errors import LlamoError
from llamo.motion import Motion


def probe(path: Path):
    """VideoInfo (duration, fps, ...) without decoding the frames."""
    from llamo.capture import probe_video

    return probe_video(path)


def load_motion(path: Path, *, fps, max_duration, progress):
    try:
        from llamo.importers import load_motion as _load
    except ImportError:  # the importers are not installed: only our own .npz can be read
        if path.suffix.lower() != ".npz":
            raise LlamoError(f"{path.suffix} files cannot be read by this installation.") from None
        return Motion.load(path)
    return _load(path, fps=fps, max_duration=max_duration, progress=progress)


def repetitions(motion: Motion):
    try:
        from llamo.kinematics import count_repetitions
    except ImportError:
        return None
    try:
        return count_repetitions(motion)
    except LlamoError:
        return None


def render(motion: Motion, video: Path | None, out_dir: Path, progress, reps=None) -> dict:
    """overlay (mp4 path, videos with landmarks only), glb (path), skeleton (plotly figure),
    kinematics (figure). A view whose module is missing is left out (the UI hides it)."""
    import importlib

    def lib(name: str):
        try:
            return importlib.import_module(f"llamo.views.{name}")
        except ImportError:
            return None

    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict = {}
    progress(0.0, "3D skeleton")
    result["skeleton"] = lib("skeleton3d").skeleton_figure(motion)
    if (kin := lib("kinematics_plot")) is not None:
        progress(0.15, "kinematics")
        result["kinematics"] = kin.kinematics_figure(motion, reps)
    if (glb := lib("glb")) is not None:
        progress(0.3, "animated GLB")
        result["glb"] = str(glb.write_glb(motion, out_dir / "skeleton.glb"))
    if video is not None and motion.landmarks_image is not None and (ov := lib("overlay")) is not None:
        progress(0.4, "overlay video")
        ov.render_overlay(
            motion, video, out_dir / "overlay.mp4", progress=lambda f, m="": progress(0.4 + 0.6 * f, m)
        )
        result["overlay"] = str(out_dir / "overlay.mp4")
    progress(1.0, "views ready")
    return result


def export(export_dataset, store, folder: Path, fmt: str, *, status: str = "", annotator: str = ""):
    """status: "accepted", "accepted,corrected", "all", ... (the store's default: accepted)."""
    from annotations.models import STATUSES

    kwargs: dict = {}
    if status == "all":
        kwargs["status"] = tuple(STATUSES)
    elif status:
        kwargs["status"] = tuple(s.strip() for s in status.split(",") if s.strip())
    if annotator:
        kwargs["annotator"] = annotator
    return export_dataset(store, folder, format=fmt, **kwargs)
