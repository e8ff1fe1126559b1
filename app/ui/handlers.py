"""The event handlers, as module-level functions of `ui` (the app, its components and the open
tabs) and the event's inputs. Behaviour lives in `app.core.LlamoApp`; a handler turns inputs
into a core call and the result into component updates, returned as `{component: value}` so
each value names where it goes. Components a handler leaves out keep their value.

app/ui/events.py binds `ui` and wraps each handler in `friendly` (one readable sentence for bad
input). Text from users and from the model is escaped in `app.render` before any component
shows it.
"""

import logging
import time

import gradio as gr

from app.annotating import QUEUE_COLUMNS, REVIEW_COLUMNS
from app.identity import Identity, need_reviewer, who_line
from app.render import answer_notes, chat_messages, clock, esc_md, facts_markdown, summary_markdown
from app.session import Session, Settings
from app.ui import updates
from app.ui.context import Ui
from app.ui.errors import sentence
from llamo.errors import LlamoError

log = logging.getLogger("llamo.app")


def _progress(progress: gr.Progress):
    return lambda fraction, message="": progress(float(fraction), desc=message)


# ---- bringing a clip -------------------------------------------------------------------------


def clip_update(ui: Ui, s: Session, status: str) -> dict:
    """Every view of a newly opened clip, and a fresh chat beside it."""
    p, clip = ui.page, s.clip
    views = clip.views
    dur, fps = round(clip.motion.duration, 3), clip.motion.fps
    return {
        p.head.state: s,
        p.clip.summary: summary_markdown(clip.info),
        p.clip.overlay: gr.Video(value=views.get("overlay"), visible=bool(views.get("overlay"))),
        p.clip.skeleton: views.get("skeleton"),
        p.clip.glb: views.get("glb"),
        p.clip.glb_file: views.get("glb"),
        p.clip.kinematics: ui.core.kinematics_with_segments(s),  # the clip's segments shaded
        p.clip.segments.table: [line.cells() for line in ui.core.segment_lines(s)],
        p.clip.cursor: updates.time_slider(dur, fps, 0),
        p.clip.span_from: updates.time_slider(dur, fps, 0),
        p.clip.span_to: updates.time_slider(dur, fps, dur),
        p.chat.timeline: updates.timeline(s),
        p.chat.chatbot: chat_messages(s.turns),
        p.chat.example_qs: gr.Dataset(samples=[[q] for q in ui.core.example_questions(s)]),
        p.chat.jump: updates.jump_choices(s),
        p.chat.answer_pick: updates.answer_choices(s),
        p.clip.views: gr.Column(visible=True),
        p.chat.tools: gr.Column(visible=True),
        p.head.status: status,
        # a new clip: an empty correction form (a reopened conversation: its selected answer and small print)
        **dict(
            zip(p.fresh_correction(), (updates.fix_text(s), None, [], "", answer_notes(s.turns)), strict=True)
        ),
    }


def open_video(ui: Ui, video, state, request: gr.Request, progress=gr.Progress()):
    s = ui.session(state, request)
    with ui.job(request) as job:  # one per user, timed, cancelled when the tab closes
        clip = ui.core.open_file(s, video, source="upload", progress=job.progress(_progress(progress)))
    return clip_update(ui, s, f"Opened {esc_md(clip.title)}.")


def open_motion(ui: Ui, motion_file, state, request: gr.Request, progress=gr.Progress()):
    s = ui.session(state, request)
    path = motion_file if isinstance(motion_file, str) else getattr(motion_file, "name", None)
    with ui.job(request) as job:
        clip = ui.core.open_file(s, path, source="import", progress=job.progress(_progress(progress)))
    return clip_update(ui, s, f"Opened {esc_md(clip.title)}.")


def open_example(ui: Ui, name, state, request: gr.Request, progress=gr.Progress()):
    s = ui.session(state, request)
    if not name:
        raise LlamoError("pick an example first.")
    with ui.job(request) as job:
        clip = ui.core.open_example(s, name, progress=job.progress(_progress(progress)))
    return clip_update(ui, s, f"Opened the example {esc_md(clip.title)}.")


def _verdicts(problem: LlamoError | None, inputs: int) -> list:
    """gr.validate for each input: the first carries the problem's sentence, if any."""
    first = gr.validate(problem is None, sentence(str(problem)) if problem else "")
    return [first] + [gr.validate(True, "") for _ in range(inputs - 1)]


def check_video(ui: Ui, video, state):
    """Runs before the queue: refuse big, long or unsupported files before any heavy work."""
    try:
        ui.core.check_upload(video)
    except LlamoError as exc:
        return _verdicts(exc, 2)
    return _verdicts(None, 2)


def check_question(ui: Ui, question, state, *rest):
    """Runs before the queue: core's question check (empty, too long, no clip yet), shown
    under the question box instead of as an error on the chat."""
    try:
        ui.core.check_question(state, question)
    except LlamoError as exc:
        return _verdicts(exc, 2 + len(rest))
    return _verdicts(None, 2 + len(rest))


# ---- cursor and range ------------------------------------------------------------------------


def move_cursor(ui: Ui, t, state):
    """The skeleton and the video move in the browser (static/cursor.js); the server redraws
    the timeline's cursor line (a small figure)."""
    if state is None or state.clip is None:
        return gr.skip()
    state.cursor = float(t or 0.0)
    return updates.timeline(state)


def set_span(ui: Ui, start, end, state):
    if state is None or state.clip is None:
        raise LlamoError("bring a clip first.")
    a, b = ui.core.set_span(state, start, end)
    if (a, b) == (0.0, state.clip.motion.duration):
        note = "Questions ask about the whole clip."
    else:
        note = f"Questions now ask about {clock(a)}–{clock(b)}; the next question starts a new conversation."
    return {ui.page.chat.timeline: updates.timeline(state), ui.page.head.status: note}


def jump(ui: Ui, t, state):
    if t is None or state is None or state.clip is None:
        return gr.skip()
    return float(t)


# ---- chat ------------------------------------------------------------------------------------


def _settings(ui: Ui, temperature, top_p, max_new_tokens, seed) -> Settings:
    seed = int(seed) if seed not in (None, "") and float(seed) >= 0 else None
    return Settings(
        float(temperature), float(top_p), int(max_new_tokens), seed, ui.core.config.min_new_tokens
    )


def answer_update(ui: Ui, s: Session, status: str) -> dict:
    """The chat and everything that follows the selected answer."""
    c = ui.page.chat
    return {
        c.chatbot: chat_messages(s.turns),
        c.answer_pick: updates.answer_choices(s),
        **updates.selected_answer(c, s),
        ui.page.head.status: status,
        c.stats: answer_notes(s.turns),
    }


def throttled(turns, interval_s: float, clock=time.monotonic):
    """The growing turn at most once per `interval_s`, but its first text at once (time to first
    token). Each page update costs the server a diff, a JSON message and the GIL; sent for every
    token of ten tabs they cost more than the decoding. The caller sends the final state itself."""
    shown, had_text = None, False
    for turn in turns:
        now = clock()
        first_text = bool(turn.answer) and not had_text
        if shown is None or first_text or now - shown >= interval_s:
            shown, had_text = now, had_text or bool(turn.answer)
            yield turn


def _streamed(ui: Ui, s: Session, turns, done: str, extra: dict):
    """Ask and regenerate alike: the growing answer while it streams, then the whole chat. An
    answer past the job time limit is stopped (its partial text kept), as Stop would."""
    deadline = time.monotonic() + ui.core.config.job_time_limit_s
    s.picked = -1  # set by an expert picking an answer to correct while this one is written
    for _turn in throttled(turns, ui.core.config.stream_interval_s):
        if time.monotonic() > deadline:
            s.stop.set()
        yield {ui.page.head.state: s, ui.page.chat.chatbot: chat_messages(s.turns, streaming=True), **extra}
    if s.turns and s.turns[-1].stopped:
        done = "Stopped; the partial answer is saved as a candidate."
    yield {ui.page.head.state: s, **_finished(ui, s, done), **extra}


def _finished(ui: Ui, s: Session, done: str) -> dict:
    """The answer's last update. An expert who picked an answer to correct while this one was
    written keeps their pick and the text they are typing (it is not saved yet)."""
    if not 0 <= s.picked < len(s.turns):
        return answer_update(ui, s, done)
    s.selected = s.picked
    return {**answer_update(ui, s, done), ui.page.chat.fix_box: gr.skip()}


def ask(ui: Ui, question, state, temperature, top_p, max_new_tokens, seed, name, request: gr.Request,
        profile: gr.OAuthProfile | None = None):  # fmt: skip
    s = ui.session(state, request)
    settings = _settings(ui, temperature, top_p, max_new_tokens, seed)
    note = "New conversation. " if s.chat is None else ""
    turns = ui.core.ask(s, question, settings, ui.ident(request, profile, name))
    yield from _streamed(ui, s, turns, note + "Answer saved as a candidate.", {ui.page.chat.question: ""})


def regenerate(ui: Ui, state, temperature, top_p, max_new_tokens, seed, name, request: gr.Request,
               profile: gr.OAuthProfile | None = None):  # fmt: skip
    s = ui.session(state, request)
    settings = _settings(ui, temperature, top_p, max_new_tokens, seed)
    turns = ui.core.regenerate(s, settings, ui.ident(request, profile, name))
    yield from _streamed(ui, s, turns, "New answer saved as another candidate (the earlier one is kept).", {})


STOP_NOTES = {
    "idle": "Nothing to stop: no answer is being written.",
    "stopped": "Stopped; the partial answer is saved as a candidate.",
    "stopping": "Stopping…",  # the answer's own last update replaces it
}


def stop(ui: Ui, state):
    """Ends in every state: idle, stopped within a few seconds, or still stopping."""
    return STOP_NOTES[ui.core.stop(state) if state is not None else "idle"]


def clear(ui: Ui, state):
    if state is not None:
        ui.core.clear(state)
    c = ui.page.chat
    return {
        c.chatbot: chat_messages([]),
        c.timeline: updates.timeline(state),
        c.jump: gr.Radio(choices=[]),
        c.answer_pick: gr.Dropdown(choices=[], value=None),
        c.fix_box: "",
        ui.page.head.status: "Chat cleared; stored turns are kept.",
        c.stats: "",
    }


# ---- review ----------------------------------------------------------------------------------


def _review_table(ui: Ui, ident, status, annotator, tag, clip, flagged) -> list[list]:
    rows = ui.core.review_rows(
        ident,
        status=status or "",
        annotator=annotator or "",
        tag=tag or "",
        clip=clip or "",
        flagged=bool(flagged),
    )
    return [r.queue_cells() for r in rows]


def review_list(ui: Ui, status, annotator, tag, clip, flagged, name, request: gr.Request,
                profile: gr.OAuthProfile | None = None):  # fmt: skip
    table = _review_table(ui, _reviewer(ui, request, profile, name), status, annotator, tag, clip, flagged)
    r = ui.page.review
    return {r.table: table, r.note: f"{len(table)} turns."}


def _reviewer(ui: Ui, request, profile, name) -> Identity:
    """Every reviewer-only handler asks this first: hiding a tab or an API name protects
    nothing (any event is callable by its fn_index)."""
    return need_reviewer(ui.ident(request, profile, name))


def review_pick(ui: Ui, table, name, evt: gr.SelectData, request: gr.Request = None,
                profile: gr.OAuthProfile | None = None):  # fmt: skip
    """A click in the review table fills the turn, its text (the correction, else the answer)
    and its conversation."""
    _reviewer(ui, request, profile, name)
    try:
        i = evt.index[0]
        if hasattr(table, "iloc"):
            row = table.iloc[i].to_dict()
        else:  # the queue's short columns, or every column
            names = REVIEW_COLUMNS if len(table[i]) == len(REVIEW_COLUMNS) else QUEUE_COLUMNS
            row = dict(zip(names, table[i], strict=True))
        r = ui.page.review
        text = row.get("correction") or row.get("answer") or ""  # the queue: the record fills it
        return {r.turn: int(row["turn"]), r.text: text, r.conversation: int(row["conversation"])}
    except Exception:  # noqa: BLE001 - a click on an empty or header cell
        return gr.skip()


def review_act(ui: Ui, action: str, turn_id, text, note, name, status, annotator, tag, clip, flagged,
               request: gr.Request, profile: gr.OAuthProfile | None = None):  # fmt: skip
    """accept | reject | edit the picked turn's correction, then the table again."""
    ident = _reviewer(ui, request, profile, name)
    if not turn_id:
        raise LlamoError("pick a turn in the table first.")
    msg = ui.core.review(ident, int(turn_id), action, text=text, note=note or "")
    r = ui.page.review
    return {r.note: esc_md(msg), r.table: _review_table(ui, ident, status, annotator, tag, clip, flagged)}


def reopen(ui: Ui, conversation_id, state, name, request: gr.Request, progress=gr.Progress(),
           profile: gr.OAuthProfile | None = None):  # fmt: skip
    ident = ui.ident(request, profile, name)  # core.reopen checks it: reviewers, or the owner
    if not conversation_id:
        raise LlamoError("pick a turn in the table first.")
    s = ui.session(state, request)
    with ui.job(request) as job:
        ui.core.reopen(s, int(conversation_id), ident, progress=job.progress(_progress(progress)))
    out = clip_update(ui, s, f"Reopened conversation {int(conversation_id)}.")
    out[ui.page.tabs] = gr.Tabs(selected="chat")
    return out


# ---- export, identity, tabs ------------------------------------------------------------------


def export(ui: Ui, fmt, status, annotator, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    ident = ui.ident(request, profile, name)
    done = ui.core.export(ident, fmt, status=status or "", annotator=annotator or "")
    x = ui.page.export
    return {
        x.file: str(done.archive),
        x.counts: facts_markdown(done.counts, "This export"),
        x.stats: facts_markdown(ui.core.stats(ident), "The store"),
    }


def stats(ui: Ui, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    """The statistics name annotators: on a shared deployment only reviewers see them (an
    empty table for the others, on page load, without an error)."""
    try:
        return facts_markdown(ui.core.stats(ui.ident(request, profile, name)), "The store")
    except LlamoError:
        return ""


def who(ui: Ui, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    """Who is annotating, and the tabs that person may see."""
    p = ui.page
    try:
        ident = ui.ident(request, profile, name)
    except LlamoError as exc:
        return {p.head.who: esc_md(str(exc)), p.review.tab: gr.Tab(visible=False),
                p.export.tab: gr.Tab(visible=not ui.shared), p.admin.tab: gr.Tab(visible=False)}  # fmt: skip
    reviewer = bool(ident and ident.is_reviewer)
    return {p.head.who: esc_md(who_line(ui.core.config, ident)), p.review.tab: gr.Tab(visible=reviewer),
            p.export.tab: gr.Tab(visible=reviewer or not ui.shared),
            p.admin.tab: gr.Tab(visible=bool(ident and ident.is_admin))}  # fmt: skip


def unload(ui: Ui, request: gr.Request):
    """A closed tab: its generation stops at the next token, its clip opening at the next
    progress step, and its state (ours and Gradio's) is freed now, not in an hour."""
    key = getattr(request, "session_hash", None)
    known = ui.sessions.close(key)
    log.info("tab closed (session %s, known: %s)", key, known)
