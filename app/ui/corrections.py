"""The handlers of correcting: the form beside the chat, thumbs, in-place edits, and reopening
one's own conversations. Like app/ui/handlers.py: a core call, then `{component: value}`.

The form and the in-place edit save alike: the same core call with the rating and tags the
expert set in the form (none until they pick one)."""

import gradio as gr

from app.render import answer_notes, chat_messages, strip_display
from app.ui import updates
from app.ui.context import Ui
from app.ui.handlers import _progress, clip_update
from llamo.errors import LlamoError


def pick_answer(ui: Ui, index, state):
    if state is None or index is None:
        return gr.skip()
    state.selected = state.picked = int(index)
    return updates.selected_answer(ui.page.chat, state)


def _rating(rating) -> int | None:
    return int(rating) if rating not in (None, "", 0) else None


def save_fix(ui: Ui, index, text, rating, tags, state, name, request: gr.Request,
             profile: gr.OAuthProfile | None = None):  # fmt: skip
    if state is None:
        raise LlamoError("there is no answer to correct yet.")
    idx = int(index) if index is not None else len(state.turns) - 1
    ident = ui.ident(request, profile, name)
    turn = ui.core.correct(state, idx, text, ident, rating=_rating(rating), tags=tags or [])
    state.selected = idx
    c = ui.page.chat
    saved = f"✅ Saved correction #{turn.correction_id} of answer {idx + 1}."
    # the jump buttons follow the saved text: times an expert writes in become buttons too
    return {c.chatbot: chat_messages(state.turns), c.save_status: saved, c.stats: answer_notes(state.turns),
            c.jump: updates.jump_choices(state)}  # fmt: skip


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
    out = {c.answer_pick: updates.answer_choices(state), **updates.selected_answer(c, state)}
    if saved is not None:
        out[c.chatbot] = chat_messages(state.turns)
        out[c.stats] = answer_notes(state.turns)
        out[c.save_status] = (
            f"✅ Saved: answer {turn_index + 1} is right (rating 5, correction #{saved.correction_id})."
        )
    else:  # no rating is set for the expert: they pick one, or none
        out[c.save_status] = (
            f"Answer {turn_index + 1} marked wrong: write the right answer beside the chat and save."
        )
    return out


def on_edit(ui: Ui, state, name, rating, tags, data: gr.EditData, request: gr.Request,
            profile: gr.OAuthProfile | None = None):  # fmt: skip
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
            turn = ui.core.correct(state, turn_index, text, ident, rating=_rating(rating), tags=tags or [])
            state.selected = turn_index
            msg = f"✅ Saved correction #{turn.correction_id} of answer {turn_index + 1}."
    except LlamoError as exc:
        msg = f"Not saved: {exc}"
    c = ui.page.chat
    return {
        c.chatbot: chat_messages(state.turns),
        c.save_status: msg,
        c.stats: answer_notes(state.turns),
        c.jump: updates.jump_choices(state),
    }  # always redraw: the stored truth, escaped


# ---- my conversations ------------------------------------------------------------------------


def my_conversations(ui: Ui, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    """The signed-in (or named) annotator's stored conversations; none for nobody."""
    try:
        mine = ui.core.my_conversations(ui.ident(request, profile, name))
    except LlamoError:
        return gr.Dropdown(
            choices=[], value=None, label="Your stored conversations (sign in or type your name)"
        )
    return gr.Dropdown(
        choices=[(m.label(), m.conversation) for m in mine],
        value=None,
        label=f"Your stored conversations ({len(mine)})",
    )


def reopen_mine(ui: Ui, conversation_id, state, name, request: gr.Request, progress=gr.Progress(),
                profile: gr.OAuthProfile | None = None):  # fmt: skip
    if not conversation_id:
        raise LlamoError("pick one of your conversations first.")
    s = ui.session(state, request)
    ui.core.reopen(s, int(conversation_id), ui.ident(request, profile, name), progress=_progress(progress))
    return clip_update(ui, s, f"Reopened your conversation {int(conversation_id)}.")
