"""The store becomes training data in TRL's formats (and LLaVA's), the motions beside them, and a card.

Formats (TRL's dataset_formats; every row also carries `id`, `motion`, optional `video`, `meta`):
- `llava`: `conversations` of `{"from": "human"|"gpt", "value"}`; the trainer's own format.
- `messages`: conversational language modelling, `messages` of `{"role", "content"}`.
- `prompt-completion`: conversational, one row per training turn: `prompt` (the dialogue up to
  its question) and `completion` (the one assistant message).
- `dpo`: preference with an explicit prompt: `prompt`, `chosen`, `rejected` (one row per distinct
  model answer that the expert replaced).
- `kto`: unpaired preference: `prompt`, `completion`, `label`: true for the exported (accepted or
  corrected) answer, false for each model answer the expert replaced.

This module only turns named rows into files: which answer each turn carries and whether it
trains is the store's query (`Store.export_rows`, rules in `annotations.export_query`). Turns that do
not train stay in the conversation as context (`"train": false`). Conversations with no training
turn, deleted clips and clips without motion are left out (and counted). With `segments` (the
default), each clip's time segments join as one more conversation of grounded questions with
answers in times (`annotations.segment_qa`; filtered by annotator and date, not by status:
segments are not reviewed). The export is written
into a temporary folder beside the destination and renamed at the end: all or nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from annotations.export_query import ExportConversation, ExportFilters, ExportTurn
from annotations.models import utcnow
from annotations.queries import check_statuses
from annotations.segment_qa import segment_conversation
from annotations.store import Store
from llamo.conversation import MOTION_MARKER
from llamo.errors import LlamoError

FORMATS = ("llava", "messages", "prompt-completion", "dpo", "kto")
TRAINER_FORMATS = ("llava", "messages")  # what `python -m llamo train` reads
EXPORT_FORMAT_VERSION = 1
_COUNTS = (
    "rows",
    "conversations",
    "turns",
    "trainable_turns",
    "clips",
    "videos",
    "skipped_no_training_turn",
    "skipped_no_motion",
)


@dataclass
class ExportSummary:
    out_dir: str
    format: str
    rows: int = 0
    conversations: int = 0
    turns: int = 0
    trainable_turns: int = 0
    clips: int = 0
    motions_linked: int = 0
    motions_copied: int = 0
    videos: int = 0
    skipped_no_training_turn: int = 0
    skipped_no_motion: int = 0
    annotators: list[str] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)
    filters: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def parse_since(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise LlamoError(
                f"--since must be a date like 2026-11-24 or 2026-11-24T08:00, not {value!r}."
            ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def prepare_out(out_dir: Path) -> Path:
    """Refuse a non-empty or unwritable destination before anything is written; return a temp dir beside it."""
    if out_dir.exists() and not out_dir.is_dir():
        raise LlamoError(f"{out_dir} exists and is not a directory.")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise LlamoError(f"{out_dir} is not empty; export into a new or empty directory.")
    parent = out_dir.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=parent))
    except OSError as exc:
        raise LlamoError(f"cannot write the export at {out_dir} ({exc.strerror}).") from None


def _link_or_copy(src: Path, dst: Path) -> bool:
    """Hard-link (True) or, across file systems, copy (False)."""
    try:
        os.link(src, dst)
        return True
    except OSError:
        shutil.copyfile(src, dst)
        return False


def export_dataset(
    store: Store,
    out_dir: str | Path,
    format: str = "llava",
    *,
    status: str | list[str] | tuple[str, ...] = ("accepted",),
    annotator: str | None = None,
    since: str | datetime | None = None,
    latest: bool = False,
    with_video: bool = False,
    segments: bool = True,
    progress=None,
) -> ExportSummary:
    """Write DIR/data.jsonl, DIR/motions/<clip sha256>.npz and DIR/dataset_info.json, all or nothing."""
    start = time.perf_counter()
    if format not in FORMATS:
        raise LlamoError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}.")
    statuses = check_statuses(status)
    filters = ExportFilters(statuses, annotator, parse_since(since), latest)
    out_dir = Path(out_dir)
    tmp = prepare_out(out_dir)
    try:
        convs = store.export_rows(filters)
        if segments:
            found = store.clip_segments(annotator=annotator, since=filters.since)
            convs += [segment_conversation(clip) for clip in found]
        summary = _export_into(store, tmp, format, convs, with_video, progress)
        summary.out_dir = str(out_dir)
        summary.filters = {
            "status": list(statuses),
            "annotator": annotator,
            "since": filters.since.isoformat() if filters.since else None,
            "latest": latest,
            "with_video": with_video,
            "segments": segments,
        }
        summary.seconds = time.perf_counter() - start
        _write_info(tmp / "dataset_info.json", summary)
        if out_dir.is_dir():
            out_dir.rmdir()  # empty (checked above)
        os.rename(tmp, out_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise LlamoError(
            f"the export to {out_dir} failed ({exc.strerror or exc}); nothing was written."
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _write_info(path: Path, summary: ExportSummary) -> None:
    info = {
        "format": summary.format,
        "format_version": EXPORT_FORMAT_VERSION,
        "created_at": utcnow().isoformat(),
        "counts": {k: getattr(summary, k) for k in _COUNTS},
        "annotators": summary.annotators,
        "models": summary.models,
        "filters": summary.filters,
        "train_with": "python -m llamo train --data data.jsonl"
        if summary.format in TRAINER_FORMATS
        else None,
    }
    path.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _copy_clip(
    store: Store, tmp: Path, conv: ExportConversation, with_video: bool, summary: ExportSummary
) -> None:
    """The clip's motion (and with `with_video`, its original video) into the export, once per clip."""
    sha = conv.clip_sha256
    if _link_or_copy(store.path(conv.motion_path), tmp / "motions" / f"{sha}.npz"):
        summary.motions_linked += 1
    else:
        summary.motions_copied += 1
    if with_video and conv.video_path:
        (tmp / "videos").mkdir(exist_ok=True)
        _link_or_copy(store.path(conv.video_path), tmp / "videos" / f"{sha}{Path(conv.video_path).suffix}")
        summary.videos += 1


def _export_into(
    store: Store, tmp: Path, format: str, convs: list[ExportConversation], with_video: bool, progress
) -> ExportSummary:
    summary = ExportSummary(out_dir=str(tmp), format=format)
    (tmp / "motions").mkdir()
    rows_out: list[dict] = []
    clips_done: set[str] = set()
    people: Counter = Counter()
    models: Counter = Counter()
    for n, conv in enumerate(convs):
        if progress and n % 1000 == 0:
            progress(n / max(1, len(convs)), f"exporting conversation {n:,} of {len(convs):,}")
        if not conv.turns:
            continue
        if conv.motion_path is None:
            summary.skipped_no_motion += 1
            continue
        if not any(t.train for t in conv.turns):
            summary.skipped_no_training_turn += 1
            continue
        sha = conv.clip_sha256
        if sha not in clips_done:
            _copy_clip(store, tmp, conv, with_video, summary)
            clips_done.add(sha)
        video = f"videos/{sha}{Path(conv.video_path).suffix}" if with_video and conv.video_path else None
        people[conv.annotator] += 1
        people.update(t.corrected_by for t in conv.turns if t.corrected_by)
        models[(conv.model_id, conv.model_sha, conv.backbone)] += 1
        summary.conversations += 1
        summary.turns += len(conv.turns)
        summary.trainable_turns += sum(t.train for t in conv.turns)
        rows_out.extend(_rows(format, conv, f"motions/{sha}.npz", video))
    summary.rows = len(rows_out)
    summary.clips = len(clips_done)
    summary.annotators = sorted(p for p in people if p)
    summary.models = [
        {"model_id": m, "model_sha": h, "backbone": b, "conversations": k}
        for (m, h, b), k in models.most_common()
    ]
    with open(tmp / "data.jsonl", "w", encoding="utf-8") as fh:
        for row in rows_out:
            fh.write(_json_line(row))
        fh.flush()
        os.fsync(fh.fileno())
    return summary


# --- rows -----------------------------------------------------------------------------------

_LINE_BREAKERS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def _json_line(row: dict) -> str:
    """One JSON line, UTF-8, with the characters that str.splitlines() breaks on escaped (still valid JSON)."""
    return json.dumps(row, ensure_ascii=False).translate(_LINE_BREAKERS) + "\n"


def _user_text(i: int, question: str) -> str:
    return f"{MOTION_MARKER}\n{question}" if i == 0 else question


def _turn_meta(t: ExportTurn) -> dict:
    """A turn's provenance in the row's meta; `import_dataset` reads it back."""
    first = t.model_answers[0] if t.model_answers else None
    return {
        "position": t.position,
        "status": t.status,
        "trainable_decision": t.trainable_decision,
        "model_answer": first.text if first else None,
        # where the measured joints contradict that answer, the app's sentence (llamo.answer_check)
        **({"model_answer_flag": first.measured_flag} if first and first.measured_flag else {}),
        "candidates": len(t.model_answers),
        "correction": t.correction,
        "corrected_by": t.corrected_by,
        "rating": t.rating,
        "rated_by": t.rated_by,
        "tags": list(t.tags),
        "tagged_by": t.tagged_by,
        "reviewed_by": t.reviewed_by,
        **({"segments": list(t.segments)} if t.segments else {}),
    }


def _rejected(t: ExportTurn) -> list[str]:
    """The distinct non-empty model answers that differ from the exported one (DPO's rejected side)."""
    return [a for a in dict.fromkeys(a.text for a in t.model_answers) if a.strip() and a != t.answer]


def _conversation_meta(conv: ExportConversation) -> dict:
    return {
        "clip_sha256": conv.clip_sha256,
        "annotator": conv.annotator,
        "model_id": conv.model_id,
        "model_sha": conv.model_sha,
        "backbone": conv.backbone,
        **({"kind": conv.kind} if conv.kind != "chat" else {}),
    }


class _Style(NamedTuple):
    """How a chat format spells a conversation: its key, the speaker and text fields, the two roles."""

    key: str
    who: str
    says: str
    user: str
    assistant: str


_STYLES = {
    "llava": _Style("conversations", "from", "value", "human", "gpt"),
    "messages": _Style("messages", "role", "content", "user", "assistant"),
}


def _rows(format: str, conv: ExportConversation, motion: str, video: str | None) -> list[dict]:
    head = {"id": conv.uid, "motion": motion, **({"video": video} if video else {})}
    if format in _PER_TURN:
        return _PER_TURN[format](conv, head)
    st = _STYLES[format]
    dialogue = []
    for i, t in enumerate(conv.turns):
        dialogue.append({st.who: st.user, st.says: _user_text(i, t.question)})
        dialogue.append({st.who: st.assistant, st.says: t.answer, "train": t.train})
    meta = {**_conversation_meta(conv), "turns": [_turn_meta(t) for t in conv.turns]}
    return [{**head, st.key: dialogue, "meta": meta}]


def _training_turns(conv: ExportConversation) -> Iterator[tuple[ExportTurn, list[dict]]]:
    """Each training turn with its prompt: the dialogue before it (answers as exported) and its question."""
    history: list[dict] = []
    for i, t in enumerate(conv.turns):
        history.append({"role": "user", "content": _user_text(i, t.question)})
        if t.train:
            yield t, list(history)
        history.append({"role": "assistant", "content": t.answer})


def _said(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def _turn_row(conv: ExportConversation, head: dict, t: ExportTurn, suffix: str, **fields) -> dict:
    meta = {**_conversation_meta(conv), "turn": _turn_meta(t)}
    return {**head, "id": f"{conv.uid}-{t.position}{suffix}", **fields, "meta": meta}


def _prompt_completion_rows(conv: ExportConversation, head: dict) -> list[dict]:
    """One row per training turn: the prompt and the exported answer as the completion."""
    return [
        _turn_row(conv, head, t, "", prompt=prompt, completion=_said(t.answer))
        for t, prompt in _training_turns(conv)
    ]


def _dpo_rows(conv: ExportConversation, head: dict) -> list[dict]:
    """One row per (corrected training turn, distinct rejected model answer), in conversational form."""
    return [
        _turn_row(conv, head, t, f"-{k}", prompt=prompt, chosen=_said(t.answer), rejected=_said(bad))
        for t, prompt in _training_turns(conv)
        if t.correction is not None
        for k, bad in enumerate(_rejected(t))
    ]


def _kto_rows(conv: ExportConversation, head: dict) -> list[dict]:
    """Per training turn: its answer with label true, then each model answer the expert replaced, false."""
    rows = []
    for t, prompt in _training_turns(conv):
        rows.append(_turn_row(conv, head, t, "", prompt=prompt, completion=_said(t.answer), label=True))
        if t.correction is not None:
            rows.extend(
                _turn_row(conv, head, t, f"-r{k}", prompt=prompt, completion=_said(bad), label=False)
                for k, bad in enumerate(_rejected(t))
            )
    return rows


_PER_TURN = {"prompt-completion": _prompt_completion_rows, "dpo": _dpo_rows, "kto": _kto_rows}
