"""Teams: the guidelines and settings an admin sets, assignment with overlap, the review
workspace's records and pickers, agreement figures and the export audit log. A part of
`LlamoApp` (see app/core.py). Every role is checked here, on the server.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from app import views_io
from app.config import AppConfig
from app.identity import Identity, need_admin, need_reviewer
from llamo.errors import LlamoError


@dataclass(frozen=True)
class ReviewRecord:
    """One turn of the queue, as the workspace shows it beside the clip."""

    turn_id: int
    conversation_id: int
    owner: str
    status: str
    question: str
    model_answers: tuple  # annotations.queries.ModelAnswer (text, measured_flag, grounded), oldest first
    revisions: tuple  # annotations.teams.RevisionView, oldest first
    clip_title: str
    glb: str | None  # the clip's animated skeleton (a temp file), None without a stored motion
    text: str  # what the edit box starts with: the latest revision, else the model's last answer


@dataclass(frozen=True)
class PickerChoices:
    """The review filters' choices: annotators by name, clips by (label, sha256)."""

    annotators: list[str]
    clips: list[tuple[str, str]]


class TeamMixin:
    """Uses the host's `store`, `config` and `annotator()` (LlamoApp sets them)."""

    store: object
    config: AppConfig

    # ---- settings ------------------------------------------------------------------------

    def guidelines(self) -> str:
        """Markdown beside the annotation and review forms (everyone reads them)."""
        return self.store.setting("guidelines")

    def team_settings(self, ident: Identity | None) -> dict:
        need_admin(ident)
        return self.store.settings()

    def set_team_settings(
        self, ident: Identity | None, *, guidelines: str | None = None, blind=None, overlap=None
    ) -> dict:
        """Only an admin changes settings; each change is stored with its author."""
        ident = need_admin(ident)
        who = self.annotator(ident)
        changes = {"guidelines": guidelines, "blind": blind, "overlap": overlap}
        for key, value in changes.items():
            if value is not None and value != self.store.setting(key):
                self.store.set_setting(key, int(value) if key == "overlap" else value, by=who)
        return self.store.settings()

    def blind(self, ident: Identity | None) -> bool:
        """Blind mode applies to annotators: reviewers and admins see everyone's work."""
        return bool(self.store.setting("blind")) and not (ident is not None and ident.is_reviewer)

    # ---- assignment ----------------------------------------------------------------------

    def assign(self, ident: Identity | None, overlap: int | None = None) -> str:
        """Give every clip to `overlap` (the setting, by default) of the known annotators."""
        ident = need_admin(ident)
        overlap = int(overlap or self.store.setting("overlap"))
        people = [p for p in self.store.people() if p.role == "annotator"]
        made = self.store.assign([p.id for p in people], overlap)
        return f"{made} new assignments: each clip goes to {overlap} of {len(people)} annotators."

    def my_assignments(self, ident: Identity | None) -> list[tuple[str, str]]:
        """(label, sha256) of the clips assigned to this annotator, newest first."""
        if ident is None:
            return []
        return [(c.label(), c.sha256) for c in self.store.clip_choices(self.annotator(ident))]

    # ---- the review workspace ------------------------------------------------------------

    def review_choices(self, ident: Identity | None) -> PickerChoices:
        need_reviewer(ident)
        clips = [(c.label(), c.sha256) for c in self.store.clip_choices()]
        return PickerChoices([p.name for p in self.store.people()], clips)

    def review_record(
        self, ident: Identity | None, turn_id: int, workdir: Path | None = None
    ) -> ReviewRecord:
        """Everything beside one record: the clip's 3D view, the question, the model's answers
        and every revision with its author and reviews."""
        need_reviewer(ident)
        rec = self.store.turn_record(int(turn_id))
        clip = self.store.get_clip(rec.clip_sha256) if rec.clip_sha256 else None
        glb = None
        if clip is not None and clip.motion_path:
            out = Path(workdir or tempfile.mkdtemp(prefix="llamo-review-")) / f"turn{rec.turn_id}.glb"
            glb = str(views_io.glb(self.store.load_motion(clip), out))
        title = ((clip.meta or {}).get("title") if clip is not None else None) or (rec.clip_sha256 or "")[:12]
        latest = (
            rec.revisions[-1].text
            if rec.revisions
            else (rec.model_answers[-1].text if rec.model_answers else "")
        )
        return ReviewRecord(rec.turn_id, rec.conversation_id, rec.owner, rec.status, rec.question,
                            rec.model_answers, rec.revisions, title, glb, latest)  # fmt: skip

    # ---- agreement and the audit log -----------------------------------------------------

    def agreement(self, ident: Identity | None) -> dict:
        """Per kind of question: Krippendorff's alpha (rating, labels, answer), span IoU (segments)."""
        need_reviewer(ident)
        return self.store.stats()["agreement"]["by_kind"]

    def export_log(self, ident: Identity | None) -> list:
        need_admin(ident)
        return self.store.export_log()

    def may_export(self, ident: Identity | None, statuses: tuple[str, ...]) -> None:
        """On a shared deployment a reviewer exports reviewed (accepted) turns; everything else
        is an admin's. Locally (bound to localhost) the user owns the data."""
        if not (self.config.users or self.config.on_spaces):
            return
        need_reviewer(ident)
        if not ident.is_admin and set(statuses) != {"accepted"}:
            raise LlamoError(
                "only admins export turns that are not accepted; reviewers export accepted ones."
            )
