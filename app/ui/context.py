"""`Ui`: what every handler is given, in place of a closure over the page."""

from dataclasses import dataclass, field

import gradio as gr

from app.core import LlamoApp
from app.identity import Identity, identify
from app.registry import SessionRegistry
from app.session import Session
from app.ui.layout import Layout


@dataclass
class Ui:
    """What the handlers share: the app, the page's components (the keys of their outputs) and
    the open tabs (`SessionRegistry`: capped, closing a tab stops its work and frees it)."""

    core: LlamoApp
    page: Layout
    sessions: SessionRegistry = field(init=False)

    def __post_init__(self) -> None:
        cfg = self.core.config
        self.sessions = SessionRegistry(
            cfg.max_sessions, cfg.max_sessions_mb * 2**20, cfg.job_time_limit_s, on_evict=self._drop_state
        )

    def _drop_state(self, session_hash: str) -> None:
        """Gradio keeps a closed tab's component values (figures, chat) for an hour: drop them
        with the session, so a closed or evicted tab holds no memory."""
        holder = getattr(self.page.demo, "state_holder", None)
        if holder is None:
            return
        with holder.lock:
            holder.session_data.pop(session_hash, None)
            holder.time_last_used.pop(session_hash, None)

    def ident(self, request: gr.Request | None, profile, typed: str | None) -> Identity | None:
        username = getattr(request, "username", None) if request is not None else None
        oauth_name = getattr(profile, "username", None) if profile is not None else None
        return identify(self.core.config, username=username, oauth_name=oauth_name, typed=typed)

    def session(self, state: Session | None, request: gr.Request | None) -> Session:
        if state is None:
            state = Session()
        self.sessions.touch(getattr(request, "session_hash", None), state)
        return state

    def job(self, request: gr.Request | None):
        """A heavy job (opening a clip): one per user at a time, timed, cancelled with its tab.
        The user is the signed-in name, else the tab."""
        key = getattr(request, "session_hash", None)
        user = getattr(request, "username", None) or key or "anonymous"
        return self.sessions.heavy(user, key)

    @property
    def shared(self) -> bool:
        """Auth or a Space: only reviewers export."""
        return bool(self.core.config.users or self.core.config.on_spaces)
