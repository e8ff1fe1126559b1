"""Who is annotating: `launch(auth=...)` users, Hugging Face OAuth on a Space, or a typed name
(local use only, never a reviewer)."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import AppConfig
from llamo.errors import LlamoError


@dataclass(frozen=True)
class Identity:
    name: str
    role: str  # annotator | reviewer
    auth: str  # password | hf-oauth | typed

    @property
    def is_reviewer(self) -> bool:
        return self.role == "reviewer"


def identify(
    config: AppConfig, *, username: str | None = None, oauth_name: str | None = None, typed: str | None = None
) -> Identity | None:
    """The identity for a request, or None when nobody is known (corrections are then refused)."""
    if username:  # gr.Request.username: set only by launch(auth=...)
        role = "reviewer" if username in config.reviewers else "annotator"
        return Identity(username, role, "password")
    if oauth_name:  # gr.OAuthProfile.username on a Space with hf_oauth
        role = "reviewer" if oauth_name in config.reviewers else "annotator"
        return Identity(oauth_name, role, "hf-oauth")
    typed = (typed or "").strip()
    if typed and config.typed_names_allowed:
        if len(typed) > 100:
            raise LlamoError("a name may be at most 100 characters long.")
        return Identity(f"{typed}", "annotator", "typed")
    return None


def need_reviewer(ident: Identity | None) -> Identity:
    """The identity when it may review (and export on shared deployments), else the sentence."""
    if ident is None or not ident.is_reviewer:
        raise LlamoError("only reviewers can do this.")
    return ident


def who_line(config: AppConfig, ident: Identity | None) -> str:
    if ident is None:
        if config.on_spaces:
            return "Sign in with Hugging Face to save corrections."
        if config.users:
            return "Not signed in."
        return "Type your name to save corrections (local use; typed names are never reviewers)."
    how = {"password": "signed in", "hf-oauth": "signed in with Hugging Face", "typed": "typed name"}[
        ident.auth
    ]
    return f"{ident.name} ({how}, {ident.role})"
