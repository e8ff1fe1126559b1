"""What a tab's session looks like in its components: the timeline figure, the jump buttons, the
answer picker, the correction box. Pure functions of a `Session`; the handlers decide which
components get them."""

import gradio as gr

from app.render import clock, timeline_figure
from app.session import Session
from llamo.answer_check import answer_times

JUMPS = 8  # "where the model looked" buttons per answer (all selected frames are marked on the timeline)


def timeline(s: Session | None):
    """The strip under the chat: repetitions, the asked range, the cursor and where the
    selected answer looked (None before a clip)."""
    clip = s.clip if s is not None else None
    if clip is None:
        return None
    reps = clip.reps
    turn = s.selected_turn
    return timeline_figure(
        clip.motion.duration,
        clip.motion.fps,
        signal=getattr(reps, "signal", None),
        signal_name=getattr(reps, "signal_name", ""),
        rep_frames=list(getattr(reps, "peak_frames", []) or []),
        looked=turn.looked if turn else [],
        cursor=s.cursor,
        span=s.span,
    )


def jump_choices(s: Session) -> gr.Radio:
    """The times the selected answer cites ("at 6.7 s"), then its strongest few frames, as buttons
    that move the cursor (and so seek the video, the 3D view and the kinematics)."""
    turn = s.selected_turn
    top = sorted(turn.looked, key=lambda x: -x[1])[:JUMPS] if turn else []
    duration = s.clip.motion.duration if s.clip is not None else 0.0
    said = cited_times(turn.corrected or turn.answer, duration) if turn else []
    choices = [(f"{t:.1f} s (in the answer)", round(t, 3)) for t in said]
    choices += [(f"{clock(t)} (score {sc:.2f})", round(t, 3)) for t, sc in sorted(top)]
    return gr.Radio(
        choices=choices, value=None, label="Times in the answer, and where the model looked (click to jump)"
    )


def cited_times(text: str, duration: float) -> list[float]:
    """Seconds an answer names ("at 6.7 s", "from 4.2 s to 5.0 s"), within the clip, in order."""
    return list(dict.fromkeys(t for t in answer_times(text) if 0.0 <= t <= duration + 1e-6))[:JUMPS]


def answer_choices(s: Session) -> gr.Dropdown:
    """The stored answers one can correct beside the chat, with the selected one picked."""
    choices = [(f"{i + 1}: {t.question[:60]}", i) for i, t in enumerate(s.turns) if t.turn_id is not None]
    turn = s.selected_turn
    return gr.Dropdown(choices=choices, value=s.selected if turn and turn.turn_id is not None else None)


def fix_text(s: Session) -> str:
    """The correction box starts from the stored correction, else the model's answer."""
    turn = s.selected_turn
    if turn is None:
        return ""
    return turn.corrected if turn.corrected is not None else turn.answer


def selected_answer(chat, s: Session) -> dict:
    """What follows the selected answer, for a handler's output: the correction box, the
    timeline and the jump buttons (`chat`: the page's chat panel)."""
    return {chat.fix_box: fix_text(s), chat.timeline: timeline(s), chat.jump: jump_choices(s)}


def time_slider(duration: float, fps: float, value: float) -> gr.Slider:
    """A slider over the clip, one step per frame."""
    return gr.Slider(minimum=0, maximum=duration, step=round(1.0 / fps, 4), value=value, interactive=True)
