"""The Gradio Blocks: layout and event wiring only. Behaviour lives in `app.core.LlamoApp`.

Every handler goes through `_friendly`, so bad input shows one readable sentence (gr.Error) and
never a stack trace; the tab stays usable. Text from users and from the model is escaped in
`app.render` before any component shows it.
"""

import functools
import inspect
import logging
import traceback
import weakref

import gradio as gr

from app.config import TAGS
from app.core import MAX_QUESTION, LlamoApp, Session, Settings
from app.identity import Identity, identify, who_line
from app.render import chat_messages, clock, esc, esc_md, strip_display, summary_markdown, timeline_figure
from llamo.errors import LlamoError

log = logging.getLogger("llamo.app")

CSS = """
.llamo-stats, small.llamo-stats { font-size: 0.75em; opacity: 0.7; }
#llamo-who { font-size: 0.9em; }
#llamo-warn { background: #fff3cd; padding: 0.4em 0.8em; border-radius: 6px; }
"""

# The time cursor, in the browser: seek the overlay video, show the skeleton figure's nearest
# slider step (restyle with that step's args + make it active) and draw a line across the
# kinematics plots, so no figure travels per move.
CURSOR_JS = """(t, s) => {
  const v = document.querySelector('#llamo-overlay video');
  if (v && isFinite(t)) { v.currentTime = t; }
  const gd = document.querySelector('#llamo-skeleton .js-plotly-plot');
  const P = window.Plotly;
  if (P && gd && gd.layout && gd.layout.sliders && gd.layout.sliders.length) {
    const steps = gd.layout.sliders[0].steps;
    let best = 0, gap = Infinity;
    steps.forEach((st, i) => {
      const p = String(st.label).split(':');
      const d = Math.abs(Number(p[0]) * 60 + Number(p[1]) - t);
      if (d < gap) { gap = d; best = i; }
    });
    if (steps.length) {
      P.restyle(gd, steps[best].args[0], steps[best].args[1]);
      P.relayout(gd, {'sliders[0].active': best});
    }
  }
  const kin = document.querySelector('#llamo-kinematics .js-plotly-plot');
  if (P && kin && kin.layout && isFinite(t)) {
    const shapes = (kin.layout.shapes || []).filter(x => x.name !== 'llamo-cursor');
    shapes.push({type: 'line', name: 'llamo-cursor', xref: 'x', yref: 'paper', x0: t, x1: t, y0: 0, y1: 1,
                 line: {color: 'black', width: 1, dash: 'dot'}});
    P.relayout(kin, {shapes: shapes});
  }
  return [t, s];
}"""
STATUSES = ["", "unreviewed", "corrected", "accepted", "rejected"]
JUMPS = 8  # "where the model looked" buttons per answer (all selected frames are marked on the timeline)


def sentence(msg: str) -> str:
    """A library message for gr.Error / gr.validate: first word capitalised unless it is a name
    (file.npz, an id), and HTML-escaped: Gradio renders error toasts as HTML (checked: an <img>
    in an error message loads), and messages carry user-chosen file names."""
    first = msg.split(" ", 1)[0]
    msg = msg[:1].upper() + msg[1:] if first.isalpha() and first.islower() else msg
    return esc(msg)


def _friendly(fn):
    """LlamoError -> gr.Error with its sentence; anything else -> logged, short message."""

    def convert(exc: Exception) -> Exception:
        if isinstance(exc, gr.Error):
            return exc
        if isinstance(exc, LlamoError):
            return gr.Error(sentence(str(exc)), print_exception=False)
        log.error("handler %s failed:\n%s", fn.__name__, traceback.format_exc())
        return gr.Error(
            f"Something went wrong ({type(exc).__name__}); the app is still usable.", print_exception=False
        )

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - shown to the user as one sentence
                raise convert(exc) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise convert(exc) from None

    return wrapper


def build_ui(core: LlamoApp) -> gr.Blocks:
    cfg = core.config
    # session_hash -> Session, so closing a tab stops its work; weak, so sessions that never send an
    # unload (API clients) vanish with their gr.State
    sessions: weakref.WeakValueDictionary[str, Session] = weakref.WeakValueDictionary()

    def ident_of(request: gr.Request | None, profile, typed: str | None) -> Identity | None:
        username = getattr(request, "username", None) if request is not None else None
        oauth_name = getattr(profile, "username", None) if profile is not None else None
        return identify(cfg, username=username, oauth_name=oauth_name, typed=typed)

    def session_of(state: Session | None, request: gr.Request | None) -> Session:
        if state is None:
            state = Session()
            if request is not None and getattr(request, "session_hash", None):
                sessions[request.session_hash] = state
        return state

    def progress_cb(progress: gr.Progress):
        return lambda fraction, message="": progress(float(fraction), desc=message)

    # ---- output builders -----------------------------------------------------------------

    def timeline(s: Session):
        clip = s.clip
        if clip is None:
            return None
        reps = clip.reps
        looked = s.turns[s.selected].looked if 0 <= s.selected < len(s.turns) else []
        return timeline_figure(
            clip.motion.duration,
            clip.motion.fps,
            signal=getattr(reps, "signal", None),
            signal_name=getattr(reps, "signal_name", ""),
            rep_frames=list(getattr(reps, "peak_frames", []) or []),
            looked=looked,
            cursor=s.cursor,
            span=s.span,
        )

    def jump_choices(s: Session):
        turn = s.turns[s.selected] if 0 <= s.selected < len(s.turns) else None
        top = (
            sorted(turn.looked, key=lambda x: -x[1])[:JUMPS] if turn else []
        )  # the strongest few, in time order
        choices = [(f"{clock(t)} (score {sc:.2f})", round(t, 3)) for t, sc in sorted(top)]
        return gr.Radio(choices=choices, value=None, label="Where the model looked (click to jump)")

    def answer_choices(s: Session):
        choices = [(f"{i + 1}: {t.question[:60]}", i) for i, t in enumerate(s.turns) if t.turn_id is not None]
        value = (
            s.selected if 0 <= s.selected < len(s.turns) and s.turns[s.selected].turn_id is not None else None
        )
        return gr.Dropdown(choices=choices, value=value)

    def fix_text(s: Session):
        turn = s.turns[s.selected] if 0 <= s.selected < len(s.turns) else None
        if turn is None:
            return ""
        return turn.corrected if turn.corrected is not None else turn.answer

    # ---- bringing a clip -----------------------------------------------------------------

    def clip_outputs(s: Session, status: str):
        clip = s.clip
        v = clip.views
        dur = round(clip.motion.duration, 3)
        step = round(1.0 / clip.motion.fps, 4)
        return (
            s,
            summary_markdown(clip.info),
            gr.Video(value=v.get("overlay"), visible=bool(v.get("overlay"))),
            v.get("skeleton"),
            v.get("glb"),
            v.get("glb"),
            v.get("kinematics"),
            gr.Slider(minimum=0, maximum=dur, step=step, value=0, interactive=True),
            gr.Slider(minimum=0, maximum=dur, step=step, value=0, interactive=True),
            gr.Slider(minimum=0, maximum=dur, step=step, value=dur, interactive=True),
            timeline(s),
            chat_messages(s.turns),
            gr.Dataset(samples=[[q] for q in core.example_questions(s)]),
            jump_choices(s),
            answer_choices(s),
            status,
        )

    @_friendly
    def open_video(video, state, request: gr.Request, progress=gr.Progress()):
        s = session_of(state, request)
        clip = core.open_file(s, video, source="upload", progress=progress_cb(progress))
        return clip_outputs(s, f"Opened {esc_md(clip.title)}.")

    @_friendly
    def open_motion(motion_file, state, request: gr.Request, progress=gr.Progress()):
        s = session_of(state, request)
        path = motion_file if isinstance(motion_file, str) else getattr(motion_file, "name", None)
        clip = core.open_file(s, path, source="import", progress=progress_cb(progress))
        return clip_outputs(s, f"Opened {esc_md(clip.title)}.")

    @_friendly
    def open_example(name, state, request: gr.Request, progress=gr.Progress()):
        s = session_of(state, request)
        if not name:
            raise LlamoError("pick an example first.")
        clip = core.open_example(s, name, progress=progress_cb(progress))
        return clip_outputs(s, f"Opened the example {esc_md(clip.title)}.")

    def check_video(video, state):
        """Runs before the queue: refuse big, long or unsupported files before any heavy work."""
        try:
            core.check_upload(video)
            return gr.validate(True, ""), gr.validate(True, "")
        except LlamoError as exc:
            return gr.validate(False, sentence(str(exc))), gr.validate(True, "")

    def check_question(question, state, *rest):
        """Runs before the queue: an empty or over-long question, or no clip yet, is refused
        with its sentence under the question box instead of an error on the chat."""
        q = (question or "").strip()
        problem = ""
        if not q:
            problem = "Type a question about the clip."
        elif len(q) > MAX_QUESTION:
            problem = f"The question is {len(q):,} characters long; the limit is {MAX_QUESTION:,}."
        elif state is None or state.clip is None:
            problem = "Bring a clip first: upload a video or motion file, or pick an example."
        return [gr.validate(not problem, problem)] + [gr.validate(True, "") for _ in range(1 + len(rest))]

    # ---- cursor and range ----------------------------------------------------------------

    @_friendly
    def move_cursor(t, state):
        """The skeleton and the video move in the browser (CURSOR_JS); the server redraws the
        timeline's cursor line (a small figure)."""
        if state is None or state.clip is None:
            return gr.skip()
        state.cursor = float(t or 0.0)
        return timeline(state)

    @_friendly
    def set_span(start, end, state):
        s = state
        if s is None or s.clip is None:
            raise LlamoError("bring a clip first.")
        a, b = core.set_span(s, start, end)
        whole = (a, b) == (0.0, s.clip.motion.duration)
        note = (
            "Questions ask about the whole clip."
            if whole
            else (
                f"Questions now ask about {clock(a)}–{clock(b)}; the next question starts a new conversation."
            )
        )
        return timeline(s), note

    def jump(t, state):
        if t is None or state is None or state.clip is None:
            return gr.skip()
        return float(t)

    # ---- chat ----------------------------------------------------------------------------

    def settings_of(temperature, top_p, max_new_tokens, seed) -> Settings:
        seed = int(seed) if seed not in (None, "") and float(seed) >= 0 else None
        return Settings(float(temperature), float(top_p), int(max_new_tokens), seed, cfg.min_new_tokens)

    def after_answer(s: Session, status: str):
        return chat_messages(s.turns), timeline(s), jump_choices(s), answer_choices(s), fix_text(s), status

    @_friendly
    def ask(
        question,
        state,
        temperature,
        top_p,
        max_new_tokens,
        seed,
        name,
        request: gr.Request,
        profile: gr.OAuthProfile | None = None,
    ):
        s = session_of(state, request)
        ident = ident_of(request, profile, name)
        skip = gr.skip()
        fresh = s.chat is None
        for _turn in core.ask(s, question, settings_of(temperature, top_p, max_new_tokens, seed), ident):
            yield (s, chat_messages(s.turns, streaming=True), "", skip, skip, skip, skip, skip)
        note = "New conversation. " if fresh else ""
        chat, *rest = after_answer(s, note + "Answer saved as a candidate.")
        yield (s, chat, "", *rest)

    @_friendly
    def regenerate(
        state,
        temperature,
        top_p,
        max_new_tokens,
        seed,
        name,
        request: gr.Request,
        profile: gr.OAuthProfile | None = None,
    ):
        s = session_of(state, request)
        ident = ident_of(request, profile, name)
        skip = gr.skip()
        for _turn in core.regenerate(s, settings_of(temperature, top_p, max_new_tokens, seed), ident):
            yield (s, chat_messages(s.turns, streaming=True), skip, skip, skip, skip, skip)
        yield (s, *after_answer(s, "New answer saved as another candidate (the earlier one is kept)."))

    def stop(state):
        if state is not None:
            core.stop(state)
        return "Stopping…"

    def clear(state):
        if state is not None:
            core.clear(state)
        s = state
        return (
            chat_messages([]),
            timeline(s) if s else None,
            gr.Radio(choices=[]),
            gr.Dropdown(choices=[], value=None),
            "",
            "Chat cleared; stored turns are kept.",
        )

    # ---- correcting ----------------------------------------------------------------------

    @_friendly
    def pick_answer(index, state):
        if state is None or index is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        state.selected = int(index)
        return fix_text(state), timeline(state), jump_choices(state), gr.skip()

    @_friendly
    def save_fix(
        index, text, rating, tags, state, name, request: gr.Request, profile: gr.OAuthProfile | None = None
    ):
        if state is None:
            raise LlamoError("there is no answer to correct yet.")
        idx = int(index) if index is not None else len(state.turns) - 1
        turn = core.correct(
            state, idx, text, ident_of(request, profile, name), rating=rating, tags=tags or []
        )
        return chat_messages(state.turns), f"✅ Saved correction #{turn.correction_id} of answer {idx + 1}."

    @_friendly
    def on_like(state, name, data: gr.LikeData, request: gr.Request, profile: gr.OAuthProfile | None = None):
        if state is None:
            raise LlamoError("there is no answer to rate yet.")
        idx = data.index if isinstance(data.index, int) else data.index[0]
        if idx % 2 == 0:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), "Rate the answers, not the questions."
        turn_index = idx // 2
        state.selected = turn_index
        saved = core.rate(state, turn_index, bool(data.liked), ident_of(request, profile, name))
        if saved is not None:
            return (
                chat_messages(state.turns),
                answer_choices(state),
                fix_text(state),
                gr.skip(),
                f"✅ Saved: answer {turn_index + 1} is right (rating 5, correction #{saved.correction_id}).",
            )
        return (
            gr.skip(),
            answer_choices(state),
            fix_text(state),
            1,
            f"Answer {turn_index + 1} marked wrong: write the right answer beside the chat and save.",
        )

    @_friendly
    def on_edit(state, name, data: gr.EditData, request: gr.Request, profile: gr.OAuthProfile | None = None):
        if state is None:
            raise LlamoError("there is nothing to edit yet.")
        idx = data.index if isinstance(data.index, int) else data.index[0]
        ident = ident_of(request, profile, name)
        text = strip_display(data.value)
        turn_index = idx // 2
        try:
            if idx % 2 == 0:
                msg = core.edit_question(state, turn_index, text, ident)
            else:
                turn = core.correct(state, turn_index, text, ident)
                state.selected = turn_index
                msg = f"✅ Saved correction #{turn.correction_id} of answer {turn_index + 1}."
        except LlamoError as exc:
            msg = f"Not saved: {exc}"
        return chat_messages(state.turns), msg  # always redraw: shows the stored truth, escaped

    # ---- review --------------------------------------------------------------------------

    REVIEW_COLS = [
        "turn",
        "conversation",
        "status",
        "annotator",
        "clip",
        "tags",
        "question",
        "answer",
        "correction",
    ]

    @_friendly
    def review_list(
        status, annotator, tag, clip, name, request: gr.Request, profile: gr.OAuthProfile | None = None
    ):
        rows = core.review_rows(
            ident_of(request, profile, name),
            status=status or "",
            annotator=annotator or "",
            tag=tag or "",
            clip=clip or "",
        )
        return [[r[c] for c in REVIEW_COLS] for r in rows], f"{len(rows)} turns."

    def review_pick(table, evt: gr.SelectData):
        try:
            row = evt.index[0]
            values = table.values.tolist()[row] if hasattr(table, "values") else table[row]
            turn, correction, answer = values[0], values[8], values[7]
            return int(turn), correction or answer, int(values[1])
        except Exception:  # noqa: BLE001
            return gr.skip(), gr.skip(), gr.skip()

    def review_action(action):
        @_friendly
        def act(turn_id, text, note, name, status, annotator, tag, clip, request: gr.Request,
                profile: gr.OAuthProfile | None = None):  # fmt: skip
            if not turn_id:
                raise LlamoError("pick a turn in the table first.")
            ident = ident_of(request, profile, name)
            msg = core.review(ident, int(turn_id), action, text=text, note=note or "")
            rows = core.review_rows(ident, status=status or "", annotator=annotator or "", tag=tag or "",
                                    clip=clip or "")  # fmt: skip
            return esc_md(msg), [[r[c] for c in REVIEW_COLS] for r in rows]  # the table, refreshed

        act.__name__ = f"review_{action}"
        return act

    @_friendly
    def reopen(
        conversation_id,
        state,
        name,
        request: gr.Request,
        progress=gr.Progress(),
        profile: gr.OAuthProfile | None = None,
    ):
        ident = ident_of(request, profile, name)
        if ident is None or not ident.is_reviewer:
            raise LlamoError("only reviewers can reopen stored conversations.")
        if not conversation_id:
            raise LlamoError("pick a turn in the table first.")
        s = session_of(state, request)
        core.reopen(s, int(conversation_id), progress=progress_cb(progress))
        return (*clip_outputs(s, f"Reopened conversation {int(conversation_id)}."), gr.Tabs(selected="chat"))

    # ---- export, stats, model ------------------------------------------------------------

    @_friendly
    def export(fmt, status, annotator, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
        archive, summary = core.export(
            ident_of(request, profile, name), fmt, status=status or "", annotator=annotator or ""
        )
        counts = summary.as_dict() if hasattr(summary, "as_dict") else dict(getattr(summary, "__dict__", {}))
        counts.pop("out_dir", None)  # a server path: not the user's business
        return str(archive), counts, core.stats()

    def stats():
        return core.stats()

    shared = bool(cfg.users or cfg.on_spaces)  # on shared deployments only reviewers export

    def who(name, request: gr.Request, profile: gr.OAuthProfile | None = None):
        try:
            ident = ident_of(request, profile, name)
        except LlamoError as exc:
            return esc_md(str(exc)), gr.Tab(visible=False), gr.Tab(visible=not shared)
        reviewer = bool(ident and ident.is_reviewer)
        return esc_md(who_line(cfg, ident)), gr.Tab(visible=reviewer), gr.Tab(visible=reviewer or not shared)

    def unload(request: gr.Request):
        key = getattr(request, "session_hash", None)
        s = sessions.pop(key, None)
        log.info("tab closed (session %s, known: %s)", key, s is not None)
        if s is not None:
            s.stop.set()  # a closed tab frees the generation at its next token

    # ---- layout --------------------------------------------------------------------------

    with gr.Blocks(title="LLaMo", delete_cache=cfg.delete_cache) as demo:
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
                who_md = gr.Markdown(esc_md(who_line(cfg, None)), elem_id="llamo-who")
        if cfg.on_spaces and not cfg.persistent_storage:
            gr.Markdown(
                "⚠️ This Space has no persistent storage (/data): annotations will be lost when it "
                "restarts. Enable persistent storage in the Space settings.",
                elem_id="llamo-warn",
            )
        status = gr.Markdown("", elem_id="llamo-status")
        with gr.Tabs() as tabs:
            with gr.Tab("Clip & chat", id="chat"), gr.Row():
                with gr.Column(scale=5):
                    with gr.Tabs():
                        with gr.Tab("Video"):
                            video = gr.Video(
                                label="Upload or record a video",
                                sources=["upload", "webcam"],
                                height=260,
                                elem_id="llamo-video-in",
                            )
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
                    skeleton = gr.Plot(label="3D skeleton", elem_id="llamo-skeleton")
                    cursor = gr.Slider(
                        0,
                        1,
                        value=0,
                        step=0.05,
                        label="Time cursor (s)",
                        interactive=False,
                        elem_id="llamo-cursor",
                    )
                    with gr.Row():
                        span_from = gr.Slider(
                            0,
                            1,
                            value=0,
                            step=0.05,
                            label="Ask about: from (s)",
                            interactive=False,
                            elem_id="llamo-span-from",
                        )
                        span_to = gr.Slider(
                            0,
                            1,
                            value=1,
                            step=0.05,
                            label="to (s)",
                            interactive=False,
                            elem_id="llamo-span-to",
                        )
                    kinematics = gr.Plot(label="Kinematics", elem_id="llamo-kinematics")
                    with gr.Row():
                        glb = gr.Model3D(label="Animated skeleton (GLB)", height=300, elem_id="llamo-glb")
                        glb_file = gr.File(label="Download GLB", interactive=False, elem_id="llamo-glb-file")
                with gr.Column(scale=5):
                    chatbot = gr.Chatbot(
                        label="Chat",
                        height=460,
                        editable="all",
                        render_markdown=False,
                        feedback_options=("Like", "Dislike"),
                        elem_id="llamo-chat",
                        placeholder="Bring a clip, then ask about it.",
                    )
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
                            0, 1.5, value=0.0, step=0.05, label="Temperature (0 = greedy)"
                        )
                        top_p = gr.Slider(0.1, 1.0, value=1.0, step=0.05, label="Top-p")
                        max_new = gr.Slider(
                            16,
                            512,
                            value=cfg.max_new_tokens,
                            step=16,
                            label="Max new tokens",
                            elem_id="llamo-max-new",
                        )
                        seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)")
                    timeline_plot = gr.Plot(
                        label="Timeline: repetitions and where the model looked", elem_id="llamo-timeline"
                    )
                    jump_radio = gr.Radio(
                        choices=[], label="Where the model looked (click to jump)", elem_id="llamo-jump"
                    )
                    with gr.Group():
                        gr.Markdown("**Correct an answer** (or edit it in place in the chat)")
                        answer_pick = gr.Dropdown(choices=[], label="Answer", elem_id="llamo-answer-pick")
                        fix_box = gr.Textbox(label="Right answer", lines=3, elem_id="llamo-fix")
                        with gr.Row():
                            rating = gr.Slider(1, 5, value=3, step=1, label="Rating of the model's answer")
                            tags = gr.CheckboxGroup(list(TAGS), label="Tags")
                        save_btn = gr.Button("Save correction", variant="primary", elem_id="llamo-save")
                        save_status = gr.Markdown("", elem_id="llamo-save-status")
            with gr.Tab("Review", id="review", visible=False) as review_tab:
                with gr.Row():
                    f_status = gr.Dropdown(STATUSES, value="corrected", label="Status")
                    f_annotator = gr.Textbox(label="Annotator", max_lines=1)
                    f_tag = gr.Dropdown([""] + list(TAGS), value="", label="Tag")
                    f_clip = gr.Textbox(label="Clip sha256", max_lines=1)
                    refresh = gr.Button("Refresh", elem_id="llamo-review-refresh")
                table = gr.Dataframe(
                    headers=REVIEW_COLS, interactive=False, wrap=True, elem_id="llamo-review-table"
                )
                review_status = gr.Markdown("")
                with gr.Row():
                    r_turn = gr.Number(label="Turn", precision=0)
                    r_conv = gr.Number(label="Conversation", precision=0)
                r_text = gr.Textbox(label="Answer (edit to revise)", lines=3)
                r_note = gr.Textbox(label="Note", max_lines=2)
                with gr.Row():
                    accept_btn = gr.Button("Accept", variant="primary")
                    reject_btn = gr.Button("Reject", variant="stop")
                    edit_btn = gr.Button("Save edit and accept")
                    reopen_btn = gr.Button("Reopen clip and conversation")
            with gr.Tab("Export", id="export", visible=not shared) as export_tab:
                gr.Markdown(
                    "Export the store as training data (the store's export; corrections are the answers)."
                )
                with gr.Row():
                    x_fmt = gr.Radio(["llava", "messages", "dpo"], value="llava", label="Format")
                    x_status = gr.Dropdown(
                        ["accepted", "accepted,corrected", "corrected", "unreviewed", "all"],
                        value="accepted,corrected",
                        label="Status of turns",
                        info="accepted = reviewed; corrected = not reviewed yet",
                    )
                    x_annotator = gr.Textbox(label="Annotator", max_lines=1)
                x_btn = gr.Button("Export", variant="primary", elem_id="llamo-export")
                x_file = gr.File(label="Export (zip)", interactive=False, elem_id="llamo-export-file")
                x_counts = gr.JSON(label="Counts")
                x_stats = gr.JSON(label="Store statistics")
            with gr.Tab("Model", id="model"):
                info, report = core.model_card()
                if info.get("checkpoint") == "untrained":
                    gr.Markdown(
                        "⚠️ No trained checkpoint is loaded (assets/checkpoint or LLAMO_MODEL): the "
                        "motion modules are random, so answers do not describe the clip yet."
                    )
                gr.Markdown(
                    "\n".join(f"- **{esc(k)}**: `{esc(str(v)) or '-'}`" for k, v in info.items())
                    or "No model."
                )
                gr.Markdown(report or "_No evaluation report in this checkpoint._")

        # ---- events ----------------------------------------------------------------------
        clip_outs = [
            state,
            summary,
            overlay,
            skeleton,
            glb,
            glb_file,
            kinematics,
            cursor,
            span_from,
            span_to,
            timeline_plot,
            chatbot,
            example_qs,
            jump_radio,
            answer_pick,
            status,
        ]
        ex = {
            "concurrency_limit": cfg.extract_concurrency,
            "concurrency_id": "extract",
            "show_progress_on": [summary, skeleton],
        }  # progress and errors there, not on the chat
        video.upload(
            open_video, [video, state], clip_outs, api_name="open_video", validator=check_video, **ex
        )
        video.stop_recording(
            open_video, [video, state], clip_outs, api_visibility="private", validator=check_video, **ex
        )
        motion_file.upload(
            open_motion, [motion_file, state], clip_outs, api_name="open_motion", validator=check_video, **ex
        )
        example_btn.click(open_example, [example, state], clip_outs, api_name="open_example", **ex)

        cursor.change(
            move_cursor,
            [cursor, state],
            [timeline_plot],
            api_name="move_cursor",
            trigger_mode="always_last",
            concurrency_limit=4,
            js=CURSOR_JS,
        )
        span_from.release(set_span, [span_from, span_to, state], [timeline_plot, status], api_name="set_span")
        span_to.release(
            set_span, [span_from, span_to, state], [timeline_plot, status], api_visibility="private"
        )
        jump_radio.change(jump, [jump_radio, state], [cursor], api_visibility="private")

        gen = {
            "concurrency_limit": cfg.chat_concurrency,
            "concurrency_id": "generate",
            "show_progress_on": [chatbot],
        }
        chat_outs = [state, chatbot, question, timeline_plot, jump_radio, answer_pick, fix_box, status]
        sampling = [temperature, top_p, max_new, seed, name]
        ask_ev = ask_btn.click(
            ask, [question, state, *sampling], chat_outs, api_name="ask", validator=check_question, **gen
        )
        sub_ev = question.submit(
            ask,
            [question, state, *sampling],
            chat_outs,
            api_visibility="private",
            validator=check_question,
            **gen,
        )
        regen_ev = regen_btn.click(
            regenerate,
            [state, *sampling],
            [state, chatbot, timeline_plot, jump_radio, answer_pick, fix_box, status],
            api_name="regenerate",
            **gen,
        )
        del ask_ev, sub_ev, regen_ev  # Stop uses the session's stop event: the partial answer is kept
        stop_btn.click(stop, [state], [status], api_name="stop", queue=False)
        clear_btn.click(
            clear,
            [state],
            [chatbot, timeline_plot, jump_radio, answer_pick, fix_box, status],
            api_name="clear",
            queue=False,
        )
        chatbot.clear(
            clear,
            [state],
            [chatbot, timeline_plot, jump_radio, answer_pick, fix_box, status],
            api_visibility="private",
            queue=False,
        )
        example_qs.click(lambda sample: sample[0], [example_qs], [question], api_visibility="private")

        answer_pick.change(
            pick_answer,
            [answer_pick, state],
            [fix_box, timeline_plot, jump_radio, save_status],
            api_visibility="private",
        )
        save_btn.click(
            save_fix,
            [answer_pick, fix_box, rating, tags, state, name],
            [chatbot, save_status],
            api_name="correct",
        )
        chatbot.like(
            on_like,
            [state, name],
            [chatbot, answer_pick, fix_box, rating, save_status],
            api_visibility="private",
        )
        chatbot.edit(on_edit, [state, name], [chatbot, save_status], api_visibility="private")

        review_args = [f_status, f_annotator, f_tag, f_clip, name]
        refresh.click(review_list, review_args, [table, review_status], api_name="review_list")
        table.select(review_pick, [table], [r_turn, r_text, r_conv], api_visibility="private")
        for btn, action in ((accept_btn, "accept"), (reject_btn, "reject"), (edit_btn, "edit")):
            btn.click(
                review_action(action),
                [r_turn, r_text, r_note, name, f_status, f_annotator, f_tag, f_clip],
                [review_status, table],
                api_name=f"review_{action}",
            )
        reopen_btn.click(reopen, [r_conv, state, name], [*clip_outs, tabs], api_name="reopen", **ex)

        x_btn.click(
            export, [x_fmt, x_status, x_annotator, name], [x_file, x_counts, x_stats], api_name="export"
        )
        name.change(who, [name], [who_md, review_tab, export_tab], api_visibility="private")
        demo.load(who, [name], [who_md, review_tab, export_tab], api_visibility="private")
        demo.load(stats, None, [x_stats], api_visibility="private")
        demo.unload(unload)
    demo.llamo_core = core  # tests reach the wiring through the Blocks
    return demo


def launch_kwargs(core: LlamoApp) -> dict:
    """The launch() arguments every entry point uses (CLI, Spaces shim, tests)."""
    cfg = core.config
    kw = {"max_file_size": f"{cfg.max_file_mb}mb", "css": CSS, "show_error": False, "footer_links": ["api"]}
    if cfg.users:
        kw["auth"] = list(cfg.users.items())
        kw["auth_message"] = "LLaMo: sign in to annotate."
    return kw


def queue(demo: gr.Blocks, core: LlamoApp) -> gr.Blocks:
    return demo.queue(max_size=core.config.queue_size, default_concurrency_limit=2)
