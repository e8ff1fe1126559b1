"""The handlers of the review workspace's record view and of the Admin tab. Like
app/ui/handlers.py: check the role (core does it again), call core, return `{component: value}`.
Every text from users is escaped before a Markdown shows it; the guidelines are an admin's
Markdown and are shown as Markdown (Gradio sanitises its HTML)."""

import gradio as gr

from app.render import esc_md
from app.ui.context import Ui
from app.ui.handlers import _reviewer
from llamo.errors import LlamoError


def _quote(text: str) -> str:
    return (
        "\n".join(f"> {esc_md(line)}" if line else ">" for line in (text or "").splitlines()) or "> _(empty)_"
    )


def record_markdown(rec) -> str:
    """The record beside the clip: question, the model's answers (each with the measurement's
    disagreement and where a grounded value was measured, if any), every revision with its author."""
    out = [f"**Turn {rec.turn_id}** of conversation {rec.conversation_id} · {esc_md(rec.owner)} · "
           f"{esc_md(rec.clip_title)} · _{rec.status}_", "", "**Question**", _quote(rec.question), ""]  # fmt: skip
    for i, answer in enumerate(rec.model_answers, 1):
        label = (
            "Model's answer"
            if len(rec.model_answers) == 1
            else f"Model's answer {i} of {len(rec.model_answers)}"
        )
        out += [f"**{label}**", _quote(answer.text), ""]
        if answer.measured_flag:
            out += [f"⚠ **Measured otherwise:** {esc_md(answer.measured_flag)}", ""]
        if answer.grounded:
            out += [f"↳ {esc_md(answer.grounded)}", ""]
    if not rec.revisions:
        out.append("_No correction yet._")
    for rev in rec.revisions:
        extra = [f"rating {rev.rating}"] if rev.rating else []
        extra += [", ".join(esc_md(t) for t in rev.tags)] if rev.tags else []
        extra += [esc_md(r) for r in rev.reviews]
        details = f" · {' · '.join(extra)}" if extra else ""
        out += [f"**Revision {rev.revision}** by **{esc_md(rev.author)}**, {rev.created_at:%Y-%m-%d %H:%M}{details}",
                _quote(rev.text), ""]  # fmt: skip
    return "\n".join(out)


def review_record(ui: Ui, turn_id, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    """A picked (or stepped-to) turn: the clip's 3D view, the record, the edit box."""
    ident = _reviewer(ui, request, profile, name)
    r = ui.page.review
    if not turn_id:
        return {r.record: "_Pick a record in the queue._", r.glb: None}
    rec = ui.core.review_record(ident, int(turn_id))
    return {
        r.glb: rec.glb,
        r.record: record_markdown(rec),
        r.text: rec.text,
        r.conversation: rec.conversation_id,
    }


def review_step(ui: Ui, delta: int, table, turn_id, name, request: gr.Request,
                profile: gr.OAuthProfile | None = None):  # fmt: skip
    """Previous / next in the queue (buttons, keys k / j): the neighbouring row's turn."""
    _reviewer(ui, request, profile, name)
    ids = [int(t) for t in (table["turn"].tolist() if hasattr(table, "iloc") else [row[0] for row in table or []])
           if str(t).strip() not in ("", "nan")]  # fmt: skip
    if not ids:
        raise LlamoError("the queue is empty; refresh it or change the filters.")
    here = ids.index(int(turn_id)) if turn_id and int(turn_id) in ids else (-1 if delta > 0 else len(ids))
    nxt = here + delta
    if not 0 <= nxt < len(ids):
        return {ui.page.review.note: "End of the queue." if delta > 0 else "Start of the queue."}
    return {ui.page.review.turn: ids[nxt], ui.page.review.note: f"Record {nxt + 1} of {len(ids)}."}


def review_choices(ui: Ui, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    """The annotator and clip pickers (clips by title and date, not by hash)."""
    choices = ui.core.review_choices(_reviewer(ui, request, profile, name))
    r = ui.page.review
    return {r.annotator: gr.Dropdown(choices=[""] + choices.annotators),
            r.clip: gr.Dropdown(choices=[("any clip", "")] + choices.clips)}  # fmt: skip


def guidelines(ui: Ui):
    text = ui.core.guidelines() or "_No guidelines yet: an admin sets them in the Admin tab._"
    return {ui.page.chat.guidelines: text, ui.page.review.guidelines: text}


# ---- the Admin tab ---------------------------------------------------------------------------


def _ident(ui: Ui, request, profile, name):
    return ui.ident(request, profile, name)


def agreement_markdown(kinds: dict) -> str:
    rows = ["| question kind | agreement | measure | units | annotators |", "|---|---|---|---|---|"]
    for kind, a in kinds.items():
        value = "—" if a["alpha"] is None else f"{a['alpha']:.3f}"
        measure = "mean span IoU" if a["level"] == "iou" else f"Krippendorff's α ({a['level']})"
        rows.append(f"| {kind} | {value} | {measure} | {a['units']} | {a['coders']} |")
    return "**Agreement** (units: one question about one clip, or one clip's segments)\n\n" + "\n".join(rows)


def admin_figures(ui: Ui, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    ident = _ident(ui, request, profile, name)
    a = ui.page.admin
    log = [[e.when.strftime("%Y-%m-%d %H:%M:%S"), e.who or "", e.what, ", ".join(f"{k}={v}" for k, v in e.filters.items()),
            e.rows, e.conversations] for e in ui.core.export_log(ident)]  # fmt: skip
    settings = ui.core.team_settings(ident)
    return {a.agreement: agreement_markdown(ui.core.agreement(ident)), a.audit: log,
            a.guidelines: settings["guidelines"], a.blind: settings["blind"], a.overlap: settings["overlap"]}  # fmt: skip


def admin_save(
    ui: Ui, text, blind, overlap, name, request: gr.Request, profile: gr.OAuthProfile | None = None
):
    ident = _ident(ui, request, profile, name)
    ui.core.set_team_settings(ident, guidelines=text or "", blind=bool(blind), overlap=int(overlap or 1))
    return {ui.page.admin.note: "Settings saved.", **guidelines(ui)}


def admin_assign(ui: Ui, overlap, name, request: gr.Request, profile: gr.OAuthProfile | None = None):
    return ui.core.assign(_ident(ui, request, profile, name), int(overlap or 1))
