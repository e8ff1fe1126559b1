"""The wiring: which component's event calls which handler, with which inputs and outputs, under
which API name and concurrency group. Layout is in app/ui/layout.py, behaviour in
app/ui/handlers.py; nothing here computes anything."""

import functools
import inspect
from pathlib import Path

from app.ui import corrections as fix
from app.ui import handlers as h
from app.ui import team_handlers as team
from app.ui.context import Ui
from app.ui.errors import friendly
from app.ui.picker import wire_picker
from app.ui.segments import wire_segments

CURSOR_JS = (Path(__file__).parent / "static" / "cursor.js").read_text()


def bind(fn, *leading):
    """`fn(ui, ..., *event inputs)` as the function Gradio calls: the leading arguments filled
    in, while Gradio still sees fn's name, its other parameters, their type hints (how it
    injects gr.Request, gr.OAuthProfile, gr.LikeData...) and whether it streams."""
    sig = inspect.signature(fn)
    if inspect.isgeneratorfunction(fn):

        def handler(*args, **kwargs):
            yield from fn(*leading, *args, **kwargs)

    else:

        def handler(*args, **kwargs):
            return fn(*leading, *args, **kwargs)

    functools.update_wrapper(handler, fn)
    handler.__signature__ = sig.replace(parameters=list(sig.parameters.values())[len(leading) :])
    return friendly(handler)


def wire(ui: Ui) -> None:
    """Attach every event to the page's components (inside its Blocks)."""
    with ui.page.demo:
        _clip_events(ui)
        _chat_events(ui)
        _correction_events(ui)
        _review_events(ui)
        _team_events(ui)
        wire_segments(ui, bind)
        wire_picker(ui, bind, _extract(ui))
        _page_events(ui)


def _extract(ui: Ui, group: str = "upload") -> dict:
    """Opening a clip, with progress and errors on the views, not on the chat. Uploads (pose
    extraction, any size) and stored clips (examples, reopened conversations: bounded, quick)
    queue apart, so a big upload never holds up an example; chat and the light handlers have
    groups of their own. Gradio's queue shows each user their place in line."""
    limit = ui.core.config.extract_concurrency if group == "upload" else 2
    return {
        "concurrency_limit": limit,
        "concurrency_id": f"open-{group}",
        "show_progress_on": [ui.page.clip.summary, ui.page.clip.skeleton],
    }


def _clip_events(ui: Ui) -> None:
    p, c = ui.page, ui.page.clip
    outs, ex, state = p.clip_outputs(), _extract(ui), p.head.state
    check = bind(h.check_video, ui)
    c.video.upload(
        bind(h.open_video, ui), [c.video, state], outs, api_name="open_video", validator=check, **ex
    )
    c.video.stop_recording(
        bind(h.open_video, ui), [c.video, state], outs, api_visibility="private", validator=check, **ex
    )
    c.motion_file.upload(
        bind(h.open_motion, ui), [c.motion_file, state], outs, api_name="open_motion", validator=check, **ex
    )
    c.example_btn.click(
        bind(h.open_example, ui), [c.example, state], outs, api_name="open_example", **_extract(ui, "stored")
    )
    c.cursor.change(
        bind(h.move_cursor, ui),
        [c.cursor, state],
        [p.chat.timeline],
        api_name="move_cursor",
        trigger_mode="always_last",
        concurrency_limit=4,
        js=CURSOR_JS,
    )
    span, span_outs = [c.span_from, c.span_to, state], [p.chat.timeline, p.head.status]
    c.span_from.release(bind(h.set_span, ui), span, span_outs, api_name="set_span")
    c.span_to.release(bind(h.set_span, ui), span, span_outs, api_visibility="private")
    p.chat.jump.change(bind(h.jump, ui), [p.chat.jump, state], [c.cursor], api_visibility="private")


def _chat_events(ui: Ui) -> None:
    """Stop needs no handle on the running answer: it sets the session's stop event, and the
    partial answer is kept."""
    p, c, state = ui.page, ui.page.chat, ui.page.head.state
    cfg = ui.core.config
    gen = {
        "concurrency_limit": cfg.chat_concurrency,
        "concurrency_id": "generate",
        "show_progress_on": [c.chatbot],
    }
    asking = [c.question, state, *p.sampling()]
    ask_outs = [state, c.chatbot, c.question, *p.answer_outputs()]
    check = bind(h.check_question, ui)
    c.ask_btn.click(bind(h.ask, ui), asking, ask_outs, api_name="ask", validator=check, **gen)
    c.question.submit(bind(h.ask, ui), asking, ask_outs, api_visibility="private", validator=check, **gen)
    c.regen_btn.click(
        bind(h.regenerate, ui), [state, *p.sampling()], [state, c.chatbot, *p.answer_outputs()],
        api_name="regenerate", **gen,
    )  # fmt: skip
    c.stop_btn.click(bind(h.stop, ui), [state], [p.head.status], api_name="stop", queue=False)
    clear_outs = [c.chatbot, *p.answer_outputs()]
    c.clear_btn.click(bind(h.clear, ui), [state], clear_outs, api_name="clear", queue=False)
    c.chatbot.clear(bind(h.clear, ui), [state], clear_outs, api_visibility="private", queue=False)
    c.example_qs.click(lambda sample: sample[0], [c.example_qs], [c.question], api_visibility="private")


def _correction_events(ui: Ui) -> None:
    c, state, name = ui.page.chat, ui.page.head.state, ui.page.head.name
    # `input`, not `change`: a handler that sets the picker sets the form with it, and a second
    # update from `change`, arriving late, wiped what an expert had begun to type (seen under load)
    c.answer_pick.input(
        bind(fix.pick_answer, ui),
        [c.answer_pick, state],
        [c.fix_box, c.timeline, c.jump, c.save_status],
        api_visibility="private",
    )
    c.save_btn.click(
        bind(fix.save_fix, ui),
        [c.answer_pick, c.fix_box, c.rating, c.tags, state, name],
        [c.chatbot, c.stats, c.save_status, c.jump],
        api_name="correct",
    )
    c.chatbot.like(
        bind(fix.on_like, ui),
        [state, name],
        [c.chatbot, c.answer_pick, c.fix_box, c.save_status, c.stats, c.timeline, c.jump],
        api_visibility="private",
    )
    c.chatbot.edit(
        bind(fix.on_edit, ui),
        [state, name, c.rating, c.tags],
        [c.chatbot, c.save_status, c.stats, c.jump],
        api_visibility="private",
    )
    mine = bind(fix.my_conversations, ui)
    c.mine_refresh.click(mine, [name], [c.mine], api_name="my_conversations")
    name.change(mine, [name], [c.mine], api_visibility="private")
    c.mine.focus(mine, [name], [c.mine], api_visibility="private", queue=False)  # lazy: not per page load
    c.mine_open.click(
        bind(fix.reopen_mine, ui),
        [c.mine, state, name],
        ui.page.clip_outputs(),
        api_name="reopen_mine",
        **_extract(ui),
    )


def _review_events(ui: Ui) -> None:
    p, r = ui.page, ui.page.review
    name = p.head.name
    r.refresh.click(bind(h.review_list, ui), [*r.filters, name], [r.table, r.note], api_name="review_list")
    # Ticking "measured otherwise" lists those answers at once (the other filters wait for Refresh).
    r.flagged.input(bind(h.review_list, ui), [*r.filters, name], [r.table, r.note], api_visibility="private")
    r.table.select(
        bind(h.review_pick, ui), [r.table, name], [r.turn, r.text, r.conversation], api_visibility="private"
    )
    for btn, action in ((r.accept_btn, "accept"), (r.reject_btn, "reject"), (r.edit_btn, "edit")):
        btn.click(
            bind(h.review_act, ui, action),
            [r.turn, r.text, r.review_note, name, *r.filters],
            [r.note, r.table],
            api_name=f"review_{action}",
        )
    r.reopen_btn.click(
        bind(h.reopen, ui),
        [r.conversation, p.head.state, name],
        [*p.clip_outputs(), p.tabs],
        api_name="reopen",
        **_extract(ui, "stored"),
    )


def _team_events(ui: Ui) -> None:
    """The review workspace's record view and steps, the guidelines, the Admin tab."""
    p, r, a, name = ui.page, ui.page.review, ui.page.admin, ui.page.head.name
    light = {"api_visibility": "private", "queue": False}
    record_outs = [r.glb, r.record, r.text, r.conversation]
    r.turn.change(bind(team.review_record, ui), [r.turn, name], record_outs, api_name="review_record")
    for btn, delta in ((r.prev_btn, -1), (r.next_btn, 1)):
        btn.click(bind(team.review_step, ui, delta), [r.table, r.turn, name], [r.turn, r.note],
                  api_name="review_next" if delta > 0 else "review_previous")  # fmt: skip
    r.tab.select(bind(team.review_choices, ui), [name], [r.annotator, r.clip], **light)
    r.refresh.click(bind(team.review_choices, ui), [name], [r.annotator, r.clip], **light)
    p.demo.load(bind(team.guidelines, ui), None, [p.chat.guidelines, r.guidelines], **light)
    figures = [a.agreement, a.audit, a.guidelines, a.blind, a.overlap]
    a.tab.select(bind(team.admin_figures, ui), [name], figures, **light)
    a.refresh.click(bind(team.admin_figures, ui), [name], figures, api_name="admin_figures")
    a.save.click(bind(team.admin_save, ui), [a.guidelines, a.blind, a.overlap, name],
                 [a.note, p.chat.guidelines, r.guidelines], api_name="admin_save")  # fmt: skip
    a.assign.click(bind(team.admin_assign, ui), [a.overlap, name], [a.note], api_name="admin_assign")


def _page_events(ui: Ui) -> None:
    p, x = ui.page, ui.page.export
    x.button.click(
        bind(h.export, ui),
        [x.fmt, x.status, x.annotator, p.head.name],
        [x.file, x.counts, x.stats],
        api_name="export",
    )
    who_outs = [p.head.who, p.review.tab, x.tab, p.admin.tab]
    p.head.name.change(bind(h.who, ui), [p.head.name], who_outs, api_visibility="private")
    # The page load runs one light handler, outside the queue (it waits behind no answer or
    # upload); the statistics and the own-conversations list load when their view is opened.
    p.demo.load(bind(h.who, ui), [p.head.name], who_outs, api_visibility="private", queue=False)
    x.tab.select(bind(h.stats, ui), [p.head.name], [x.stats], api_visibility="private", queue=False)
    p.demo.unload(bind(h.unload, ui))
