"""Synthetic instruction data: generated clips and their QA conversations on disk.

`write_synthetic` writes DIR/motions/*.npz and DIR/data.jsonl (LLaVA form, labels in each row's
meta). Clip seeds of different splits never meet (residue mod 3), and the test split asks only
held-out phrasings.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from llamo.conversation import Conversation, write_jsonl
from llamo.data.synth import SIDED, SegmentSpec, random_sequence_specs, random_spec, synthesize_sequence
from llamo.data.templates import make_qas, qa_conversation
from llamo.errors import LlamoError
from llamo.labels import OTHER
from llamo.motion import Motion

SPLIT_INDEX = {"train": 0, "val": 1, "test": 2}


def clip_seed(seed: int, split: str, i: int) -> int:
    """Disjoint across splits by construction (residue mod 3)."""
    return ((seed * 10_000_000 + i) * 3 + SPLIT_INDEX[split]) % (2**62)


class SyntheticExample(NamedTuple):
    """One generated clip and its conversation (the conversation has no motion path yet)."""

    motion: Motion
    conversation: Conversation


def synthetic_example(
    seed: int,
    split: str,
    i: int,
    *,
    max_turns: int = 3,
    fps: float = 20.0,
    other: float = 0.05,
    questions: str = "standard",
) -> SyntheticExample:
    """Clip i of a split: the same clip and questions for the same (seed, split, i)."""
    s = clip_seed(seed, split, i)
    rng = np.random.default_rng(s)
    u = rng.random()
    if u < other:
        specs = [SegmentSpec(OTHER)]
    elif u < other + 0.25:  # focus: actions with a side or a direction, alone
        action = str(rng.choice(list(SIDED) + ["walk", "walk", "run", "jump"]))
        specs = [random_spec(rng, action)]
    else:
        specs = random_sequence_specs(rng)
    motion = synthesize_sequence(specs, seed=s, noise=bool(rng.random() < 0.85), fps=fps)
    segments = motion.meta["labels"]["segments"]
    qas = make_qas(segments, rng, split, max_turns=max_turns, questions=questions)
    meta = {"split": split, "clip_seed": s, "segments": segments}
    conv = qa_conversation(f"{split}-{seed}-{i:06d}", qas, meta)
    return SyntheticExample(motion, conv)


def write_synthetic(
    out: Path,
    *,
    n: int,
    seed: int = 0,
    split: str = "train",
    max_turns: int = 3,
    fps: float = 20.0,
    other: float = 0.05,
    questions: str = "standard",
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write n clips of a split under `out`; returns the counts also written to summary.json."""
    if split not in SPLIT_INDEX:
        raise LlamoError(f"split must be train, val or test, not {split!r}.")
    out = Path(out)
    (out / "motions").mkdir(parents=True, exist_ok=True)
    convs = []
    kinds: Counter = Counter()
    for i in range(n):
        motion, conv = synthetic_example(
            seed, split, i, max_turns=max_turns, fps=fps, other=other, questions=questions
        )
        path = out / "motions" / f"{conv.id}.npz"
        motion.save(path)
        conv.motion = str(path)
        convs.append(conv)
        kinds.update(q["kind"] for q in conv.meta["qa"])
        if progress and (i % 50 == 0 or i == n - 1):
            progress(i + 1, n)
    jsonl = out / "data.jsonl"
    write_jsonl(jsonl, convs)
    summary = {"clips": n, "questions": sum(kinds.values()), "kinds": dict(kinds), "jsonl": str(jsonl)}
    (out / "summary.json").write_text(json.dumps({**summary, "seed": seed, "split": split}, indent=2))
    return summary
