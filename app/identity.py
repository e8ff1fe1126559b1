"""Who is annotating: `launch(auth=...)` users, Hugging Face OAuth on a Space, or a typed name
(local use only, never a reviewer). Roles: annotator < reviewer < admin; the deployment names
reviewers and admins (--reviewers, --admins), and every handler checks them on the server."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import AppConfig
from llamo.errors import LlamoError


@dataclass(frozen=True)
class Identity:
    name: str
    role: str  # annotator | reviewer | admin
    auth: str  # password | hf-oauth | typed

    @property
    def is_reviewer(self) -> bool:
        """Reviewers and admins (an admin may do everything a reviewer does)."""
        return self.role in ("reviewer", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _role(config: AppConfig, name: str) -> str:
    if name in config.admins:
        return "admin"
    return "reviewer" if name in config.reviewers else "annotator"


def identify(
    config: AppConfig, *, username: str | None = None, oauth_name: str | None = None, typed: str | None = None
) -> Identity | None:
    """The identity for a request, or None when nobody is known (corrections are then refused)."""
    if username:  # gr.Request.username: set only by launch(auth=...)
        return Identity(username, _role(config, username), "password")
    if oauth_name:  # gr.OAuthProfile.username on a Space with hf_oauth
        return Identity(oauth_name, _role(config, oauth_name), "hf-oauth")
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


def need_admin(ident: Identity | None) -> Identity:
    """The identity when it may change settings and export everything, else the sentence."""
    if ident is None or not ident.is_admin:
        raise LlamoError("only admins can do this.")
    return ident


HOW_TO_REVIEW = (
    "To review or administer, start the app with sign-in and roles: `python -m app --users "
    "rui:pw1,ada:pw2 --reviewers rui --admins ada` (or LLAMO_USERS, LLAMO_REVIEWERS, LLAMO_ADMINS)."
)


def who_line(config: AppConfig, ident: Identity | None) -> str:
    if ident is None:
        if config.on_spaces:
            return "Sign in with Hugging Face to save corrections."
        if config.users:
            return "Not signed in."
        return f"Type your name to save corrections (local use; typed names are never reviewers). {HOW_TO_REVIEW}"
    how = {"password": "signed in", "hf-oauth": "signed in with Hugging Face", "typed": "typed name"}[
        ident.auth
    ]
    return f"{ident.name} ({how}, {ident.role})"
