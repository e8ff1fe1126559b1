"""The segment form under the kinematics (layout only; app/ui/segments.py has its handlers and
wiring): start and end in seconds, each settable from the current time, a label, an optional
text, the clip's segment table and a status line."""

from dataclasses import dataclass

import gradio as gr

from app.segmenting import SEGMENT_COLUMNS


@dataclass
class SegmentBox:
    start: gr.Number
    start_now: gr.Button
    end: gr.Number
    end_now: gr.Button
    label: gr.Textbox
    text: gr.Textbox
    number: gr.Number  # the picked row's segment (edit and delete act on it)
    add_btn: gr.Button
    edit_btn: gr.Button
    delete_btn: gr.Button
    table: gr.Dataframe
    status: gr.Markdown

    @property
    def form(self) -> list:
        return [self.start, self.end, self.label, self.text]


def build_segment_box() -> SegmentBox:
    """Under the kinematics: four short rows, the table and a status line."""
    with gr.Accordion("Segments on the timeline", open=True, elem_id="llamo-seg-box"):
        with gr.Row(equal_height=True):
            start = gr.Number(label="Start (s)", precision=3, minimum=0, elem_id="llamo-seg-start", scale=2)
            start_now = gr.Button("⟵ now", size="sm", elem_id="llamo-seg-start-now", scale=1, min_width=60)
            end = gr.Number(label="End (s)", precision=3, minimum=0, elem_id="llamo-seg-end", scale=2)
            end_now = gr.Button("⟵ now", size="sm", elem_id="llamo-seg-end-now", scale=1, min_width=60)
        with gr.Row():
            label = gr.Textbox(
                label="Label", placeholder="rep 2: knee valgus", max_lines=1, elem_id="llamo-seg-label"
            )
            text = gr.Textbox(
                label="Text (optional)",
                placeholder="The person loses balance.",
                max_lines=2,
                elem_id="llamo-seg-text",
            )
        with gr.Row(equal_height=True):
            number = gr.Number(
                label="Segment", precision=0, interactive=False, elem_id="llamo-seg-number", min_width=80
            )
            add_btn = gr.Button("Add segment", variant="primary", elem_id="llamo-seg-add", min_width=80)
            edit_btn = gr.Button("Save edit", elem_id="llamo-seg-edit", min_width=80)
            delete_btn = gr.Button("Delete", variant="stop", elem_id="llamo-seg-delete", min_width=80)
        table = gr.Dataframe(
            headers=list(SEGMENT_COLUMNS),
            interactive=False,
            wrap=True,
            elem_id="llamo-seg-table",
            max_height=220,
            column_widths=["9%", "9%", "9%", "28%", "27%", "10%", "8%"],
        )
        status = gr.Markdown("", elem_id="llamo-seg-status")
    return SegmentBox(start, start_now, end, end_now, label, text, number, add_btn, edit_btn, delete_btn, table,
                      status)  # fmt: skip
