"""Kinematics over time (plotly): joint angles, pelvis, confidence and repetitions.

Rows, sharing the time axis (seconds):
1. knee and hip flexion, left and right (deg; 0 = straight / in line with the trunk)
2. elbow flexion and shoulder elevation (deg; 0 = straight / arm hanging)
3. trunk lean from vertical (deg)
4. pelvis height above the lowest foot (m) and pelvis speed (m/s)
5. confidence per body part (0-1)
6. the repetition signal with each repetition marked; the count is in the title.
Vertical dotted lines mark the repetitions across all rows; `with_bands` shades labelled time
ranges (experts' segments) over them.

Built from a plain dict layout (not `make_subplots`) and rounded lists, so it stays fast and small.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from llamo import kinematics as kin
from llamo.kinematics import Repetitions
from llamo.motion import Motion
from llamo.views.skeleton3d import SIDE_COLOURS

PART_COLOURS = {
    "head": "#7f7f7f",
    "torso": "#444444",
    "left_arm": "#1f77b4",
    "right_arm": "#d62728",
    "left_leg": "#6baed6",
    "right_leg": "#fc9272",
}


def _r(a: np.ndarray, decimals: int) -> list:
    return np.round(np.asarray(a, np.float64), decimals).tolist()


def kinematics_figure(motion: Motion, reps: Repetitions | None = None, height: int = 900) -> go.Figure:
    """The kinematics figure; `reps` defaults to `count_repetitions(motion)` (signal "auto")."""
    reps = reps if reps is not None else kin.count_repetitions(motion)
    t = _r(np.arange(motion.num_frames) / motion.fps, 3)
    angles = kin.joint_angles(motion)
    rows = [
        ("flexion (deg)", [
            ("left knee flexion", angles["left_knee_flexion"], SIDE_COLOURS["left"], "solid"),
            ("right knee flexion", angles["right_knee_flexion"], SIDE_COLOURS["right"], "solid"),
            ("left hip flexion", angles["left_hip_flexion"], SIDE_COLOURS["left"], "dash"),
            ("right hip flexion", angles["right_hip_flexion"], SIDE_COLOURS["right"], "dash"),
        ]),
        ("arms (deg)", [
            ("left elbow flexion", angles["left_elbow_flexion"], SIDE_COLOURS["left"], "solid"),
            ("right elbow flexion", angles["right_elbow_flexion"], SIDE_COLOURS["right"], "solid"),
            ("left shoulder elevation", angles["left_shoulder_elevation"], SIDE_COLOURS["left"], "dash"),
            ("right shoulder elevation", angles["right_shoulder_elevation"], SIDE_COLOURS["right"], "dash"),
        ]),
        ("trunk lean (deg)", [("trunk lean", angles["trunk_lean"], SIDE_COLOURS["centre"], "solid")]),
        ("pelvis (m, m/s)", [
            ("pelvis height (m)", kin.pelvis_height(motion), "#2ca02c", "solid"),
            ("pelvis speed (m/s)", kin.pelvis_speed(motion), "#9467bd", "dot"),
        ]),
        ("confidence (0-1)", [
            (f"{part.replace('_', ' ')} confidence", c, PART_COLOURS[part], "solid")
            for part, c in kin.part_confidence(motion).items()
        ]),
        (f"{reps.label} ({reps.unit})", [(f"repetition signal: {reps.label}", reps.signal, "#ff7f0e", "solid")]),
    ]  # fmt: skip
    n = len(rows)
    gap = 0.025
    h = (1.0 - gap * (n - 1)) / n
    traces: list[go.Scatter] = []
    layout: dict = {
        "height": height,
        "margin": {"l": 60, "r": 190, "t": 50, "b": 40},
        "hovermode": "x unified",
        "title": {
            "text": f"{reps.count} repetition{'s' if reps.count != 1 else ''}: "
            f"{'highest' if reps.polarity > 0 else 'lowest'} points of the {reps.label}",
            "x": 0.01,
        },
    }
    for i, (ytitle, series) in enumerate(rows):
        k = "" if i == 0 else str(i + 1)
        top = 1.0 - i * (h + gap)
        layout[f"yaxis{k}"] = {
            "domain": [max(0.0, top - h), top],
            "title": {"text": ytitle, "font": {"size": 11}},
            "anchor": f"x{k}",
            **({"range": [0, 1.05]} if "confidence" in ytitle else {}),
        }
        # One legend per row, beside it (plotly >= 5.15 supports legend, legend2, ...).
        layout[f"legend{k}"] = {
            "y": top,
            "yanchor": "top",
            "x": 1.01,
            "font": {"size": 10},
            "tracegroupgap": 0,
        }
        layout[f"xaxis{k}"] = {
            "anchor": f"y{k}",
            "showticklabels": i == n - 1,
            **({"matches": "x"} if i else {}),
            **({"title": {"text": "time (s)"}} if i == n - 1 else {}),
        }
        decimals = 1 if "deg" in ytitle else 3
        for name, y, colour, dash in series:
            traces.append(
                go.Scatter(
                    x=t, y=_r(y, decimals), name=name, mode="lines",
                    line={"color": colour, "dash": dash, "width": 1.6},
                    xaxis=f"x{k}", yaxis=f"y{k}", legend=f"legend{k}",
                )
            )  # fmt: skip
    if reps.count:
        last = str(n)
        pf = np.asarray(reps.peak_frames)
        traces.append(
            go.Scatter(
                x=_r(pf / motion.fps, 3), y=_r(reps.signal[pf], 3), mode="markers+text",
                text=[str(i + 1) for i in range(len(pf))], textposition="top center",
                marker={"symbol": "diamond", "size": 9, "color": "#ff7f0e", "line": {"color": "black", "width": 1}},
                name="repetitions", xaxis=f"x{last}", yaxis=f"y{last}", legend=f"legend{last}",
            )
        )  # fmt: skip
        layout["shapes"] = [
            {
                "type": "line", "xref": "x", "yref": "paper", "x0": float(x), "x1": float(x), "y0": 0, "y1": 1,
                "line": {"color": "#ff7f0e", "width": 1, "dash": "dot"}, "layer": "below",
            }
            for x in pf / motion.fps
        ]  # fmt: skip
    return go.Figure(data=traces, layout=layout)


@dataclass(frozen=True)
class Band:
    """A labelled time range to shade across the kinematics rows (an expert's segment)."""

    start_s: float
    end_s: float
    label: str


BAND_COLOURS = ("#2a9d8f", "#e76f51", "#8e7dbe", "#e9c46a", "#264653", "#f4a261")


def with_bands(fig: go.Figure, bands: list[Band]) -> go.Figure:
    """A copy of the kinematics figure with each band shaded over every row and labelled on top.
    Earlier shapes (the repetition lines) stay; labels are escaped (plotly reads HTML in text)."""
    out = go.Figure(fig)
    keep = [s for s in (out.layout.shapes or ()) if s.name != "llamo-band"]
    shapes, notes = list(keep), [a for a in (out.layout.annotations or ()) if a.name != "llamo-band"]
    for i, b in enumerate(bands):
        colour = BAND_COLOURS[i % len(BAND_COLOURS)]
        shapes.append(
            go.layout.Shape(
                type="rect", xref="x", yref="paper", x0=b.start_s, x1=b.end_s, y0=0, y1=1, name="llamo-band",
                fillcolor=colour, opacity=0.18, line={"width": 0}, layer="below",
            )
        )  # fmt: skip
        notes.append(
            go.layout.Annotation(
                x=(b.start_s + b.end_s) / 2, xref="x", y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                text=html.escape(b.label[:40]), font={"size": 10, "color": colour}, name="llamo-band",
            )
        )  # fmt: skip
    out.update_layout(shapes=shapes, annotations=notes)
    return out
