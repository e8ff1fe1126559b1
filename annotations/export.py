"""The store becomes training data: export (llava | messages | dpo) and import (merge an export).

Which answer a turn carries and whether it trains:
- a turn is *eligible* when its status is in `status` (default: accepted), it was updated at or
  after `since`, and (with `annotator`) its correction was written by that annotator;
- its answer is the latest accepted correction revision, else the latest revision (`latest=True`
  always takes the latest revision); without any correction, the model's last answer;
- it trains when eligible and its own `trainable` decision allows: an explicit True/False wins,
  otherwise it trains exactly when the answer is an expert's correction.
Turns that do not train stay in the conversation as context (`"train": false`), so one accepted
turn never turns the model's unreviewed answers into training targets. Conversations with no
training turn, deleted clips and clips without motion are left out (and counted).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from annotations.models import (
    STATUSES,
    Annotator,
    Candidate,
    Clip,
    Conversation,
    Correction,
    Review,
    Turn,
    utcnow,
)
from annotations.store import Store
from llamo.data.schema import MOTION_MARKER
from llamo.errors import LlamoError

FORMATS = ("llava", "messages", "dpo")
EXPORT_FORMAT_VERSION = 1


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


def _prepare_out(out_dir: Path) -> Path:
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
    progress=None,
) -> ExportSummary:
    """Write DIR/data.jsonl, DIR/motions/<clip sha256>.npz and DIR/dataset_info.json, all or nothing."""
    import time

    start = time.perf_counter()
    if format not in FORMATS:
        raise LlamoError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}.")
    statuses = (status,) if isinstance(status, str) else tuple(status)
    for st in statuses:
        if st not in STATUSES:
            raise LlamoError(f"status must be one of {', '.join(STATUSES)}, not {st!r}.")
    since_dt = parse_since(since)
    out_dir = Path(out_dir)
    tmp = _prepare_out(out_dir)
    try:
        summary = _export_into(
            store, tmp, format, set(statuses), annotator, since_dt, latest, with_video, progress
        )
        summary.out_dir = str(out_dir)
        summary.filters = {
            "status": list(statuses),
            "annotator": annotator,
            "since": since_dt.isoformat() if since_dt else None,
            "latest": latest,
            "with_video": with_video,
        }
        summary.seconds = time.perf_counter() - start
        info = {
            "format": format,
            "format_version": EXPORT_FORMAT_VERSION,
            "created_at": utcnow().isoformat(),
            "counts": {
                k: getattr(summary, k)
                for k in (
                    "rows",
                    "conversations",
                    "turns",
                    "trainable_turns",
                    "clips",
                    "videos",
                    "skipped_no_training_turn",
                    "skipped_no_motion",
                )
            },
            "annotators": summary.annotators,
            "models": summary.models,
            "filters": summary.filters,
            "train_with": "python -m llamo train --data data.jsonl" if format != "dpo" else None,
        }
        (tmp / "dataset_info.json").write_text(
            json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
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


def _export_into(
    store, tmp, format, statuses, annotator, since, latest, with_video, progress
) -> ExportSummary:
    summary = ExportSummary(out_dir=str(tmp), format=format)
    with store._read() as s:
        names = dict(s.execute(select(Annotator.id, Annotator.name)).all())
        convs = s.execute(
            select(
                Conversation.id,
                Conversation.uid,
                Conversation.annotator_id,
                Conversation.model_id,
                Conversation.model_sha,
                Conversation.backbone,
                Clip.sha256,
                Clip.motion_path,
                Clip.video_path,
            )
            .join(Clip, Conversation.clip_id == Clip.id, isouter=True)
            .where(Conversation.deleted_at.is_(None))
            .order_by(Conversation.id)
        ).all()
        turns: dict[int, list] = {}
        for row in s.execute(
            select(
                Turn.id,
                Turn.conversation_id,
                Turn.position,
                Turn.question,
                Turn.status,
                Turn.trainable,
                Turn.updated_at,
            ).order_by(Turn.conversation_id, Turn.position)
        ).all():
            turns.setdefault(row[1], []).append(row)
        cands: dict[int, list[str]] = {}
        for tid, txt in s.execute(select(Candidate.turn_id, Candidate.text).order_by(Candidate.id)).all():
            cands.setdefault(tid, []).append(txt)
        verdict: dict[int, tuple[bool, int]] = {}  # correction id -> (latest review's accept, reviewer id)
        for cid, accept, rid in s.execute(
            select(Review.correction_id, Review.accept, Review.reviewer_id).order_by(Review.id)
        ).all():
            verdict[cid] = (accept, rid)
        fixes: dict[int, list] = {}
        for row in s.execute(
            select(
                Correction.id,
                Correction.turn_id,
                Correction.annotator_id,
                Correction.text,
                Correction.rating,
                Correction.tags,
            ).order_by(Correction.id)
        ).all():
            fixes.setdefault(row[1], []).append(row)

    motions_dir = tmp / "motions"
    motions_dir.mkdir()
    rows_out: list[dict] = []
    clips_done: dict[str, str] = {}
    people: Counter = Counter()
    models: Counter = Counter()
    for n, (cid, uid, owner, model_id, model_sha, backbone, sha, motion_rel, video_rel) in enumerate(convs):
        if progress and n % 1000 == 0:
            progress(n / max(1, len(convs)), f"exporting conversation {n:,} of {len(convs):,}")
        conv_turns = turns.get(cid, [])
        if not conv_turns:
            continue
        if motion_rel is None:
            summary.skipped_no_motion += 1
            continue
        built = []
        for tid, _c, position, question, st, trainable, updated in conv_turns:
            revs = fixes.get(tid, [])
            accepted = [r for r in revs if verdict.get(r[0], (False,))[0]]
            chosen = (
                revs[-1] if latest and revs else (accepted[-1] if accepted else (revs[-1] if revs else None))
            )
            model_answers = cands.get(tid, [])
            eligible = st in statuses and (since is None or updated >= since)
            author = names.get(chosen[2]) if chosen else names.get(owner)
            if annotator and author != annotator:
                eligible = False
            if eligible:
                answer = chosen[3] if chosen else (model_answers[-1] if model_answers else "")
                train = bool(trainable) if trainable is not None else chosen is not None
            else:
                context = accepted[-1] if accepted else None
                answer = context[3] if context else (model_answers[-1] if model_answers else "")
                chosen = context
                train = False
            reviewer = verdict.get(chosen[0]) if chosen else None
            built.append(
                {
                    "question": question,
                    "answer": answer,
                    "train": train and bool(answer),
                    "meta": {
                        "position": position,
                        "status": st,
                        "trainable_decision": trainable,
                        "model_answer": model_answers[0] if model_answers else None,
                        "candidates": len(model_answers),
                        "correction": chosen[3] if chosen else None,
                        "corrected_by": names.get(chosen[2]) if chosen else None,
                        "rating": chosen[4] if chosen else None,
                        "tags": list(chosen[5] or []) if chosen else [],
                        "reviewed_by": names.get(reviewer[1]) if reviewer and reviewer[0] else None,
                    },
                    "rejected": [t for t in dict.fromkeys(model_answers) if t.strip() and t != answer],
                }
            )
        if not any(t["train"] for t in built):
            summary.skipped_no_training_turn += 1
            continue
        if sha not in clips_done:
            src = store.data_dir / motion_rel
            dst = motions_dir / f"{sha}.npz"
            if _link_or_copy(src, dst):
                summary.motions_linked += 1
            else:
                summary.motions_copied += 1
            clips_done[sha] = f"motions/{sha}.npz"
            if with_video and video_rel:
                (tmp / "videos").mkdir(exist_ok=True)
                _link_or_copy(store.data_dir / video_rel, tmp / "videos" / f"{sha}{Path(video_rel).suffix}")
                summary.videos += 1
        motion = clips_done[sha]
        video = f"videos/{sha}{Path(video_rel).suffix}" if with_video and video_rel else None
        meta = {
            "clip_sha256": sha,
            "annotator": names.get(owner),
            "model_id": model_id,
            "model_sha": model_sha,
            "backbone": backbone,
            "turns": [t["meta"] for t in built],
        }
        people[names.get(owner)] += 1
        people.update(t["meta"]["corrected_by"] for t in built if t["meta"]["corrected_by"])
        models[(model_id, model_sha, backbone)] += 1
        summary.conversations += 1
        summary.turns += len(built)
        summary.trainable_turns += sum(t["train"] for t in built)
        rows_out.extend(_rows(format, uid, motion, video, built, meta))
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


_LINE_BREAKERS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def _json_line(row: dict) -> str:
    """One JSON line, UTF-8, with the characters that str.splitlines() breaks on escaped (still valid JSON)."""
    return json.dumps(row, ensure_ascii=False).translate(_LINE_BREAKERS) + "\n"


def _user_text(i: int, question: str) -> str:
    return f"{MOTION_MARKER}\n{question}" if i == 0 else question


def _rows(format: str, uid: str, motion: str, video: str | None, built: list[dict], meta: dict) -> list[dict]:
    extra = {"video": video} if video else {}
    if format == "llava":
        conversations = []
        for i, t in enumerate(built):
            conversations.append({"from": "human", "value": _user_text(i, t["question"])})
            conversations.append({"from": "gpt", "value": t["answer"], "train": t["train"]})
        return [{"id": uid, "motion": motion, **extra, "conversations": conversations, "meta": meta}]
    if format == "messages":
        messages = []
        for i, t in enumerate(built):
            messages.append({"role": "user", "content": _user_text(i, t["question"])})
            messages.append({"role": "assistant", "content": t["answer"], "train": t["train"]})
        return [{"id": uid, "motion": motion, **extra, "messages": messages, "meta": meta}]
    # dpo: one row per (training turn, distinct rejected model answer), conversational form.
    rows = []
    history: list[dict] = []
    for i, t in enumerate(built):
        history.append({"role": "user", "content": _user_text(i, t["question"])})
        if t["train"] and t["meta"]["correction"] is not None:
            for k, bad in enumerate(t["rejected"]):
                rows.append(
                    {
                        "id": f"{uid}-{t['meta']['position']}-{k}",
                        "motion": motion,
                        **extra,
                        "prompt": list(history),
                        "chosen": [{"role": "assistant", "content": t["answer"]}],
                        "rejected": [{"role": "assistant", "content": bad}],
                        "meta": {**{k2: v for k2, v in meta.items() if k2 != "turns"}, "turn": t["meta"]},
                    }
                )
        history.append({"role": "assistant", "content": t["answer"]})
    return rows


# --- import ----------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    conversations: int = 0
    skipped_existing: int = 0
    clips: int = 0
    corrections: int = 0


def import_dataset(store: Store, in_dir: str | Path) -> ImportSummary:
    """Merge an llava or messages export (from another store) into `store`; idempotent per conversation id."""
    from llamo.data.schema import parse_row
    from llamo.motion import Motion

    in_dir = Path(in_dir)
    info_path, data_path = in_dir / "dataset_info.json", in_dir / "data.jsonl"
    if not info_path.is_file() or not data_path.is_file():
        raise LlamoError(f"{in_dir} is not an annotations export (no dataset_info.json and data.jsonl).")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    if info.get("format") not in ("llava", "messages"):
        raise LlamoError(f"only llava and messages exports can be imported, not {info.get('format')!r}.")
    if int(info.get("format_version", 0)) > EXPORT_FORMAT_VERSION:
        raise LlamoError(f"{in_dir} uses export format {info.get('format_version')}, newer than this LLaMo.")
    summary = ImportSummary()
    people: dict[tuple[str, str], int] = {}

    def person(name: str | None, role: str) -> int:
        name = name or "unknown"
        if (name, role) not in people:
            found = store.get_or_create_annotator(name, role="annotator", auth="import")
            if role == "reviewer" and found.role != "reviewer":
                found = store.set_role(found, "reviewer")
            people[(name, role)] = found.id
        return people[(name, role)]

    with open(data_path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                conv = parse_row(raw, in_dir)
            except (json.JSONDecodeError, LlamoError, AttributeError, TypeError) as exc:
                raise LlamoError(f"data.jsonl line {number} is not a valid conversation ({exc}).") from None
            meta = raw.get("meta") or {}
            with store._read() as s:
                if s.execute(select(Conversation.id).where(Conversation.uid == conv.id)).first():
                    summary.skipped_existing += 1
                    continue
            clip = None
            if conv.motion:
                sha = meta.get("clip_sha256") or None
                before = store.get_clip(sha) if sha else None
                clip = store.add_clip(Motion.load(conv.motion), None, source="import", sha256=sha)
                summary.clips += before is None
            owner = person(meta.get("annotator"), "annotator")
            turn_meta = meta.get("turns") or []
            pairs = [(conv.turns[i], conv.turns[i + 1]) for i in range(0, len(conv.turns) - 1, 2)]
            for tm in turn_meta:  # resolve people before the conversation's transaction opens
                if tm.get("correction") is not None:
                    person(tm.get("corrected_by"), "annotator")
                if tm.get("reviewed_by"):
                    person(tm["reviewed_by"], "reviewer")
            # One conversation = one unit of work.
            with store._write() as s:
                c = Conversation(
                    uid=conv.id,
                    clip_id=clip.id if clip else None,
                    annotator_id=owner,
                    model_id=meta.get("model_id", ""),
                    model_sha=meta.get("model_sha", ""),
                    backbone=meta.get("backbone", ""),
                )
                s.add(c)
                s.flush()
                for i, (user, assistant) in enumerate(pairs):
                    tm = turn_meta[i] if i < len(turn_meta) else {}
                    question = (
                        user.text[len(MOTION_MARKER) + 1 :]
                        if user.text.startswith(MOTION_MARKER + "\n")
                        else user.text
                    )
                    t = Turn(
                        conversation_id=c.id,
                        position=i,
                        question=question,
                        status="unreviewed",
                        trainable=tm.get("trainable_decision"),
                    )
                    s.add(t)
                    s.flush()
                    if tm.get("model_answer"):
                        s.add(Candidate(turn_id=t.id, text=tm["model_answer"]))
                    if tm.get("correction") is not None:
                        fix = Correction(
                            turn_id=t.id,
                            annotator_id=person(tm.get("corrected_by"), "annotator"),
                            revision=1,
                            text=tm["correction"],
                            rating=tm.get("rating"),
                            tags=list(tm.get("tags") or []),
                        )
                        s.add(fix)
                        s.flush()
                        summary.corrections += 1
                        t.status = "corrected"
                        if tm.get("reviewed_by") and tm.get("status") in ("accepted", "corrected"):
                            s.add(
                                Review(
                                    correction_id=fix.id,
                                    reviewer_id=person(tm["reviewed_by"], "reviewer"),
                                    accept=True,
                                    note="imported",
                                )
                            )
                            t.status = "accepted" if tm.get("status") == "accepted" else "corrected"
                    elif not tm and assistant.text:
                        s.add(Candidate(turn_id=t.id, text=assistant.text))
                    s.add(t)
            summary.conversations += 1
    return summary
