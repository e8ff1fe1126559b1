"""Time segments on the timeline, in the page: the handlers and wiring of the segment form
(app/ui/segment_box.py) under the kinematics, where the segments are drawn as shaded bands.

"Current time" is the overlay video's position when it has one (where the expert paused it),
else the time cursor; the core snaps it to the clip's frames."""

import gradio as gr

from app.ui.context import Ui
from llamo.errors import LlamoError

# The overlay video's time when it has moved (the expert paused it there), else the cursor.
NOW_JS = """(c, s) => { const v = document.querySelector('#llamo-overlay video');
  return [v && v.currentTime > 0 ? v.currentTime : c, s]; }"""


def table_value(ui: Ui, state) -> list[list]:
    return [line.cells() for line in ui.core.segment_lines(state)]


def drawn(ui: Ui, state) -> dict:
    """What a change of the clip's segments redraws: the table and the shaded kinematics."""
    box = ui.page.clip.segments
    return {
        box.table: table_value(ui, state),
        ui.page.clip.kinematics: ui.core.kinematics_with_segments(state),
    }


def now(ui: Ui, t, state):
    if state is None or state.clip is None:
        raise LlamoError("bring a clip first: upload a video or motion file, or pick an example.")
    return ui.core.snap_time(state, t)


def _saved(ui: Ui, state, row, verb: str) -> dict:
    box = ui.page.clip.segments
    when = f"{row.start_s:.2f}–{row.end_s:.2f} s"
    return {
        **drawn(ui, state),
        box.number: row.number,
        box.start: round(row.start_s, 3),
        box.end: round(row.end_s, 3),
        box.status: f"✅ Segment {row.number} {verb} ({when}, revision {row.revision}).",
    }


def add(ui: Ui, start, end, label, text, state, name, request: gr.Request,
        profile: gr.OAuthProfile | None = None):  # fmt: skip
    row = ui.core.add_segment(state, start, end, label, text, ui.ident(request, profile, name))
    return _saved(ui, state, row, "added")


def edit(ui: Ui, number, start, end, label, text, state, name, request: gr.Request,
         profile: gr.OAuthProfile | None = None):  # fmt: skip
    row = ui.core.edit_segment(state, number, start, end, label, text, ui.ident(request, profile, name))
    return _saved(ui, state, row, "saved")


def delete(ui: Ui, number, state, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    row = ui.core.delete_segment(state, number, ui.ident(request, profile, name))
    box = ui.page.clip.segments
    return {**drawn(ui, state), box.number: None, box.status: f"🗑 Segment {row.number} deleted."}


def pick(ui: Ui, table, state, evt: gr.SelectData):
    """A table row fills the form (and moves the cursor to its start) to edit or delete it."""
    lines = ui.core.segment_lines(state)
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    if not 0 <= row < len(lines):
        return gr.skip()
    line = lines[row]
    box = ui.page.clip.segments
    return {box.number: line.number, box.start: line.start, box.end: line.end, box.label: line.label,
            box.text: line.text, ui.page.clip.cursor: line.start}  # fmt: skip


def wire_segments(ui: Ui, bind) -> None:
    """The segment form's events (inside the page's Blocks)."""
    box, state, name = ui.page.clip.segments, ui.page.head.state, ui.page.head.name
    cursor = ui.page.clip.cursor
    box.start_now.click(bind(now, ui), [cursor, state], [box.start], js=NOW_JS, api_visibility="private")
    box.end_now.click(bind(now, ui), [cursor, state], [box.end], js=NOW_JS, api_visibility="private")
    outs = [box.table, ui.page.clip.kinematics, box.number, box.start, box.end, box.status]
    box.add_btn.click(bind(add, ui), [*box.form, state, name], outs, api_name="add_segment")
    box.edit_btn.click(bind(edit, ui), [box.number, *box.form, state, name], outs, api_name="edit_segment")
    box.delete_btn.click(
        bind(delete, ui), [box.number, state, name], [box.table, ui.page.clip.kinematics, box.number, box.status],
        api_name="delete_segment",
    )  # fmt: skip
    box.table.select(
        bind(pick, ui), [box.table, state], [box.number, *box.form, cursor], api_visibility="private"
    )
