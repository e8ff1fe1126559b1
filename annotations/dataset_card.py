"""The dataset card (README.md with YAML metadata) of a pushed annotation dataset.

The Hub reads the YAML block (licence, task, tags, size); people read the rest: what the rows
are, how they were made and what they may be used for. Clips taken from a CC BY-NC source (the
Bandai-Namco motion dataset) make the whole dataset CC BY-NC: the card says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from huggingface_hub import DatasetCardData

NC_LICENSE = "cc-by-nc-4.0"
_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))


@dataclass(frozen=True)
class CardFacts:
    """What the card states about one dataset."""

    name: str
    rows: int
    conversations: int
    clips: int
    responses: int
    annotators: tuple[str, ...]
    models: tuple[str, ...]
    license: str  # an SPDX-like Hub licence id, or "other"
    nc_clips: int  # clips whose source is CC BY-NC


def size_category(n: int) -> str:
    return next((label for limit, label in _SIZES if n < limit), "n>1M")


def card_text(f: CardFacts) -> str:
    """README.md: the YAML block the Hub reads, then the description."""
    meta = DatasetCardData(
        license=f.license,
        pretty_name=f.name,
        language=["en"],
        task_categories=["question-answering", "text-generation"],
        tags=["human-motion", "motion-question-answering", "human-feedback", "instruction-tuning", "llamo"],
        size_categories=[size_category(f.rows)],
    ).to_yaml()
    licence = (
        f"**Licence: CC BY-NC 4.0.** {f.nc_clips:,} of the {f.clips:,} clips come from a CC BY-NC source "
        "(the Bandai-Namco motion dataset), so the dataset may not be used commercially."
        if f.nc_clips
        else f"**Licence: {f.license}**, as set by the data owner when pushing."
    )
    return f"""---
{meta}
---

# {f.name}

Questions about human motion clips, the LLaMo model's answers, and the answers of the people who
reviewed them. {f.rows:,} rows (one per question) from {f.conversations:,} conversations about
{f.clips:,} clips, with {f.responses:,} responses by {len(f.annotators):,} annotators.

{licence}

## How it was made

An annotator opened a motion clip (3D joints extracted from a video, or imported) in the LLaMo
app and asked the model questions about it. For each answer, annotators could write a corrected
answer, and reviewers accepted or rejected each correction. Every response is kept with its
author and its review status; nothing is merged or voted. Videos are not included.
Models: {", ".join(f.models) or "none recorded"}.

## Fields

| field | meaning |
| --- | --- |
| `id` | conversation id and turn position |
| `conversation_id`, `position` | the conversation and the question's place in it (0-based) |
| `clip_sha256` | hash of the original upload; the same clip in several rows has one hash |
| `motion` | joints, float32 array of shape (frames, 22, 3): metres, +y up, HumanML3D (SMPL) joint order |
| `fps` | frames per second of `motion` |
| `question` | the question as asked (the first one of a conversation opens it) |
| `model_answer` | the model's latest answer (null if none) |
| `status` | the question's review status: unreviewed, corrected, accepted or rejected |
| `annotator` | who held the conversation |
| `responses` | every annotator's latest answer: `{{user_id, value, status}}`, status accepted, rejected or submitted (not reviewed yet) |
| `model_id`, `model_sha`, `backbone` | the checkpoint that answered |

## Use

```python
from datasets import load_dataset
ds = load_dataset("{f.name}", split="train").with_format("numpy")
ds[0]["motion"].shape  # (frames, 22, 3)
```

For training data in TRL's formats, export with `python -m annotations export --format
messages|prompt-completion|dpo|kto` instead.
"""
