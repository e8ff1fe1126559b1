"""What the store accepts: documented text limits and the checks every write runs first.

Longer or malformed input is refused with a one-sentence LlamoError before any transaction opens.
"""

from __future__ import annotations

from annotations.models import ROLES
from llamo.errors import LlamoError

MAX_TEXT = 16_000  # questions, answers, corrections (characters)
MAX_NOTE = 4_000  # review notes
MAX_NAME = 100  # annotator names
MAX_TAG = 64  # one tag
MAX_TAGS = 32  # tags per correction


def check_text(value, what: str, limit: int = MAX_TEXT, allow_empty: bool = False) -> str:
    """Return `value` unchanged (byte for byte) if it is storable text, else raise LlamoError."""
    if not isinstance(value, str):
        raise LlamoError(f"{what} must be text, not {type(value).__name__}.")
    if not allow_empty and not value.strip():
        raise LlamoError(f"{what} is empty.")
    if len(value) > limit:
        raise LlamoError(f"{what} is {len(value):,} characters long; the limit is {limit:,}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LlamoError(f"{what} is not valid Unicode text (it holds a lone surrogate).") from None
    return value


def check_role(role: str) -> str:
    if role not in ROLES:
        raise LlamoError(f"role must be one of {', '.join(ROLES)}, not {role!r}.")
    return role


def check_tags(tags) -> list[str]:
    tags = [check_text(t, "A tag", MAX_TAG) for t in tags]
    if len(tags) > MAX_TAGS:
        raise LlamoError(f"a correction may carry at most {MAX_TAGS} tags, not {len(tags)}.")
    return tags


def check_rating(rating) -> int | None:
    """A rating of the model's answer: None or an integer 1..5 (not a bool)."""
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise LlamoError(f"rating must be an integer from 1 to 5, not {rating!r}.")
    return rating
