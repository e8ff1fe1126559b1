"""Write instruction data about real clips: single clips, composed sequences, plain chat with a clip.

Output is the same JSONL the synthetic writer makes (`data.jsonl` + `motions/`), so the trainer
mixes the two with `--data a.jsonl --data b.jsonl`. Single clips point at the converted cache
(absolute paths: the cache is never copied); composed sequences are written under `OUT/motions`.
Everything here inherits the source's CC BY-NC 4.0 licence: `summary.json` says so.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from llamo.conversation import Conversation, Turn, read_jsonl, write_jsonl
from llamo.data.real import (
    LICENSE,
    RealClip,
    compose,
    index_clips,
    label_clip,
    reversed_walk,
    spans_from_peaks,
)
from llamo.data.real_questions import KIND_WEIGHT, real_questions
from llamo.data.evidence_data import describe_unknown
from llamo.data.templates import choose_by_kind, phrasings, qa_conversation
from llamo.evidence import Evidence, measure
from llamo.errors import LlamoError
from llamo.motion import Motion


@dataclass(frozen=True)
class RealDataConfig:
    split: str = "train"
    seed: int = 0
    sequences: int = 1000  # composed sequences of 2-3 clips
    repeats: int = 1  # conversations per single clip
    chat_share: float = 0.1  # extra conversations: a plain chat question with a clip attached
    max_turns: int = 3
    fps: float = 20.0
    questions: str = "standard"  # or "broad": the paraphrase bank too (llamo.data.templates.phrasings)
    reverse_walks: bool = False  # add each straight walk played backwards (`reversed_walk`)
    unnamed_share: float = 0.0  # extra conversations: a clip asked about as if its action were unknown


def set_labels(motion: Motion, seg: dict, source: str = LICENSE) -> None:
    """The clip's labels in its meta: one segment (frames), its repetitions and their spans."""
    motion.meta["labels"] = {"segments": [{k: v for k, v in seg.items() if k != "rep_peaks"}],
                             "rep_peaks": seg["rep_peaks"], "source": source,
                             "rep_spans": spans_from_peaks(seg["rep_peaks"], motion.num_frames)}  # fmt: skip


class LabelledClip(NamedTuple):
    """A real clip, its motion (labels set) and its checked segment."""

    clip: RealClip
    motion: Motion
    seg: dict


def labelled_clips(clips: list[RealClip]) -> tuple[list[LabelledClip], int]:
    """The clips whose labels the joints confirm, and how many were dropped."""
    kept, dropped = [], 0
    for clip in clips:
        motion = Motion.load(clip.path)
        seg = label_clip(clip, motion)
        if seg is None:
            dropped += 1
            continue
        set_labels(motion, seg)
        kept.append(LabelledClip(clip, motion, seg))
    return kept, dropped


def _reversed_walks(labelled: list, folder: Path) -> list[tuple[RealClip, Motion, dict]]:
    """Backward walks made from the straight ones, saved (with labels) under `folder`."""
    out = []
    for clip, motion, seg in labelled:
        made = reversed_walk(motion, seg)
        if made is None:
            continue
        rev, rseg = made
        set_labels(rev, rseg)
        path = folder / f"realrev-{clip.path.stem}.npz"
        rev.save(path)
        out.append((replace(clip, path=path, content="walk-back"), rev, rseg))
    return out


def _distinct_actions(labelled: list, n: int, rng) -> list:
    """n clips of n different actions (two walks in a row make "what comes after" ambiguous)."""
    by_action: dict[str, list] = {}
    for item in labelled:
        by_action.setdefault(item[2]["action"], []).append(item)
    actions = rng.choice(sorted(by_action), size=min(n, len(by_action)), replace=False)
    return [by_action[a][int(rng.integers(len(by_action[a])))] for a in actions]


def _conversation(cid: str, motion_path: str, segments: list[dict], rng, cfg: RealDataConfig) -> Conversation:
    cands = real_questions(segments, rng, cfg.split, cfg.fps, cfg.questions)
    qas = choose_by_kind(cands, KIND_WEIGHT, rng, cfg.max_turns)
    segs = [{k: v for k, v in s.items() if k != "rep_peaks"} for s in segments]
    return qa_conversation(cid, qas, {"split": cfg.split, "segments": segs, "real": True}, motion_path)


def _unnamed(cid: str, clip: RealClip, ev: Evidence, rng, cfg: RealDataConfig) -> Conversation:
    """"What is the person doing?" answered as for a movement the model has no name for: the
    summary tokens of this clip name no action in training (`meta["unnamed"]`, see
    llamo.model.action_gate), so the model learns to take names from them, not to guess."""
    question = str(rng.choice(phrasings("action", cfg.split, cfg.questions)))
    turns = [Turn("user", "<motion>\n" + question), Turn("assistant", describe_unknown(ev))]
    meta = {"qa": [{"turn": 1, "kind": "action", "label": "other"}], "split": cfg.split, "real": True,
            "unnamed": True}  # fmt: skip
    return Conversation(cid, turns, str(clip.path.resolve()), meta=meta)


def _chat_pairs(path: Path | None) -> list[tuple[str, str]]:
    if path is None:
        return []
    pairs = []
    for conv in read_jsonl(path):
        if len(conv.turns) >= 2 and conv.turns[0].role == "user" and conv.turns[1].role == "assistant":
            pairs.append((conv.turns[0].text, conv.turns[1].text))
    return pairs


def write_real(
    source: str | Path, out: str | Path, cfg: RealDataConfig, chat_data: Path | None = None
) -> dict:
    """Conversations about the real clips of `cfg.split`; returns the summary written beside them."""
    out = Path(out)
    clips = [c for c in index_clips(source) if c.split == cfg.split]
    if not clips:
        raise LlamoError(f"{source} has no converted dataset-2 clips of the {cfg.split} split.")
    (out / "motions").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([cfg.seed, {"train": 0, "val": 1, "test": 2}[cfg.split]])
    labelled, dropped = labelled_clips(clips)
    if cfg.reverse_walks:
        labelled += _reversed_walks(labelled, out / "motions")
    convs: list[Conversation] = []
    for r in range(cfg.repeats):
        for clip, _motion, seg in labelled:
            convs.append(
                _conversation(f"real-{clip.path.stem}-{r}", str(clip.path.resolve()), [seg], rng, cfg)
            )
    for i in range(cfg.sequences):
        pick = _distinct_actions(labelled, int(rng.integers(2, 4)), rng)
        motion = compose([(m, s) for _, m, s in pick], cfg.fps)
        path = out / "motions" / f"realseq-{cfg.split}-{cfg.seed}-{i:05d}.npz"
        motion.save(path)
        segs = [dict(s) for s in motion.meta["labels"]["segments"]]
        peaks = motion.meta["labels"]["rep_peaks"]
        for s in segs:  # each segment gets back its own peaks, for "when" questions
            s["rep_peaks"] = [p for p in peaks if s["start"] <= p < s["end"]]
        convs.append(_conversation(f"realseq-{cfg.split}-{i:05d}", str(path), segs, rng, cfg))
    measured: dict[Path, Evidence] = {}  # a clip drawn twice is measured once
    for i in range(int(cfg.unnamed_share * len(convs))):
        clip, motion, _seg = labelled[int(rng.integers(len(labelled)))]
        if clip.path not in measured:
            measured[clip.path] = measure(motion)
        convs.append(_unnamed(f"realunnamed-{cfg.split}-{i:05d}", clip, measured[clip.path], rng, cfg))
    pairs = _chat_pairs(chat_data)
    for i in range(int(cfg.chat_share * len(convs)) if pairs else 0):
        q, a = pairs[int(rng.integers(len(pairs)))]
        clip = labelled[int(rng.integers(len(labelled)))][0]
        turns = [Turn("user", "<motion>\n" + q), Turn("assistant", a)]
        meta = {"qa": [{"turn": 1, "kind": "plain", "label": ""}], "split": cfg.split, "real": True}
        convs.append(
            Conversation(f"realchat-{cfg.split}-{i:05d}", turns, str(clip.path.resolve()), meta=meta)
        )
    write_jsonl(out / "data.jsonl", convs)
    kinds = Counter(q["kind"] for c in convs for q in c.meta["qa"])
    summary = {
        "licence": LICENSE,
        "split": cfg.split,
        "clips": len(labelled),
        "reversed_walks": sum(c.content == "walk-back" for c, _, _ in labelled),
        "clips_dropped_joints_disagree_or_no_reps": dropped,
        "sequences": cfg.sequences,
        "conversations": len(convs),
        "kinds": dict(sorted(kinds.items())),
        "jsonl": str(out / "data.jsonl"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
