"""`Ui`: what every handler is given, in place of a closure over the page."""

import weakref
from dataclasses import dataclass, field

import gradio as gr

from app.core import LlamoApp
from app.identity import Identity, identify
from app.session import Session
from app.ui.layout import Layout


@dataclass
class Ui:
    """What the handlers share: the app, the page's components (the keys of their outputs) and
    session_hash -> Session, so closing a tab stops its work. Weak: sessions that never send an
    unload (API clients) vanish with their gr.State."""

    core: LlamoApp
    page: Layout
    sessions: weakref.WeakValueDictionary = field(default_factory=weakref.WeakValueDictionary)

    def ident(self, request: gr.Request | None, profile, typed: str | None) -> Identity | None:
        username = getattr(request, "username", None) if request is not None else None
        oauth_name = getattr(profile, "username", None) if profile is not None else None
        return identify(self.core.config, username=username, oauth_name=oauth_name, typed=typed)

    def session(self, state: Session | None, request: gr.Request | None) -> Session:
        if state is None:
            state = Session()
            if request is not None and getattr(request, "session_hash", None):
                self.sessions[request.session_hash] = state
        return state

    @property
    def shared(self) -> bool:
        """Auth or a Space: only reviewers export."""
        return bool(self.core.config.users or self.core.config.on_spaces)
