"""Merge an export (llava or messages) from another store into this one; idempotent per conversation.

The row's `meta` (written by `annotations.export`) carries who held the conversation, who
corrected and reviewed each turn, and the model's first answer; a row without meta (any llava or
messages file the trainer reads) comes in as unreviewed turns with the assistant text as the
model's answer. One conversation is one unit of work (`Store.merge_conversation`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from annotations.conversations import ImportedConversation, ImportedTurn
from annotations.export import EXPORT_FORMAT_VERSION
from annotations.store import Store
from llamo.conversation import MOTION_MARKER, parse_row
from llamo.errors import LlamoError
from llamo.motion import Motion


@dataclass
class ImportSummary:
    conversations: int = 0
    skipped_existing: int = 0
    clips: int = 0
    corrections: int = 0
    skipped_segments: int = 0  # a clip's time-segment questions: words made from segments, not turns


class _People:
    """Annotator ids by (name, role), created on first sight (an imported reviewer gets the role)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ids: dict[tuple[str, str], int] = {}

    def __call__(self, name: str | None, role: str = "annotator") -> int:
        name = name or "unknown"
        if (name, role) not in self.ids:
            found = self.store.get_or_create_annotator(name, role="annotator", auth="import")
            if role == "reviewer" and found.role != "reviewer":
                found = self.store.set_role(found, "reviewer")
            self.ids[(name, role)] = found.id
        return self.ids[(name, role)]


def _check_export(in_dir: Path) -> Path:
    info_path, data_path = in_dir / "dataset_info.json", in_dir / "data.jsonl"
    if not info_path.is_file() or not data_path.is_file():
        raise LlamoError(f"{in_dir} is not an annotations export (no dataset_info.json and data.jsonl).")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    if info.get("format") not in ("llava", "messages"):
        raise LlamoError(f"only llava and messages exports can be imported, not {info.get('format')!r}.")
    if int(info.get("format_version", 0)) > EXPORT_FORMAT_VERSION:
        raise LlamoError(f"{in_dir} uses export format {info.get('format_version')}, newer than this LLaMo.")
    return data_path


def _question(text: str) -> str:
    return text[len(MOTION_MARKER) + 1 :] if text.startswith(MOTION_MARKER + "\n") else text


def _turn(question: str, answer: str, tm: dict, person: _People) -> ImportedTurn:
    """One turn from its meta `tm` (empty for a row without meta: the answer is the model's)."""
    base = {"question": _question(question), "trainable": tm.get("trainable_decision"),
            "candidate_flag": str(tm.get("model_answer_flag") or "")}  # fmt: skip
    if tm.get("correction") is None:
        candidate = (tm.get("model_answer") or None) if tm else (answer or None)
        return ImportedTurn(status="unreviewed", candidate=candidate, **base)
    reviewed = bool(tm.get("reviewed_by")) and tm.get("status") in ("accepted", "corrected")
    return ImportedTurn(
        status="accepted" if reviewed and tm.get("status") == "accepted" else "corrected",
        candidate=tm.get("model_answer") or None,
        correction=tm["correction"],
        corrected_by=person(tm.get("corrected_by")),
        rating=tm.get("rating"),
        tags=tuple(tm.get("tags") or ()),
        reviewer=person(tm["reviewed_by"], "reviewer") if reviewed else None,
        **base,
    )


def _import_row(store: Store, raw: dict, conv, person: _People, summary: ImportSummary) -> None:
    meta = raw.get("meta") or {}
    clip = None
    if conv.motion:
        sha = meta.get("clip_sha256") or None
        before = store.get_clip(sha) if sha else None
        clip = store.add_clip(Motion.load(conv.motion), None, source="import", sha256=sha)
        summary.clips += before is None
    owner = person(meta.get("annotator"))
    turn_meta = meta.get("turns") or []
    for tm in turn_meta:  # everyone the meta names, in order, before the conversation's unit of work
        if tm.get("correction") is not None:
            person(tm.get("corrected_by"))
        if tm.get("reviewed_by"):
            person(tm["reviewed_by"], "reviewer")
    pairs = [(conv.turns[i], conv.turns[i + 1]) for i in range(0, len(conv.turns) - 1, 2)]
    turns = tuple(
        _turn(user.text, assistant.text, turn_meta[i] if i < len(turn_meta) else {}, person)
        for i, (user, assistant) in enumerate(pairs)
    )
    store.merge_conversation(
        ImportedConversation(
            uid=conv.id,
            clip_id=clip.id if clip else None,
            annotator_id=owner,
            model_id=meta.get("model_id", ""),
            model_sha=meta.get("model_sha", ""),
            backbone=meta.get("backbone", ""),
            turns=turns,
        )
    )
    summary.corrections += sum(t.correction is not None for t in turns)
    summary.conversations += 1


def import_dataset(store: Store, in_dir: str | Path) -> ImportSummary:
    """Merge an llava or messages export (from another store) into `store`; idempotent per conversation id."""
    in_dir = Path(in_dir)
    data_path = _check_export(in_dir)
    summary = ImportSummary()
    person = _People(store)
    with open(data_path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                conv = parse_row(raw, in_dir)
            except (json.JSONDecodeError, LlamoError, AttributeError, TypeError) as exc:
                raise LlamoError(f"data.jsonl line {number} is not a valid conversation ({exc}).") from None
            if (raw.get("meta") or {}).get("kind") == "segments":
                summary.skipped_segments += 1
                continue
            if store.has_conversation(conv.id):
                summary.skipped_existing += 1
                continue
            _import_row(store, raw, conv, person, summary)
    return summary
