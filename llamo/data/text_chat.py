"""Text-only chat rows: the bare backbone's own answers to general prompts, written as JSONL and
mixed into the LoRA stage so plain chat survives fine-tuning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from llamo.conversation import Conversation, Turn, write_jsonl
from llamo.data.text_prompts import TEXT_TEST_PROMPTS, TEXT_TRAIN_PROMPTS, WORDED_PROMPTS


def backbone_answers(
    prompts: list[str], backbone: str = "default", max_new_tokens: int = 64, progress=None, llm=None
):
    """Greedy answers of the bare backbone (batched, left-padded)."""
    import torch

    from llamo.backbone import load_backbone

    model, tok = llm if llm is not None else load_backbone(backbone, device="cpu")
    tok.padding_side = "left"
    answers = []
    for start in range(0, len(prompts), 16):
        chunk = prompts[start : start + 16]
        texts = [
            tok.apply_chat_template(
                [{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True
            )
            for p in chunk
        ]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id
            )
        for row in out[:, enc["input_ids"].shape[1] :]:
            text = tok.decode(row, skip_special_tokens=True).strip()
            answers.append(text)
        if progress:
            progress(min(start + 16, len(prompts)), len(prompts))
    tok.padding_side = "right"
    return answers


def write_text_chat(
    out: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    n: int = 96,
    split: str = "train",
    backbone: str = "default",
    max_new_tokens: int = 64,
    worded: bool = False,
) -> int:
    """Answer the first n train (or held-out test) prompts, or with `worded` the general questions
    worded like motion ones (`WORDED_PROMPTS`), with the backbone; write them to `out`."""
    if worded:
        prompts, split = WORDED_PROMPTS[:n], "worded"
    else:
        prompts = (TEXT_TRAIN_PROMPTS if split == "train" else TEXT_TEST_PROMPTS)[:n]
    answers = backbone_answers(prompts, backbone, max_new_tokens, progress)
    convs = [
        Conversation(
            id=f"chat-{split}-{i:04d}",
            turns=[Turn("user", p), Turn("assistant", a)],
            meta={
                "qa": [{"turn": 1, "kind": "chat", "label": a}],
                "source": "backbone",
                "backbone": backbone,
            },
        )
        for i, (p, a) in enumerate(zip(prompts, answers, strict=True))
    ]
    return write_jsonl(Path(out), convs)
