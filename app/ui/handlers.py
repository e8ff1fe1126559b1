"""The event handlers, as module-level functions of `ui` (the app, its components and the open
tabs) and the event's inputs. Behaviour lives in `app.core.LlamoApp`; a handler turns inputs
into a core call and the result into component updates, returned as `{component: value}` so
each value names where it goes. Components a handler leaves out keep their value.

app/ui/events.py binds `ui` and wraps each handler in `friendly` (one readable sentence for bad
input). Text from users and from the model is escaped in `app.render` before any component
shows it.
"""

import logging

import gradio as gr

from app.annotating import REVIEW_COLUMNS
from app.identity import who_line
from app.render import chat_messages, clock, esc_md, strip_display, summary_markdown
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
        p.clip.kinematics: views.get("kinematics"),
        p.clip.cursor: updates.time_slider(dur, fps, 0),
        p.clip.span_from: updates.time_slider(dur, fps, 0),
        p.clip.span_to: updates.time_slider(dur, fps, dur),
        p.chat.timeline: updates.timeline(s),
        p.chat.chatbot: chat_messages(s.turns),
        p.chat.example_qs: gr.Dataset(samples=[[q] for q in ui.core.example_questions(s)]),
        p.chat.jump: updates.jump_choices(s),
        p.chat.answer_pick: updates.answer_choices(s),
        p.head.status: status,
    }


def open_video(ui: Ui, video, state, request: gr.Request, progress=gr.Progress()):
    s = ui.session(state, request)
    clip = ui.core.open_file(s, video, source="upload", progress=_progress(progress))
    return clip_update(ui, s, f"Opened {esc_md(clip.title)}.")


def open_motion(ui: Ui, motion_file, state, request: gr.Request, progress=gr.Progress()):
    s = ui.session(state, request)
    path = motion_file if isinstance(motion_file, str) else getattr(motion_file, "name", None)
    clip = ui.core.open_file(s, path, source="import", progress=_progress(progress))
    return clip_update(ui, s, f"Opened {esc_md(clip.title)}.")


def open_example(ui: Ui, name, state, request: gr.Request, progress=gr.Progress()):
    s = ui.session(state, request)
    if not name:
        raise LlamoError("pick an example first.")
    clip = ui.core.open_example(s, name, progress=_progress(progress))
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
        c.timeline: updates.timeline(s),
        c.jump: updates.jump_choices(s),
        c.answer_pick: updates.answer_choices(s),
        c.fix_box: updates.fix_text(s),
        ui.page.head.status: status,
    }


def _streamed(ui: Ui, s: Session, turns, done: str, extra: dict):
    """Ask and regenerate alike: the growing answer while it streams, then the whole chat."""
    for _turn in turns:
        yield {ui.page.head.state: s, ui.page.chat.chatbot: chat_messages(s.turns, streaming=True), **extra}
    yield {ui.page.head.state: s, **answer_update(ui, s, done), **extra}


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


def stop(ui: Ui, state):
    if state is not None:
        ui.core.stop(state)
    return "Stopping…"


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
    }


# ---- correcting ------------------------------------------------------------------------------


def pick_answer(ui: Ui, index, state):
    if state is None or index is None:
        return gr.skip()
    state.selected = int(index)
    c = ui.page.chat
    return {
        c.fix_box: updates.fix_text(state),
        c.timeline: updates.timeline(state),
        c.jump: updates.jump_choices(state),
    }


def save_fix(ui: Ui, index, text, rating, tags, state, name, request: gr.Request,
             profile: gr.OAuthProfile | None = None):  # fmt: skip
    if state is None:
        raise LlamoError("there is no answer to correct yet.")
    idx = int(index) if index is not None else len(state.turns) - 1
    turn = ui.core.correct(state, idx, text, ui.ident(request, profile, name), rating=rating, tags=tags or [])
    c = ui.page.chat
    saved = f"✅ Saved correction #{turn.correction_id} of answer {idx + 1}."
    return {c.chatbot: chat_messages(state.turns), c.save_status: saved}


def _message_index(data) -> int:
    """A chat event's message index (the Chatbot gives an int or a [row, column] pair)."""
    return data.index if isinstance(data.index, int) else data.index[0]


def on_like(
    ui: Ui, state, name, data: gr.LikeData, request: gr.Request, profile: gr.OAuthProfile | None = None
):
    if state is None:
        raise LlamoError("there is no answer to rate yet.")
    c = ui.page.chat
    idx = _message_index(data)
    if idx % 2 == 0:
        return {c.save_status: "Rate the answers, not the questions."}
    turn_index = idx // 2
    state.selected = turn_index
    saved = ui.core.rate(state, turn_index, bool(data.liked), ui.ident(request, profile, name))
    out = {c.answer_pick: updates.answer_choices(state), c.fix_box: updates.fix_text(state)}
    if saved is not None:
        out[c.chatbot] = chat_messages(state.turns)
        out[c.save_status] = (
            f"✅ Saved: answer {turn_index + 1} is right (rating 5, correction #{saved.correction_id})."
        )
    else:
        out[c.rating] = 1
        out[c.save_status] = (
            f"Answer {turn_index + 1} marked wrong: write the right answer beside the chat and save."
        )
    return out


def on_edit(
    ui: Ui, state, name, data: gr.EditData, request: gr.Request, profile: gr.OAuthProfile | None = None
):
    if state is None:
        raise LlamoError("there is nothing to edit yet.")
    idx = _message_index(data)
    ident = ui.ident(request, profile, name)
    text = strip_display(data.value)
    turn_index = idx // 2
    try:
        if idx % 2 == 0:
            msg = ui.core.edit_question(state, turn_index, text, ident)
        else:
            turn = ui.core.correct(state, turn_index, text, ident)
            state.selected = turn_index
            msg = f"✅ Saved correction #{turn.correction_id} of answer {turn_index + 1}."
    except LlamoError as exc:
        msg = f"Not saved: {exc}"
    c = ui.page.chat
    return {
        c.chatbot: chat_messages(state.turns),
        c.save_status: msg,
    }  # always redraw: the stored truth, escaped


# ---- review ----------------------------------------------------------------------------------


def _review_table(ui: Ui, ident, status, annotator, tag, clip) -> list[list]:
    rows = ui.core.review_rows(
        ident, status=status or "", annotator=annotator or "", tag=tag or "", clip=clip or ""
    )
    return [r.cells() for r in rows]


def review_list(ui: Ui, status, annotator, tag, clip, name, request: gr.Request,
                profile: gr.OAuthProfile | None = None):  # fmt: skip
    table = _review_table(ui, ui.ident(request, profile, name), status, annotator, tag, clip)
    r = ui.page.review
    return {r.table: table, r.note: f"{len(table)} turns."}


def review_pick(ui: Ui, table, evt: gr.SelectData):
    """A click in the review table fills the turn, its text (the correction, else the answer)
    and its conversation."""
    try:
        i = evt.index[0]
        row = (
            table.iloc[i].to_dict()
            if hasattr(table, "iloc")
            else dict(zip(REVIEW_COLUMNS, table[i], strict=True))
        )
        r = ui.page.review
        text = row["correction"] or row["answer"]
        return {r.turn: int(row["turn"]), r.text: text, r.conversation: int(row["conversation"])}
    except Exception:  # noqa: BLE001 - a click on an empty or header cell
        return gr.skip()


def review_act(ui: Ui, action: str, turn_id, text, note, name, status, annotator, tag, clip, request: gr.Request,
               profile: gr.OAuthProfile | None = None):  # fmt: skip
    """accept | reject | edit the picked turn's correction, then the table again."""
    if not turn_id:
        raise LlamoError("pick a turn in the table first.")
    ident = ui.ident(request, profile, name)
    msg = ui.core.review(ident, int(turn_id), action, text=text, note=note or "")
    r = ui.page.review
    return {r.note: esc_md(msg), r.table: _review_table(ui, ident, status, annotator, tag, clip)}


def reopen(ui: Ui, conversation_id, state, name, request: gr.Request, progress=gr.Progress(),
           profile: gr.OAuthProfile | None = None):  # fmt: skip
    ident = ui.ident(request, profile, name)
    if ident is None or not ident.is_reviewer:
        raise LlamoError("only reviewers can reopen stored conversations.")
    if not conversation_id:
        raise LlamoError("pick a turn in the table first.")
    s = ui.session(state, request)
    ui.core.reopen(s, int(conversation_id), progress=_progress(progress))
    out = clip_update(ui, s, f"Reopened conversation {int(conversation_id)}.")
    out[ui.page.tabs] = gr.Tabs(selected="chat")
    return out


# ---- export, identity, tabs ------------------------------------------------------------------


def export(ui: Ui, fmt, status, annotator, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    done = ui.core.export(
        ui.ident(request, profile, name), fmt, status=status or "", annotator=annotator or ""
    )
    x = ui.page.export
    return {x.file: str(done.archive), x.counts: done.counts, x.stats: ui.core.stats()}


def stats(ui: Ui):
    return ui.core.stats()


def who(ui: Ui, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    """Who is annotating, and the tabs that person may see."""
    p = ui.page
    try:
        ident = ui.ident(request, profile, name)
    except LlamoError as exc:
        return {p.head.who: esc_md(str(exc)), p.review.tab: gr.Tab(visible=False),
                p.export.tab: gr.Tab(visible=not ui.shared)}  # fmt: skip
    reviewer = bool(ident and ident.is_reviewer)
    return {p.head.who: esc_md(who_line(ui.core.config, ident)), p.review.tab: gr.Tab(visible=reviewer),
            p.export.tab: gr.Tab(visible=reviewer or not ui.shared)}  # fmt: skip


def unload(ui: Ui, request: gr.Request):
    key = getattr(request, "session_hash", None)
    s = ui.sessions.pop(key, None)
    log.info("tab closed (session %s, known: %s)", key, s is not None)
    if s is not None:
        s.stop.set()  # a closed tab frees the generation at its next token
