"""The app's behaviour without the UI: `LlamoApp` wires the motion pipeline, the views, the model
and the annotation store; `Session` (app/session.py) is one browser tab's state. Tests drive
these directly.

`LlamoApp` is put together from one part per job, each in its own module (the way
transformers builds a model from `GenerationMixin`): app/clips.py brings a clip and its views,
app/chatting.py asks and streams answers, app/annotating.py saves corrections, reviews and
exports, app/teamwork.py holds roles, guidelines, assignment, agreement and the audit log. Here: the handles they share (model, store, config), who an identity is in the store,
and the model card.

No model, capture or SQL logic lives in any of them: each step is a library call
(llamo.importers, llamo.views, llamo.chat, annotations.store/export), plus the checks and
bookkeeping a multi-user web app needs (limits, identity, which store row a chat message
belongs to).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from app.annotating import AnnotatingMixin
from app.chatting import ChatMixin
from app.clips import ClipsMixin
from app.config import AppConfig
from app.gpu import ON_ZEROGPU
from app.identity import Identity
from app.segmenting import SegmentsMixin
from app.teamwork import TeamMixin
from llamo.errors import LlamoError

ROOT = Path(__file__).resolve().parents[1]


class ModelCard(NamedTuple):
    """What the Model tab shows: the model's description and its checkpoint's report."""

    info: dict  # Llamo.describe(), checkpoint and backbone as `public_name` gives them
    report: str  # markdown: the evaluation report and how the checkpoint was made ("" if none)


class LlamoApp(ClipsMixin, ChatMixin, AnnotatingMixin, TeamMixin, SegmentsMixin):
    """Everything the UI does, as methods. `model` is a loaded llamo Llamo; `store` an
    annotations Store. Both are handles passed in (tests inject a tiny model and a temp store)."""

    def __init__(self, model, store, config: AppConfig | None = None) -> None:
        self.model = model
        self.store = store
        self.config = config or AppConfig()
        described = model.describe() if model is not None else {}
        self._checkpoint_dir = described.get("checkpoint")  # the real path: the model card reads it
        self._describe = {
            k: public_name(v) if k in ("checkpoint", "backbone") else v for k, v in described.items()
        }
        self.scheduler = None  # one batch for every tab's answer; ZeroGPU: one by one in each GPU call
        if model is not None and self.config.batched and not ON_ZEROGPU:
            from llamo.serving import Scheduler  # torch: already loaded with the model

            self.scheduler = Scheduler(model)

    def close(self) -> None:
        """Stop the generation scheduler's thread (the answers in progress finish first)."""
        if self.scheduler is not None:
            self.scheduler.close()

    def annotator(self, ident: Identity):
        """The store's annotator row for an identity. The deployment decides roles: a signed-in
        user's role follows the reviewer list; a typed name may not take over a signed-in one."""
        person = self.store.get_or_create_annotator(ident.name, role=ident.role, auth=ident.auth)
        if ident.auth == "typed" and person.auth not in ("typed", "none"):
            raise LlamoError(f"the name {ident.name!r} belongs to a signed-in annotator; type another name.")
        if ident.auth in ("password", "hf-oauth") and person.role != ident.role:
            person = self.store.set_role(person, ident.role)
        return person

    def model_card(self) -> ModelCard:
        """The loaded model's description and its checkpoint's evaluation report (markdown)."""
        from llamo.model.checkpoint import checkpoint_card  # torch: only once a page is built

        ckpt = self._checkpoint_dir
        report = checkpoint_card(ckpt).markdown() if ckpt and ckpt != "untrained" else ""
        return ModelCard(dict(self._describe), report)


def public_name(value):
    """A checkpoint or backbone as users, rows and exports may see it: relative to the project,
    else the folder's name; a hub id ("org/model") or "untrained" as it is. Never a server path."""
    if not isinstance(value, str) or not value or not (Path(value).is_absolute() or Path(value).exists()):
        return value
    path = Path(value).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
