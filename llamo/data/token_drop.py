"""Conversations whose motion tokens are dropped, so that the evidence line alone answers them.

The trained model answered "which leg?" from its action tokens even where the evidence line said
otherwise ("leg used: right"), and examples with the tokens present did not change that
(docs/training.md, D3). Here first exchanges whose question the evidence line answers (side,
direction, "when") are copied without their clip and without the `<motion>` placeholder.
Questions about the action's name are never copied: the evidence line does not name actions.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from llamo.conversation import Conversation, read_jsonl, write_jsonl
from llamo.evidence import EVIDENCE_PREFIX

KINDS = ("side", "direction", "when")  # answers the evidence line holds


def _first_kind(conv: Conversation) -> str | None:
    return next((q["kind"] for q in conv.meta.get("qa", []) if q["turn"] == 1), None)


def without_tokens(conv: Conversation) -> Conversation:
    """The first exchange of `conv`, without its clip: the user turn keeps the evidence line."""
    first = replace(conv.turns[0], text=conv.turns[0].text.removeprefix("<motion>\n"))
    meta = dict(conv.meta, qa=[q for q in conv.meta["qa"] if q["turn"] == 1], no_tokens=True)
    return Conversation(conv.id + "-notokens", [first, conv.turns[1]], None, meta=meta)


def add_token_dropped(mix: str | Path, out: str | Path, n: int, seed: int) -> dict:
    """`mix` plus `n` token-dropped copies of its measured-kind first exchanges, shuffled."""
    rows = list(read_jsonl(mix))
    rng = np.random.default_rng(seed)
    pool = [c for c in rows if c.motion and c.turns[0].text.startswith("<motion>\n" + EVIDENCE_PREFIX)
            and _first_kind(c) in KINDS]  # fmt: skip
    pick = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    copies = [without_tokens(pool[int(i)]) for i in pick]
    every = rows + copies
    order = rng.permutation(len(every))
    written = write_jsonl(out, [every[i] for i in order])
    return {"conversations": written, "copies": len(copies), "pool": len(pool)}
