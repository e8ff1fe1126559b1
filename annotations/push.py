"""The store as a Hugging Face `datasets` dataset: one row per question, with its motion and every response.

Unlike `export` (training rows, one chosen answer each), this keeps all the human judgement: per
question the model's answer and each annotator's latest answer with its review status, as
Argilla's Hub exports keep `{user_id, value, status}` lists. Motions are `Array3D(shape=(None, 22,
3))` (a variable number of frames) with their fps. Every live conversation with a stored motion
is included, reviewed or not; videos never are.

`push_dataset(..., out=DIR)` saves with `save_to_disk` and writes the card (no hub needed);
without `out` it pushes to the Hub, private unless asked otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from datasets import Array3D, Dataset, Features, Value
from sqlmodel import Session, select

from annotations.dataset_card import NC_LICENSE, CardFacts, card_text
from annotations.export import prepare_out
from annotations.export_query import ExportConversation, ExportFilters
from annotations.models import STATUSES, Annotator, Clip, Conversation, Correction, Review, Turn
from annotations.store import Store
from llamo.errors import LlamoError
from llamo.motion import Motion
from llamo.skeleton import NUM_JOINTS

_TEXT = Value("string")
FEATURES = Features(
    {
        "id": _TEXT,
        "conversation_id": _TEXT,
        "position": Value("int32"),
        "clip_sha256": _TEXT,
        "motion": Array3D(shape=(None, NUM_JOINTS, 3), dtype="float32"),
        "fps": Value("float64"),
        "question": _TEXT,
        "model_answer": _TEXT,
        "status": _TEXT,
        "annotator": _TEXT,
        "responses": [{"user_id": _TEXT, "value": _TEXT, "status": _TEXT}],
        "model_id": _TEXT,
        "model_sha": _TEXT,
        "backbone": _TEXT,
    }
)


@dataclass(frozen=True)
class Response:
    """One annotator's latest answer to a question, as Argilla keeps it."""

    user_id: str
    value: str
    status: str  # accepted | rejected (by its latest review) | submitted (not reviewed)


@dataclass
class PushSummary:
    target: str  # the directory saved to, or the Hub repo
    rows: int = 0
    conversations: int = 0
    clips: int = 0
    responses: int = 0
    skipped_no_motion: int = 0
    license: str = "other"
    private: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


def responses(s: Session) -> dict[tuple[str, int], list[Response]]:
    """(conversation uid, turn position) -> each annotator's latest revision, first answerer first."""
    verdict: dict[int, bool] = {}
    for review in s.exec(select(Review.correction_id, Review.accept).order_by(Review.id)):
        verdict[review.correction_id] = review.accept
    latest: dict[tuple[str, int], dict[str, Response]] = {}
    for fix in s.exec(
        select(Correction.id, Correction.text, Annotator.name, Conversation.uid, Turn.position)
        .join(Annotator, Correction.annotator_id == Annotator.id)
        .join(Turn, Correction.turn_id == Turn.id)
        .join(Conversation, Turn.conversation_id == Conversation.id)
        .order_by(Correction.id)
    ):
        v = verdict.get(fix.id)
        status = "submitted" if v is None else ("accepted" if v else "rejected")
        latest.setdefault((fix.uid, fix.position), {})[fix.name] = Response(fix.name, fix.text, status)
    return {key: list(by_user.values()) for key, by_user in latest.items()}


def _is_nc(*metas: dict) -> bool:
    return any("BY-NC" in json.dumps(m, ensure_ascii=False).upper() for m in metas)


def _nc_clips(s: Session) -> set[str]:
    """The clips whose stored metadata names a CC BY-NC source."""
    return {c.sha256 for c in s.exec(select(Clip.sha256, Clip.meta)) if _is_nc(c.meta or {})}


def _rows(conv: ExportConversation, m: Motion, said: dict[tuple[str, int], list[Response]]) -> list[dict]:
    return [
        {
            "id": f"{conv.uid}-{t.position}",
            "conversation_id": conv.uid,
            "position": t.position,
            "clip_sha256": conv.clip_sha256,
            "motion": m.joints.astype(np.float32, copy=False),
            "fps": m.fps,
            "question": t.question,
            "model_answer": t.model_answers[-1].text if t.model_answers else None,
            "status": t.status,
            "annotator": conv.annotator,
            "responses": [asdict(r) for r in said.get((conv.uid, t.position), [])],
            "model_id": conv.model_id,
            "model_sha": conv.model_sha,
            "backbone": conv.backbone,
        }
        for t in conv.turns
    ]


def build_dataset(store: Store, name: str, license: str | None = None) -> tuple[Dataset, str, PushSummary]:
    """(the dataset, its card's text, the counts): every question of every live conversation with motion."""
    convs = store.export_rows(ExportFilters(statuses=STATUSES))
    with store._read() as s:
        said = responses(s)
        nc = _nc_clips(s)
    summary = PushSummary(target=name)
    rows: list[dict] = []
    motions: dict[str, Motion] = {}
    people: set[str] = set()
    models: set[str] = set()
    for conv in convs:
        if not conv.turns:
            continue
        if conv.motion_path is None:
            summary.skipped_no_motion += 1
            continue
        if conv.clip_sha256 not in motions:
            motions[conv.clip_sha256] = m = Motion.load(store.path(conv.motion_path))
            if _is_nc(m.meta):
                nc.add(conv.clip_sha256)
        new = _rows(conv, motions[conv.clip_sha256], said)
        rows.extend(new)
        summary.conversations += 1
        people.update(r["user_id"] for row in new for r in row["responses"])
        people.add(conv.annotator or "")
        models.add(f"{conv.model_id} ({conv.backbone})" if conv.backbone else conv.model_id)
    summary.rows, summary.clips = len(rows), len(motions)
    summary.responses = sum(len(r["responses"]) for r in rows)
    nc_used = len(nc & motions.keys())
    summary.license = NC_LICENSE if nc_used else (license or "other")
    facts = CardFacts(
        name=name,
        rows=summary.rows,
        conversations=summary.conversations,
        clips=summary.clips,
        responses=summary.responses,
        annotators=tuple(sorted(p for p in people if p)),
        models=tuple(sorted(m for m in models if m)),
        license=summary.license,
        nc_clips=nc_used,
    )
    return Dataset.from_list(rows, features=FEATURES), card_text(facts), summary


def push_dataset(
    store: Store,
    repo: str | None = None,
    *,
    out: str | Path | None = None,
    private: bool = True,
    license: str | None = None,
) -> PushSummary:
    """Save to `out` (save_to_disk + README.md, all or nothing), or push to the Hub repo `repo`."""
    if out is None and not repo:
        raise LlamoError("give --repo ORG/NAME to push, or -o DIR to save the dataset locally.")
    if repo and repo.count("/") != 1:
        raise LlamoError(f"--repo must look like ORG/NAME, not {repo!r}.")
    tmp = prepare_out(Path(out)) if out is not None else None  # refuse a bad destination first
    try:
        ds, card, summary = build_dataset(store, repo or Path(out).name, license)
        summary.private = private
        if tmp is None:
            _to_hub(ds, card, repo, private)
            return summary
        ds.save_to_disk(str(tmp))
        (tmp / "README.md").write_text(card, encoding="utf-8")
        if Path(out).is_dir():
            Path(out).rmdir()  # empty (checked by prepare_out)
        os.rename(tmp, out)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary.target = str(out)
    return summary


def _to_hub(ds: Dataset, card: str, repo: str, private: bool) -> None:
    """Card first, then the data: `push_to_hub` keeps an existing README and adds its metadata to it."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
    api.upload_file(
        path_or_fileobj=card.encode("utf-8"),
        path_in_repo="README.md",
        repo_id=repo,
        repo_type="dataset",
        commit_message="dataset card",
    )
    ds.push_to_hub(repo, private=private)
