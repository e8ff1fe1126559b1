"""The instruction-tuning conversation format, shared by the trainer, the model, the chat and the store.

On disk it is JSON Lines in the LLaVA convention, one conversation per line:

    {"id": "...", "motion": "motions/abc.npz", "video": null,
     "conversations": [{"from": "human", "value": "<motion>\\nWhat is the person doing?"},
                       {"from": "gpt", "value": "A squat.", "train": true}, ...]}

`motion` (and `video`) are relative to the JSONL file. `train: false` keeps an answer in the
context but out of the loss (default true). The `messages` form (role/content plus `motion`) is
accepted too. `<motion>` marks where the clip's motion tokens go; a conversation whose first
human turn lacks it gets it prepended.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from llamo.errors import LlamoError
from llamo.fileio import atomic_path

MOTION_MARKER = "<motion>"
ROLE_FROM = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
}


@dataclass
class Turn:
    role: str  # "user" | "assistant" | "system"
    text: str
    train: bool = True  # only meaningful for assistant turns


@dataclass
class Conversation:
    id: str
    turns: list[Turn]
    motion: str | None = None  # absolute (resolved) path, or None for text-only chat
    video: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def has_motion(self) -> bool:
        return self.motion is not None


def _resolve(base: Path, value: str | None) -> str | None:
    if not value:
        return None
    path = Path(value)
    return str(path if path.is_absolute() else (base / path))


def parse_row(row: dict, base: Path) -> Conversation:
    """One JSON object (LLaVA `conversations` or `messages` form) -> Conversation."""
    if "conversations" in row:
        raw = [(m.get("from", ""), m.get("value", ""), m.get("train", True)) for m in row["conversations"]]
    elif "messages" in row:
        raw = [(m.get("role", ""), m.get("content", ""), m.get("train", True)) for m in row["messages"]]
    else:
        raise LlamoError("a row has neither 'conversations' nor 'messages'")
    turns = []
    for who, text, train in raw:
        if who not in ROLE_FROM:
            raise LlamoError(f"unknown speaker {who!r}")
        if isinstance(text, list):  # content blocks
            text = "".join(b.get("text", "") for b in text if isinstance(b, dict))
        turns.append(Turn(role=ROLE_FROM[who], text=str(text), train=bool(train)))
    return Conversation(
        id=str(row.get("id", "")),
        turns=turns,
        motion=_resolve(base, row.get("motion")),
        video=_resolve(base, row.get("video")),
        meta=dict(row.get("meta", {})),
    )


def read_jsonl(path: str | Path) -> Iterator[Conversation]:
    path = Path(path)
    if not path.is_file():
        raise LlamoError(f"{path} does not exist.")
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield parse_row(json.loads(line), path.parent)
            except (json.JSONDecodeError, LlamoError, AttributeError, TypeError) as exc:
                raise LlamoError(f"{path.name} line {number} is not a valid conversation ({exc}).") from None


def to_row(conv: Conversation, base: Path) -> dict:
    """Conversation -> LLaVA-form JSON object with paths relative to `base` where possible."""

    def rel(p: str | None) -> str | None:
        if p is None:
            return None
        try:
            return str(Path(p).resolve().relative_to(base.resolve()))
        except ValueError:
            return str(p)

    back = {"user": "human", "assistant": "gpt", "system": "system"}
    row: dict = {"id": conv.id, "motion": rel(conv.motion)}
    if conv.video:
        row["video"] = rel(conv.video)
    row["conversations"] = [
        {"from": back[t.role], "value": t.text, **({"train": t.train} if t.role == "assistant" else {})}
        for t in conv.turns
    ]
    if conv.meta:
        row["meta"] = conv.meta
    return row


def write_jsonl(path: str | Path, conversations: Iterable[Conversation]) -> int:
    path = Path(path)
    count = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for conv in conversations:
            fh.write(json.dumps(to_row(conv, path.parent), ensure_ascii=False) + "\n")
            count += 1
    return count
