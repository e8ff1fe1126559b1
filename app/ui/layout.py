"""The page, one builder per tab. Each builder creates its components inside the current Blocks
context and returns them in a small dataclass, so handlers and wiring name components by field
instead of by position. No events here (app/ui/events.py wires them)."""

from dataclasses import dataclass

import gradio as gr

from app.config import TAGS, AppConfig
from app.core import LlamoApp
from app.identity import who_line
from app.render import esc, esc_md
from app.session import Session
from app.ui.picker import PeoplePicker, build_people_picker
from app.ui.review import AdminTab, ReviewTab, build_admin_tab, build_review_tab, guidelines_box
from app.ui.segment_box import SegmentBox, build_segment_box
from llamo.storage import storage_plan


@dataclass
class Header:
    """Above the tabs: the tab's state, who is annotating, the status line."""

    state: gr.State
    name: gr.Textbox
    who: gr.Markdown
    status: gr.Markdown


@dataclass
class ClipColumn:
    """Bringing a clip and its views (left half of "Clip & chat")."""

    video: gr.Video
    motion_file: gr.File
    example: gr.Dropdown
    example_btn: gr.Button
    summary: gr.Markdown
    overlay: gr.Video
    skeleton: gr.Plot
    cursor: gr.Slider
    span_from: gr.Slider
    span_to: gr.Slider
    kinematics: gr.Plot
    glb: gr.Model3D
    glb_file: gr.File
    segments: SegmentBox  # time segments marked on the kinematics timeline
    picker: PeoplePicker  # who a video with several people follows (app/ui/picker.py)
    views: gr.Column  # skeleton to segments: hidden until a clip opens


@dataclass
class ChatColumn:
    """The chat, its sampling settings, the timeline and the correction box (right half)."""

    chatbot: gr.Chatbot
    stats: gr.Markdown  # each answer's small print (kept out of the editable messages)
    question: gr.Textbox
    ask_btn: gr.Button
    stop_btn: gr.Button
    regen_btn: gr.Button
    clear_btn: gr.Button
    example_qs: gr.Dataset
    temperature: gr.Slider
    top_p: gr.Slider
    max_new: gr.Slider
    seed: gr.Number
    timeline: gr.Plot
    jump: gr.Radio
    answer_pick: gr.Dropdown
    fix_box: gr.Textbox
    rating: gr.Radio  # none until the expert picks one
    tags: gr.CheckboxGroup
    save_btn: gr.Button
    save_status: gr.Markdown
    mine: gr.Dropdown  # the annotator's own stored conversations
    mine_refresh: gr.Button
    mine_open: gr.Button
    guidelines: gr.Markdown | None = None  # the team's guidelines beside the form
    tools: gr.Column | None = None  # timeline, jumps and the correction form: hidden until a clip opens


@dataclass
class ExportTab:
    tab: gr.Tab
    fmt: gr.Radio
    status: gr.Dropdown
    annotator: gr.Textbox
    button: gr.Button
    file: gr.File
    counts: gr.Markdown
    stats: gr.Markdown


@dataclass
class Layout:
    """The whole page. The `*_outputs` lists are the events' outputs, in the API's order
    (gradio_client callers index into them)."""

    demo: gr.Blocks
    head: Header
    tabs: gr.Tabs
    clip: ClipColumn
    chat: ChatColumn
    review: ReviewTab
    export: ExportTab
    admin: AdminTab

    def clip_outputs(self) -> list:
        c = self.clip
        return [self.head.state, c.summary, c.overlay, c.skeleton, c.glb, c.glb_file, c.kinematics, c.cursor,
                c.span_from, c.span_to, self.chat.timeline, self.chat.chatbot, self.chat.example_qs,
                self.chat.jump, self.chat.answer_pick, self.head.status, *self.fresh_correction(), c.segments.table,
                c.views, self.chat.tools]  # fmt: skip

    def fresh_correction(self) -> list:
        """A new clip empties the correction form and the small print."""
        c = self.chat
        return [c.fix_box, c.rating, c.tags, c.save_status, c.stats]

    def answer_outputs(self) -> list:
        """What an answer (or clearing the chat) redraws, after the chat itself."""
        c = self.chat
        return [c.timeline, c.jump, c.answer_pick, c.fix_box, c.stats, self.head.status]

    def sampling(self) -> list:
        c = self.chat
        return [c.temperature, c.top_p, c.max_new, c.seed, self.head.name]


def build_header(cfg: AppConfig) -> Header:
    state = gr.State(
        None,
        time_to_live=cfg.session_ttl_s,
        delete_callback=lambda s: s.close() if isinstance(s, Session) else None,
    )
    with gr.Row():
        gr.Markdown("# LLaMo · talk about human motion\nBring a clip, ask about it, correct the answers.")
        with gr.Column(scale=0, min_width=320):
            name = gr.Textbox(
                label="Your name",
                placeholder="for your corrections",
                max_lines=1,
                visible=cfg.typed_names_allowed,
            )
            if cfg.oauth:
                gr.LoginButton()
            who = gr.Markdown(esc_md(who_line(cfg, None)), elem_id="llamo-who")
    if cfg.on_spaces and not cfg.persistent_storage:
        gr.Markdown(f"⚠️ Storage is ephemeral: {storage_plan().why}", elem_id="llamo-warn")
    status = gr.Markdown("", elem_id="llamo-status")
    return Header(state, name, who, status)


def build_clip_column(core: LlamoApp) -> ClipColumn:
    with gr.Tabs():
        with gr.Tab("Video"):
            video = gr.Video(
                label="Upload or record a video",
                sources=["upload", "webcam"],
                height=260,
                elem_id="llamo-video-in",
            )
            picker = build_people_picker()
        with gr.Tab("Motion file"):
            motion_file = gr.File(
                label="Motion file (.npz, HumanML3D .npy, .bvh)",
                file_types=[".npz", ".npy", ".bvh"],
                type="filepath",
                elem_id="llamo-motion-in",
            )
        with gr.Tab("Examples"):
            examples = list(core.examples())
            example = gr.Dropdown(
                choices=examples,
                value=examples[0] if examples else None,
                label="Example motions (made by the project)",
            )
            example_btn = gr.Button("Open example", elem_id="llamo-open-example")
    summary = gr.Markdown("", elem_id="llamo-summary")
    overlay = gr.Video(
        label="Pose overlay",
        interactive=False,
        visible=False,
        elem_id="llamo-overlay",
        autoplay=False,
        height=480,
    )
    # The views mean nothing before a clip: not drawn on page load (a fifth of its script
    # time), shown by the first clip (handlers.clip_update).
    with gr.Column(visible=False, elem_id="llamo-views") as views:
        skeleton = gr.Plot(label="3D skeleton", elem_id="llamo-skeleton")
        cursor = _time_slider("Time cursor (s)", 0, "llamo-cursor")
        with gr.Row():
            span_from = _time_slider("Ask about: from (s)", 0, "llamo-span-from")
            span_to = _time_slider("to (s)", 1, "llamo-span-to")
        kinematics = gr.Plot(label="Kinematics", elem_id="llamo-kinematics")
        segments = build_segment_box()
    # outside the hidden column: a Model3D first drawn by the update that sets its value shows
    # no canvas (Gradio 6.31, seen in tests/test_browser_app.py)
    with gr.Row():
        glb = gr.Model3D(label="Animated skeleton (GLB)", height=300, elem_id="llamo-glb")
        glb_file = gr.File(label="Download GLB", interactive=False, elem_id="llamo-glb-file")
    return ClipColumn(video, motion_file, example, example_btn, summary, overlay, skeleton, cursor, span_from,
                      span_to, kinematics, glb, glb_file, segments, picker, views)  # fmt: skip


def _time_slider(label: str, value: float, elem_id: str) -> gr.Slider:
    """Inactive until a clip sets its range (updates.time_slider)."""
    return gr.Slider(0, 1, value=value, step=0.05, label=label, interactive=False, elem_id=elem_id)


def build_chat_column(cfg: AppConfig) -> ChatColumn:
    chatbot = gr.Chatbot(
        label="Chat",
        height=460,
        editable="all",
        render_markdown=False,
        feedback_options=("Like", "Dislike"),
        elem_id="llamo-chat",
        placeholder="Bring a clip, then ask about it.",
    )
    stats = gr.Markdown("", elem_id="llamo-answer-stats")
    with gr.Row():
        question = gr.Textbox(
            label="Question",
            placeholder="Ask about the motion…",
            scale=5,
            max_lines=4,
            elem_id="llamo-question",
        )
        ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="llamo-ask")
    with gr.Row():
        stop_btn = gr.Button("Stop", size="sm", elem_id="llamo-stop")
        regen_btn = gr.Button("Regenerate", size="sm", elem_id="llamo-regenerate")
        clear_btn = gr.Button("Clear", size="sm", elem_id="llamo-clear")
    example_qs = gr.Dataset(
        components=[question],
        samples=[["What is the person doing?"]],
        label="Example questions",
        elem_id="llamo-example-qs",
    )
    with gr.Accordion("Sampling", open=False):
        temperature = gr.Slider(
            0, 1.5, value=0.0, step=0.05, label="Temperature (0 = greedy; Regenerate then samples at 0.7)"
        )
        top_p = gr.Slider(0.1, 1.0, value=1.0, step=0.05, label="Top-p")
        # the configured limit is always inside the slider: a value past its ends fails every question
        lo, hi = min(16, cfg.max_new_tokens), max(512, cfg.max_new_tokens)
        max_new = gr.Slider(
            lo, hi, value=cfg.max_new_tokens, step=16 if lo == 16 else 1, label="Max new tokens",
            elem_id="llamo-max-new",
        )  # fmt: skip
        seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)")
    # like the clip's views: nothing to show or correct before a clip (shown by clip_update)
    with gr.Column(visible=False, elem_id="llamo-answer-tools") as tools:
        timeline = gr.Plot(label="Timeline: repetitions and where the model looked", elem_id="llamo-timeline")
        jump = gr.Radio(choices=[], label="Where the model looked (click to jump)", elem_id="llamo-jump")
        with gr.Group():
            gr.Markdown("**Correct an answer** (or edit it in place in the chat)")
            answer_pick = gr.Dropdown(choices=[], label="Answer", elem_id="llamo-answer-pick")
            fix_box = gr.Textbox(label="Right answer", lines=3, elem_id="llamo-fix")
            with gr.Row():
                rating = gr.Radio(
                    [1, 2, 3, 4, 5],
                    value=None,
                    label="Rating of the model's answer (optional)",
                    elem_id="llamo-rating",
                )
                tags = gr.CheckboxGroup(list(TAGS), label="Tags")
            save_btn = gr.Button("Save correction", variant="primary", elem_id="llamo-save")
            save_status = gr.Markdown("", elem_id="llamo-save-status")
    guidelines = guidelines_box("llamo-guidelines")
    with gr.Accordion("My conversations", open=False, elem_id="llamo-mine-box"):
        mine = gr.Dropdown(choices=[], label="Your stored conversations", elem_id="llamo-mine")
        with gr.Row():
            mine_refresh = gr.Button("Refresh", size="sm", elem_id="llamo-mine-refresh")
            mine_open = gr.Button("Reopen", size="sm", elem_id="llamo-mine-open")
    return ChatColumn(chatbot, stats, question, ask_btn, stop_btn, regen_btn, clear_btn, example_qs, temperature,
                      top_p, max_new, seed, timeline, jump, answer_pick, fix_box, rating, tags, save_btn,
                      save_status, mine, mine_refresh, mine_open, guidelines, tools)  # fmt: skip


def build_export_tab(shared: bool) -> ExportTab:
    with gr.Tab("Export", id="export", visible=not shared) as tab:
        gr.Markdown("Export the store as training data (the store's export; corrections are the answers).")
        with gr.Row():
            fmt = gr.Radio(["llava", "messages", "dpo"], value="llava", label="Format")
            status = gr.Dropdown(
                ["accepted", "accepted,corrected", "corrected", "unreviewed", "all"],
                value="accepted,corrected",
                label="Status of turns",
                info="accepted = reviewed; corrected = not reviewed yet",
            )
            annotator = gr.Textbox(label="Annotator", max_lines=1)
        button = gr.Button("Export", variant="primary", elem_id="llamo-export")
        file = gr.File(label="Export (zip)", interactive=False, elem_id="llamo-export-file")
        counts = gr.Markdown("", elem_id="llamo-export-counts")
        stats = gr.Markdown("", elem_id="llamo-store-stats")
    return ExportTab(tab, fmt, status, annotator, button, file, counts, stats)


def build_model_tab(core: LlamoApp) -> None:
    """Static: what is loaded and how well it did (nothing here changes while the app runs)."""
    with gr.Tab("Model", id="model"):
        card = core.model_card()
        info = card.info
        if info.get("checkpoint") == "untrained":
            gr.Markdown(
                "⚠️ No trained checkpoint is loaded (assets/checkpoint or LLAMO_MODEL): the "
                "motion modules are random, so answers do not describe the clip yet."
            )
        gr.Markdown(
            "\n".join(f"- **{esc(k)}**: `{esc(str(v)) or '-'}`" for k, v in info.items()) or "No model."
        )
        gr.Markdown(card.report or "_No evaluation report in this checkpoint._")


def build_layout(core: LlamoApp) -> Layout:
    """The Blocks with every tab; `shared` deployments (auth or a Space) hide Export from
    non-reviewers until `who` shows it."""
    cfg = core.config
    with gr.Blocks(title="LLaMo", delete_cache=cfg.delete_cache) as demo:
        head = build_header(cfg)
        with gr.Tabs() as tabs:
            with gr.Tab("Clip & chat", id="chat"), gr.Row():
                with gr.Column(scale=5):
                    clip = build_clip_column(core)
                with gr.Column(scale=5):
                    chat = build_chat_column(cfg)
            review = build_review_tab()
            export = build_export_tab(shared=bool(cfg.users or cfg.on_spaces))
            admin = build_admin_tab()
            build_model_tab(core)
    return Layout(demo, head, tabs, clip, chat, review, export, admin)
