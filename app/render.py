"""Text and small figures the UI shows. Every string from a user or the model passes `esc`.

The Chatbot runs with render_markdown=False, where it still renders (sanitised) HTML: so
`html.escape` of the text shows it literally (checked in a browser: no `<b>`, no remote `<img>`,
no markdown image). The chat holds no markup of ours: the small print is a Markdown beside it.
"""

from __future__ import annotations

import html
import re

import plotly.graph_objects as go

from llamo.labels import OTHER


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=False)  # text nodes only: & < > are enough


MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def esc_md(text: str | None) -> str:
    """For gr.Markdown: HTML-escaped, and markdown syntax backslash-escaped (no links, no images)."""
    return MD_SPECIAL.sub(r"\\\1", esc(text))


def clock(seconds: float) -> str:
    """0:03.2 style times for humans."""
    seconds = max(0.0, float(seconds))
    m, s = divmod(seconds, 60.0)
    return f"{int(m)}:{s:04.1f}"


def stats_line(turn) -> str:
    """The small print under an answer: time to first token, speed, where the model looked."""
    t = turn.timings or {}
    bits = []
    if "ttft_s" in t:
        bits.append(f"first token {t['ttft_s']:.2f} s")
    if t.get("tokens_per_s"):
        bits.append(f"{t['tokens_per_s']:.1f} tok/s")
    if t.get("new_tokens"):
        bits.append(f"{t['new_tokens']} tokens")
    if turn.stopped:
        bits.append("stopped")
    elif turn.partial:
        bits.append("token limit")
    if turn.looked:
        top = sorted(sorted(turn.looked, key=lambda x: -x[1])[:6])  # the strongest six, in time order
        bits.append("looked at " + ", ".join(clock(t) for t, _ in top))
    if turn.corrected is not None:
        bits.append(f"corrected (#{turn.correction_id})")
    if turn.regenerations:
        bits.append(f"regenerated ×{turn.regenerations}")
    return " · ".join(bits)


def chat_messages(turns, streaming: bool = False) -> list[dict]:
    """Chatbot messages for the session's turns: escaped text and nothing else, so an in-place
    edit holds only the answer (the small print is `answer_notes`, beside the chat). A corrected
    answer shows its correction, also after a regenerate; the last may still be streaming."""
    out: list[dict] = []
    for i, turn in enumerate(turns):
        out.append({"role": "user", "content": esc(turn.question)})
        live = streaming and i == len(turns) - 1
        shown = turn.answer if live or turn.corrected is None else turn.corrected
        out.append({"role": "assistant", "content": esc(shown) or "…"})
    return out


def answer_notes(turns) -> str:
    """The small print of every finished answer, one line each (markdown, escaped); under an
    answer the measurement contradicts, the sentence that says how (until an expert corrects
    it); under a count, time or side held to the measurement, where it was measured; under a
    corrected answer, the model's latest candidate when it says something else."""
    lines = []
    for i, turn in enumerate(turns):
        line = stats_line(turn)
        flagged = bool(turn.check) and turn.corrected is None
        grounded = bool(turn.grounded) and turn.corrected is None
        if not line and not flagged and not grounded:  # a reopened turn has no timings, but keeps its notes
            continue
        lines.append(f"**{i + 1}.** {esc(line) or 'stored answer'}")  # our own figures: no markdown in them
        if flagged:
            lines.append(f"↳ ⚠ measured otherwise: {esc_md(turn.check)}")
        if grounded:
            lines.append(f"↳ {esc_md(turn.grounded)}")
        if turn.corrected is not None and turn.answer and turn.answer != turn.corrected:
            lines.append(f"↳ the model's latest answer: {esc_md(turn.answer)}")
    return "\n\n".join(lines)


def strip_display(value) -> str:
    """What an annotator typed into an in-place edit, back as plain text (undo our escaping)."""
    if isinstance(value, list):  # content as blocks
        value = "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in value)
    return html.unescape(str(value or "")).strip()


UNNAMED = "a movement it has no name for"  # the summary's "other" (llamo/model/action_gate.py)


def summary_markdown(info: dict) -> str:
    """The clip summary (values from our code; the file name is escaped)."""
    lines = [
        f"**{esc_md(info['title'])}** · {clock(info['duration'])} ({info['duration']:.1f} s) · "
        f"{info['fps']:.0f} fps · {info['num_frames']} frames · person in {info['person_pct']:.0f}% of frames"
    ]
    if info.get("reps") is not None:
        lines.append(f"Repetitions found: **{info['reps']}** (signal: {esc_md(info.get('rep_signal', ''))})")
    if info.get("measured"):
        lines.append(f"**What the model measured:** {esc_md(info['measured'].removeprefix('Measured: '))}")
    reads = info.get("model_reads") or []
    if reads:
        parts = []
        for r in reads:
            reps = int(r["count"] + 0.5)  # half up: 2.5 reads as 3, 0.4 as none
            count = f" ×{reps}" if reps >= 1 else ""
            name = UNNAMED if r["action"] == OTHER else r["action"].replace("_", " ")
            parts.append(f"{name}{count} ({clock(r['start_s'])}–{clock(r['end_s'])})")
        lines.append("What the model is told about the motion: " + esc_md(" · ".join(parts)))
    for w in info.get("warnings", []):
        lines.append(f"⚠️ {esc_md(w)}")
    if info.get("notes"):
        lines += [esc_md(n) for n in info["notes"]]
    return "\n\n".join(lines)


def timeline_figure(
    duration: float,
    fps: float,
    *,
    signal=None,
    signal_name: str = "",
    rep_frames=(),
    looked=(),
    cursor: float = 0.0,
    span: tuple[float, float] | None = None,
) -> go.Figure:
    """One strip across the clip: the repetition signal with its peaks, where the model looked
    for the selected answer (red marks, taller = higher score), the asked range and the cursor."""
    fig = go.Figure()
    if signal is not None and len(signal):
        xs = [round(i / fps, 3) for i in range(len(signal))]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[round(float(v), 3) for v in signal],
                mode="lines",
                name=signal_name or "signal",
                line={"width": 1.5, "color": "#4a6fa5"},
            )
        )
        if len(rep_frames):
            fig.add_trace(
                go.Scatter(
                    x=[round(f / fps, 3) for f in rep_frames],
                    y=[round(float(signal[min(f, len(signal) - 1)]), 3) for f in rep_frames],
                    mode="markers",
                    name="repetitions",
                    marker={"symbol": "triangle-down", "size": 10, "color": "#2a9d8f"},
                )
            )
    for t, score in looked:
        fig.add_vline(x=t, line={"color": "#d62828", "width": 1 + 3 * max(0.0, min(1.0, score))}, opacity=0.8)
    if looked:
        fig.add_trace(
            go.Scatter(
                x=[t for t, _ in looked],
                y=[None] * len(looked),
                mode="markers",
                name="model looked",
                marker={"color": "#d62828"},
            )
        )
    if span is not None and (span[0] > 0 or span[1] < duration):
        fig.add_vrect(x0=span[0], x1=span[1], fillcolor="#f4a261", opacity=0.15, line_width=0)
    fig.add_vline(x=cursor, line={"color": "black", "dash": "dot", "width": 1})
    fig.update_layout(
        height=240,
        margin={"l": 40, "r": 10, "t": 40, "b": 30},
        showlegend=True,
        legend={"orientation": "h", "y": 1.15},
        xaxis={"title": "time (s)", "range": [0, duration]},
    )
    return fig


def facts_markdown(facts: dict, title: str = "") -> str:
    """Counts and statistics (nested dicts of our own figures; names in them are escaped) as a
    readable list, instead of a JSON viewer: "- **turns by status**: accepted 3 · corrected 1"."""
    lines = [f"**{esc_md(title)}**", ""] if title else []
    for key, value in facts.items():
        label = esc_md(str(key).replace("_", " "))
        if isinstance(value, dict) and value and not any(isinstance(v, dict) for v in value.values()):
            value = " · ".join(f"{esc_md(str(k))} {_figure(v)}" for k, v in value.items())
            lines.append(f"- **{label}**: {value}")
        elif isinstance(value, dict):
            inner = facts_markdown(value).replace("\n", "\n  ")
            lines.append(f"- **{label}**:" + ("\n  " + inner if value else " none"))
        else:
            lines.append(f"- **{label}**: {_figure(value)}")
    return "\n".join(lines)


def _figure(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict):
        return ", ".join(f"{esc_md(str(k).replace('_', ' '))} {_figure(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_figure(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:.3g}"
    return esc_md(str(value))
