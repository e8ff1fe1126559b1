"""Interactive 3D skeleton for `gr.Plot` (plotly), scrubbed with a slider.

Why a slider of `restyle` steps and not `go.Frame`s: `gr.Plot` hands the figure to
`Plotly.react` without its frames, so a frame animation never plays there, while slider steps
that restyle the traces with per-frame data do. The per-frame data go in as lists rounded to
millimetres (plotly 7 serialises numpy arrays as base64 float64, so rounding numpy saves
nothing), at most `max_fps` frames a second, which keeps a 30 s clip well under 1 MB of JSON.

Axes: the motion's +y (up) is plotly's z, so plotly's turntable rotates about the vertical;
the mapping (x, y, z) -> (x, -z, y) is a rotation, so the body is not mirrored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from llamo.kinematics import floor_height
from llamo.motion import Motion
from llamo.skeleton import facing_direction

SIDE_COLOURS = {"left": "#1f77b4", "right": "#d62728", "centre": "#444444"}
# Joint chains drawn as one polyline each, per side (None-separated in a trace).
CHAINS: dict[str, tuple[tuple[int, ...], ...]] = {
    "left": ((0, 1, 4, 7, 10), (9, 13, 16, 18, 20)),
    "right": ((0, 2, 5, 8, 11), (9, 14, 17, 19, 21)),
    "centre": ((0, 3, 6, 9, 12, 15),),
}


def _chain_index(chains: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """Joint indices of the concatenated chains with -1 where a gap (None) goes."""
    out: list[int] = []
    for i, c in enumerate(chains):
        if i:
            out.append(-1)
        out.extend(c)
    return np.array(out)


CHAIN_INDEX = {side: _chain_index(ch) for side, ch in CHAINS.items()}


@dataclass(frozen=True)
class SkeletonViewConfig:
    max_fps: float = 10.0  # displayed frame rate cap (slider steps per second of motion)
    max_steps: int = 600  # long clips: at most this many slider steps (10 min -> 1 a second)
    decimals: int = 3  # millimetres
    height: int = 520  # figure height in px
    line_width: int = 7
    marker_size: int = 4


def shown_frames(num_frames: int, fps: float, max_fps: float, max_steps: int = 0) -> np.ndarray:
    """Frame indices shown on the slider: every k-th frame, at most ~max_fps a second and max_steps in all."""
    step = max(1, int(round(fps / max_fps))) if max_fps > 0 else 1
    if max_steps > 0:
        step = max(step, int(np.ceil(num_frames / max_steps)))
    return np.arange(0, num_frames, step)


def _to_plotly(joints: np.ndarray, floor: float) -> np.ndarray:
    """(..., 3) motion coordinates (+y up) -> plotly scene coordinates (+z up), floor at 0."""
    return np.stack([joints[..., 0], -joints[..., 2], joints[..., 1] - floor], axis=-1)


def _lists(values: np.ndarray, decimals: int) -> list[list]:
    """(F, P) array with NaN gaps -> nested Python lists of rounded floats and None."""
    rounded = np.round(values.astype(np.float64), decimals)
    return [[None if v != v else v for v in row] for row in rounded.tolist()]


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60.0)
    return f"{int(m)}:{s:04.1f}"


def skeleton_figure(motion: Motion, config: SkeletonViewConfig | None = None) -> go.Figure:
    """The scrubbable 3D skeleton figure: 3 bone traces (left, right, centre) + a ground plane."""
    cfg = config or SkeletonViewConfig()
    if motion.num_frames == 0:
        from llamo.errors import LlamoError

        raise LlamoError("The motion has no frames to show.")
    frames = shown_frames(motion.num_frames, motion.fps, cfg.max_fps, cfg.max_steps)
    floor = floor_height(motion.joints)
    pts = _to_plotly(motion.joints.astype(np.float64), floor)  # (T, 22, 3)

    # Per side: (F, P, 3) coordinates with NaN where the chains break.
    per_side: dict[str, list[list[list]]] = {}
    for side, idx in CHAIN_INDEX.items():
        sel = pts[frames][:, np.maximum(idx, 0)]  # (F, P, 3)
        sel[:, idx < 0] = np.nan
        per_side[side] = [_lists(sel[..., k], cfg.decimals) for k in range(3)]
    sides = list(CHAIN_INDEX)

    # Scene box: equal scale on all axes, covering the whole clip plus a margin.
    lo = np.nanmin(pts.reshape(-1, 3), axis=0)
    hi = np.nanmax(pts.reshape(-1, 3), axis=0)
    centre = (lo + hi) / 2
    span = np.maximum((hi - lo) / 2 + 0.2, 0.3)
    rng = [[float(centre[k] - span[k]), float(centre[k] + span[k])] for k in range(3)]
    rng[2] = [-0.05, float(max(hi[2] + 0.15, 0.5))]
    ratio = np.array([r[1] - r[0] for r in rng])
    ratio = ratio / ratio.max()

    # Ground plane at the lowest foot point (z = 0 in plotly coordinates).
    gx = [rng[0][0], rng[0][1], rng[0][1], rng[0][0]]
    gy = [rng[1][0], rng[1][0], rng[1][1], rng[1][1]]
    traces = [
        go.Scatter3d(
            x=per_side[s][0][0],
            y=per_side[s][1][0],
            z=per_side[s][2][0],
            mode="lines+markers",
            name=s,
            line={"color": SIDE_COLOURS[s], "width": cfg.line_width},
            marker={"color": SIDE_COLOURS[s], "size": cfg.marker_size},
            hoverinfo="name",
        )
        for s in sides
    ]
    traces.append(
        go.Mesh3d(
            x=gx, y=gy, z=[0, 0, 0, 0], i=[0, 0], j=[1, 2], k=[2, 3],
            color="#b8c4b0", opacity=0.45, hoverinfo="skip", name="ground", showlegend=False,
        )
    )  # fmt: skip

    steps = [
        {
            "method": "restyle",
            "label": _clock(float(f) / motion.fps),
            "args": [
                {
                    "x": [per_side[s][0][i] for s in sides],
                    "y": [per_side[s][1][i] for s in sides],
                    "z": [per_side[s][2][i] for s in sides],
                },
                [0, 1, 2],
            ],
        }
        for i, f in enumerate(frames)
    ]

    # Camera in front of the person (mean facing direction over the clip), slightly above.
    fwd = facing_direction(motion.joints.astype(np.float64)).mean(axis=0)
    fwd_p = np.array([fwd[0], -fwd[2]])
    norm = np.linalg.norm(fwd_p)
    fwd_p = fwd_p / norm if norm > 1e-6 else np.array([0.0, -1.0])  # default: facing the camera (-z)
    eye = {"x": float(fwd_p[0] * 1.8), "y": float(fwd_p[1] * 1.8), "z": 0.4}

    axis = {"showbackground": False, "gridcolor": "#dddddd", "zerolinecolor": "#bbbbbb"}
    layout = {
        "height": cfg.height,
        "margin": {"l": 0, "r": 0, "t": 30, "b": 0},
        "title": {
            "text": f"{motion.duration:.1f} s, {motion.num_frames} frames at {motion.fps:g} fps",
            "x": 0.02,
        },
        "legend": {"orientation": "h", "x": 0.02, "y": 0.98},
        "uirevision": "skeleton",
        "scene": {
            "xaxis": {**axis, "title": {"text": "x (m)"}, "range": rng[0]},
            "yaxis": {**axis, "title": {"text": "-z (m)"}, "range": rng[1]},
            "zaxis": {**axis, "title": {"text": "y up (m)"}, "range": rng[2]},
            "aspectmode": "manual",
            "aspectratio": {"x": float(ratio[0]), "y": float(ratio[1]), "z": float(ratio[2])},
            "camera": {"eye": eye, "up": {"x": 0, "y": 0, "z": 1}, "center": {"x": 0, "y": 0, "z": 0}},
            "dragmode": "turntable",
        },
        "sliders": [
            {
                "active": 0,
                "steps": steps,
                "currentvalue": {"prefix": "time ", "font": {"size": 12}},
                "pad": {"t": 10, "b": 5},
                "len": 0.96,
                "x": 0.02,
            }
        ],
    }
    return go.Figure(data=traces, layout=layout)


def figure_json_size(fig: go.Figure) -> int:
    """Bytes of the figure's JSON, what `gr.Plot` ships to the browser."""
    return len(fig.to_json().encode())


def skeleton_view(motion: Motion, config: SkeletonViewConfig | None = None) -> tuple[go.Figure, int]:
    """The skeleton figure and its JSON size in bytes."""
    fig = skeleton_figure(motion, config)
    return fig, figure_json_size(fig)
