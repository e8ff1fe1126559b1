"""Mix instruction sets into one training JSONL, with plain chat asked while a clip is attached.

A user may ask anything with a clip open ("Who wrote Romeo and Juliet?"); the model must answer
as the bare backbone would, not in motion templates. So `plain_n` conversations pair a general
prompt (with the backbone's own answer, from `data chat`) with a clip, half real and half
synthetic, and, for evidence models, with the clip's measured facts too.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from llamo.conversation import Conversation, Turn, read_jsonl, write_jsonl
from llamo.data.evidence_data import add_evidence
from llamo.data.real import index_clips
from llamo.errors import LlamoError
from llamo.evidence import measure
from llamo.motion import Motion


def plain_with_clip(
    chat: list[Conversation], clips: list[str], synth: list[str], n: int, rng, evidence: bool
) -> list:
    out = []
    for i in range(n):
        c = chat[int(rng.integers(len(chat)))]
        path = clips[int(rng.integers(len(clips)))] if i % 2 else synth[int(rng.integers(len(synth)))]
        conv = Conversation(
            f"plainclip-{i}",
            [Turn("user", "<motion>\n" + c.turns[0].text), c.turns[1]],
            path,
            meta={"qa": [{"turn": 1, "kind": "plain", "label": ""}]},
        )
        out.append(add_evidence(conv, measure(Motion.load(path))) if evidence else conv)
    return out


def mix(
    synth_jsonl: list[Path],
    real_jsonl: Path,
    chat_jsonl: Path,
    real_clips: Path,
    out: Path,
    *,
    plain_n: int = 400,
    seed: int = 16,
    evidence: bool = True,
    plain_only: bool = False,
) -> dict:
    """Synthetic + real + plain-with-clip conversations, shuffled; returns the counts. With
    `plain_only` only the plain-with-clip ones are written (to append to another mix)."""
    rng = np.random.default_rng(seed)
    synth = [c for path in synth_jsonl for c in read_jsonl(path)]
    real = list(read_jsonl(real_jsonl)) if real_jsonl else []
    chat = [c for c in read_jsonl(chat_jsonl) if len(c.turns) >= 2]
    clips = [str(c.path) for c in index_clips(real_clips) if c.split == "train"] if real_clips else []
    synth_paths = sorted({c.motion for c in synth if c.motion})
    plain = plain_with_clip(chat, clips or synth_paths, synth_paths, plain_n, rng, evidence)
    if plain_only:
        synth, real = [], []
    every = synth + real + plain
    order = rng.permutation(len(every))
    n = write_jsonl(out, [every[i] for i in order])
    return {"conversations": n, "synthetic": len(synth), "real": len(real), "plain_with_clip": len(plain)}


def append_rows(base: Path, extra: Path, out: Path, *, per_side: int = 0, seed: int = 2207) -> dict:
    """`base`'s rows, then `extra`'s in file order (all, or a seeded draw of `per_side` per
    side of the first segment), written to `out`; motion paths follow the new folder. The trainer
    draws rows at random, so appending needs no shuffle; returns the counts."""
    rows = list(read_jsonl(base))
    more = list(read_jsonl(extra))
    if per_side:
        by_side: dict[str, list[Conversation]] = {"left": [], "right": []}
        for conv in more:
            segments = conv.meta.get("segments") or [{}]  # rows with no segment have no side
            by_side.setdefault(segments[0].get("side", ""), []).append(conv)
        short = [s for s in ("left", "right") if len(by_side[s]) < per_side]
        if short:
            raise LlamoError(f"{extra} has fewer than {per_side} conversations on the {short[0]} side.")
        draw = random.Random(seed)
        more = draw.sample(by_side["left"], per_side) + draw.sample(by_side["right"], per_side)
    n = write_jsonl(out, rows + more)
    return {"conversations": n, "base": len(rows), "appended": len(more)}
