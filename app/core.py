"""The app's behaviour without the UI: `LlamoApp` wires the motion pipeline, the views, the model
and the annotation store; `Session` (app/session.py) is one browser tab's state. Tests drive
these directly.

`LlamoApp` is put together from one part per job, each in its own module (the way
transformers builds a model from `GenerationMixin`): app/clips.py brings a clip and its views,
app/chatting.py asks and streams answers, app/annotating.py saves corrections, reviews and
exports. Here: the handles they share (model, store, config), who an identity is in the store,
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
from app.identity import Identity
from llamo.errors import LlamoError

ROOT = Path(__file__).resolve().parents[1]


class ModelCard(NamedTuple):
    """What the Model tab shows: the model's description and its checkpoint's report."""

    info: dict  # Llamo.describe(), with the checkpoint path relative to the project
    report: str  # markdown: the evaluation report and how the checkpoint was made ("" if none)


class LlamoApp(ClipsMixin, ChatMixin, AnnotatingMixin):
    """Everything the UI does, as methods. `model` is a loaded llamo Llamo; `store` an
    annotations Store. Both are handles passed in (tests inject a tiny model and a temp store)."""

    def __init__(self, model, store, config: AppConfig | None = None) -> None:
        self.model = model
        self.store = store
        self.config = config or AppConfig()
        self._describe = model.describe() if model is not None else {}

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

        d = dict(self._describe)
        ckpt = d.get("checkpoint")
        if ckpt and Path(ckpt).resolve().is_relative_to(ROOT):  # no server paths on the page
            d["checkpoint"] = str(Path(ckpt).resolve().relative_to(ROOT))
        report = checkpoint_card(ckpt).markdown() if ckpt and ckpt != "untrained" else ""
        return ModelCard(d, report)
