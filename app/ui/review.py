"""The review workspace and the admin tab, built like app/ui/layout.py's tabs (components only;
app/ui/team_handlers.py and events.py give them behaviour).

The workspace is a queue beside one record: filters (status, tag, annotator, clip picked by name
and date, answers the measured joints contradict), a compact queue table, Previous / Next (keys j / k), and beside the record the clip's
animated skeleton, the question, the model's answers, every revision with its author, and
accept / reject / edit-and-accept, with the team's guidelines at hand."""

from dataclasses import dataclass

import gradio as gr

from app.annotating import QUEUE_COLUMNS
from app.config import TAGS

STATUSES = ["", "unreviewed", "corrected", "accepted", "rejected"]


@dataclass
class ReviewTab:
    tab: gr.Tab
    status: gr.Dropdown
    annotator: gr.Dropdown
    tag: gr.Dropdown
    clip: gr.Dropdown  # (label by title and date, sha256)
    flagged: gr.Checkbox  # only answers the measured joints contradict
    refresh: gr.Button
    table: gr.Dataframe
    note: gr.Markdown
    prev_btn: gr.Button
    next_btn: gr.Button
    turn: gr.Number
    conversation: gr.Number
    glb: gr.Model3D
    record: gr.Markdown
    text: gr.Textbox
    review_note: gr.Textbox
    accept_btn: gr.Button
    reject_btn: gr.Button
    edit_btn: gr.Button
    reopen_btn: gr.Button
    guidelines: gr.Markdown

    @property
    def filters(self) -> list:
        return [self.status, self.annotator, self.tag, self.clip, self.flagged]


@dataclass
class AdminTab:
    tab: gr.Tab
    guidelines: gr.Textbox
    blind: gr.Checkbox
    overlap: gr.Number
    save: gr.Button
    assign: gr.Button
    note: gr.Markdown
    agreement: gr.Markdown
    audit: gr.Dataframe
    refresh: gr.Button


def guidelines_box(elem_id: str) -> gr.Markdown:
    """The team's guidelines (Markdown an admin sets), beside a form."""
    with gr.Accordion("Guidelines", open=True, elem_id=f"{elem_id}-box"):
        return gr.Markdown("_No guidelines yet: an admin sets them in the Admin tab._", elem_id=elem_id)


def build_review_tab() -> ReviewTab:
    with gr.Tab("Review", id="review", visible=False) as tab:
        with gr.Row():
            status = gr.Dropdown(STATUSES, value="corrected", label="Status", min_width=120)
            tag = gr.Dropdown([""] + list(TAGS), value="", label="Tag", min_width=120)
            annotator = gr.Dropdown([""], value="", label="Annotator", allow_custom_value=True, min_width=120)
            clip = gr.Dropdown([("any clip", "")], value="", label="Clip", allow_custom_value=True, scale=2)
            flagged = gr.Checkbox(
                label="⚠ Measured otherwise only", min_width=120, elem_id="llamo-review-flagged"
            )
            refresh = gr.Button("Refresh", elem_id="llamo-review-refresh", scale=0, min_width=90)
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=360):
                table = gr.Dataframe(
                    headers=list(QUEUE_COLUMNS),
                    interactive=False,
                    wrap=False,
                    max_height=420,
                    column_widths=["7%", "7%", "13%", "11%", "12%", "13%", "8%", "29%"],
                    elem_id="llamo-review-table",
                )
                note = gr.Markdown("", elem_id="llamo-review-note")
                with gr.Row():
                    prev_btn = gr.Button("◀ Previous (k)", size="sm", elem_id="llamo-review-prev")
                    next_btn = gr.Button("Next (j) ▶", size="sm", elem_id="llamo-review-next")
                guidelines = guidelines_box("llamo-review-guidelines")
            with gr.Column(scale=5, min_width=420):
                with gr.Row():
                    turn = gr.Number(label="Turn", precision=0, min_width=80, elem_id="llamo-review-turn")
                    conversation = gr.Number(label="Conversation", precision=0, min_width=80)
                glb = gr.Model3D(label="The clip (animated skeleton)", height=260, elem_id="llamo-review-glb")
                record = gr.Markdown("_Pick a record in the queue._", elem_id="llamo-review-record")
                text = gr.Textbox(label="Answer (edit to revise)", lines=3, elem_id="llamo-review-text")
                review_note = gr.Textbox(label="Note", max_lines=2)
                with gr.Row():
                    accept_btn = gr.Button("Accept", variant="primary", elem_id="llamo-review-accept")
                    reject_btn = gr.Button("Reject", variant="stop", elem_id="llamo-review-reject")
                    edit_btn = gr.Button("Save edit and accept", elem_id="llamo-review-edit")
                    reopen_btn = gr.Button("Reopen clip and conversation")
    return ReviewTab(tab, status, annotator, tag, clip, flagged, refresh, table, note, prev_btn, next_btn, turn,
                     conversation, glb, record, text, review_note, accept_btn, reject_btn, edit_btn, reopen_btn,
                     guidelines)  # fmt: skip


def build_admin_tab() -> AdminTab:
    with gr.Tab("Admin", id="admin", visible=False) as tab, gr.Row(equal_height=False):
        with gr.Column(scale=5):
            guidelines = gr.Textbox(
                label="Guidelines (Markdown; shown beside the annotation and review forms)",
                lines=10,
                elem_id="llamo-admin-guidelines",
            )
            with gr.Row():
                blind = gr.Checkbox(label="Blind mode: annotators see only their own work")
                overlap = gr.Number(value=1, precision=0, minimum=1, label="Annotators per clip (overlap)")
            with gr.Row():
                save = gr.Button("Save settings", variant="primary", elem_id="llamo-admin-save")
                assign = gr.Button("Assign clips", elem_id="llamo-admin-assign")
            note = gr.Markdown("", elem_id="llamo-admin-note")
        with gr.Column(scale=5):
            refresh = gr.Button("Refresh figures", size="sm", elem_id="llamo-admin-refresh")
            agreement = gr.Markdown("", elem_id="llamo-admin-agreement")
            audit = gr.Dataframe(
                headers=["when", "who", "what", "filters", "rows", "conversations"],
                interactive=False,
                label="Export audit log",
                elem_id="llamo-admin-audit",
            )
    return AdminTab(tab, guidelines, blind, overlap, save, assign, note, agreement, audit, refresh)
