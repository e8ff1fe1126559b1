"""Choosing the person a video follows (issue 17.5): a button under the video input finds the
people of the open video and shows them numbered on a still; a click on the still or a number
picks one, and "Track this person" opens the video again following them (`core.choose_subject`;
the choice is stored with the clip). The people search runs only when asked: it costs a few
more pose passes, and most uploads show one person.

Builder, handlers and wiring in one place; app/ui/layout.py puts the group in the Video tab and
app/ui/events.py calls `wire_picker`."""

from dataclasses import dataclass

import gradio as gr

from app.render import esc_md
from llamo.errors import LlamoError


@dataclass
class PeoplePicker:
    find_btn: gr.Button
    still: gr.Image  # the people numbered; a click picks the one under it
    number: gr.Dropdown
    track_btn: gr.Button
    note: gr.Markdown
    people: gr.State  # [{"number", "point", "box"}] of the still shown


def build_people_picker() -> PeoplePicker:
    find_btn = gr.Button(
        "Choose the person (a video with several people)", size="sm", elem_id="llamo-find-people"
    )
    note = gr.Markdown("", elem_id="llamo-people-note")
    still = gr.Image(
        label="People in the video: click one, or pick their number",
        interactive=False,
        visible=False,
        elem_id="llamo-people-still",
        height=300,
    )
    with gr.Row():
        number = gr.Dropdown(
            choices=[],
            label="Person",
            visible=False,
            elem_id="llamo-person-number",
            scale=1,
            interactive=True,
        )
        track_btn = gr.Button("Track this person", visible=False, elem_id="llamo-track-person", scale=1)
    return PeoplePicker(find_btn, still, number, track_btn, note, gr.State([]))


# `ui` (app.ui.context.Ui) is untyped here: the context imports the layout, which imports this
# module, and Gradio reads these signatures' hints to inject gr.Request.


def find_people(ui, state, request: gr.Request):
    """The still and the choice when several people are seen; one sentence otherwise."""
    p = ui.page.clip.picker
    s = ui.session(state, request)
    still = ui.core.people(s)
    people = [{"number": q.number, "point": list(q.point), "box": list(q.box)} for q in still.people]
    several = len(people) > 1
    if several:
        note = f"{len(people)} people at {still.time:.1f} s. Click one on the still or pick a number, then Track this person."
    else:
        note = "One person is seen; the clip already follows them."
    chosen = (s.clip.motion.meta or {}).get("subject") if s.clip else None
    if several and chosen:
        note += (
            f" This clip follows the person chosen at ({chosen['point'][0]:.2f}, {chosen['point'][1]:.2f})."
        )
    return {
        p.still: gr.Image(value=still.image if several else None, visible=several),
        p.number: gr.Dropdown(choices=[str(q["number"]) for q in people], value=None, visible=several),
        p.track_btn: gr.Button(visible=several),
        p.note: esc_md(note),
        p.people: people,
    }


def pick_on_still(ui, people, still, evt: gr.SelectData):
    """The person whose box holds the click (the nearest centre if boxes overlap or none does)."""
    if not people or still is None or evt is None or evt.index is None:
        return gr.skip()
    h, w = still.shape[:2]
    x, y = evt.index[0] / w, evt.index[1] / h

    def distance(q):
        x0, y0, x1, y1 = q["box"]
        inside = x0 <= x <= x1 and y0 <= y <= y1
        return (not inside, (q["point"][0] - x) ** 2 + (q["point"][1] - y) ** 2)

    return str(min(people, key=distance)["number"])


def track_person(ui, number, people, state, request: gr.Request, progress=gr.Progress()):
    from app.ui.handlers import _progress, clip_update

    s = ui.session(state, request)
    chosen = [q for q in people or [] if str(q["number"]) == str(number)]
    if not chosen:
        raise LlamoError("pick a person first: click one on the still or choose a number.")
    with ui.job(request) as job:
        clip = ui.core.choose_subject(s, chosen[0]["point"], progress=job.progress(_progress(progress)))
    return {
        **clip_update(ui, s, f"Opened {esc_md(clip.title)}, following person {chosen[0]['number']}."),
        ui.page.clip.picker.note: esc_md(f"The clip now follows person {chosen[0]['number']}."),
    }


def wire_picker(ui, bind, extract: dict) -> None:
    p, state = ui.page.clip.picker, ui.page.head.state
    shown = [p.still, p.number, p.track_btn, p.note, p.people]
    p.find_btn.click(
        bind(find_people, ui), [state], shown, api_name="find_people", concurrency_id="open-upload",
        concurrency_limit=extract["concurrency_limit"],
    )  # fmt: skip
    p.still.select(bind(pick_on_still, ui), [p.people, p.still], [p.number], api_visibility="private")
    p.track_btn.click(
        bind(track_person, ui), [p.number, p.people, state], [*ui.page.clip_outputs(), p.note],
        api_name="track_person", **extract,
    )  # fmt: skip
