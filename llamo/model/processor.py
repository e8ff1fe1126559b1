"""Prompts and batches: text (+ motion) in, token ids, labels and motion tensors out.

The analogue of transformers' `LlavaProcessor`. `PromptBuilder` renders a conversation with the
backbone's own chat template and places the motion placeholders; `collate` turns conversations
and their motions into a right-padded batch for `Llamo.forward` (or a left-padded one for
generation).

Prompt layout (ChatML shown; any chat template works):

    <|im_start|>system\\n{system}<|im_end|>\\n
    <|im_start|>user\\n{question}\\n<P><P>…<P><|im_end|>\\n      <- K placeholders after the question
    <|im_start|>assistant\\n{answer}<|im_end|>\\n               <- labels: answer + <|im_end|>
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import torch

from llamo.action_checks import action_support
from llamo.conversation import MOTION_MARKER, Conversation
from llamo.errors import LlamoError
from llamo.evidence import EVIDENCE_PREFIX, measure, with_evidence, without_evidence
from llamo.features import motion_features
from llamo.motion import Motion
from llamo.motion_ops import resample

IGNORE = -100
_SENTINEL = re.compile("\ue000LLAMO(\\d+)\ue001")


class PromptTurn(NamedTuple):
    """One message to render: its role, its text (or already-generated token ids), and whether
    an assistant answer is trained on."""

    role: str
    content: str | list[int]
    train: bool = False


class PromptIds(NamedTuple):
    ids: list[int]
    labels: list[int]  # IGNORE outside the trained answers


class PromptBuilder:
    """Token ids for a conversation via the backbone's own chat template.

    The template is rendered with sentinel strings as message contents; the template pieces
    between sentinels are tokenized normally (their special tokens are real), while message text
    is tokenized with split_special_tokens=True. Motion placeholders are appended to a user turn
    as "\\n" + K × <P>. Labels cover assistant text plus the template's next token when it is a
    special end-of-turn token, so the model learns to stop.
    """

    def __init__(self, tokenizer, placeholder_id: int):
        self.tok = tokenizer
        self.placeholder_id = placeholder_id
        self.special = set(tokenizer.all_special_ids)
        self.newline = self.text_ids("\n")
        if not getattr(tokenizer, "chat_template", None):
            raise LlamoError("the backbone's tokenizer has no chat template; use an instruction-tuned model.")
        try:  # some templates (Gemma) refuse a system role: the system text then opens the first user turn
            self.pieces(["system", "user"], True)
            self.supports_system = True
        except Exception:  # jinja's TemplateError and friends
            self.supports_system = False

    def text_ids(self, text: str) -> list[int]:
        if not text:
            return []
        return self.tok(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]

    def template_ids(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False)["input_ids"] if text else []

    def pieces(self, roles: list[str], add_generation_prompt: bool) -> list[str | int]:
        msgs = [{"role": r, "content": f"\ue000LLAMO{i}\ue001"} for i, r in enumerate(roles)]
        text = self.tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=add_generation_prompt)
        parts = _SENTINEL.split(text)
        return [int(p) if i % 2 else p for i, p in enumerate(parts)]

    def _fold_system(self, turns: list[PromptTurn], motion_counts: dict[int, int]):
        """For templates without a system role: the system text opens the first user turn."""
        if not turns or turns[0].role != "system" or self.supports_system:
            return turns, motion_counts
        system = turns[0].content
        turns = list(turns[1:])
        motion_counts = {i - 1: n for i, n in motion_counts.items()}
        if turns and turns[0].role == "user" and isinstance(turns[0].content, str):
            turns[0] = PromptTurn("user", f"{system}\n\n{turns[0].content}", turns[0].train)
        return turns, motion_counts

    def build(
        self,
        turns: list[PromptTurn],
        motion_counts: dict[int, int],
        add_generation_prompt: bool = False,
    ) -> PromptIds:
        """motion_counts: user-turn index -> number of placeholders."""
        turns, motion_counts = self._fold_system([PromptTurn(*t) for t in turns], motion_counts)
        ids: list[int] = []
        labels: list[int] = []
        label_next = False
        for piece in self.pieces([t.role for t in turns], add_generation_prompt):
            if isinstance(piece, str):
                new = self.template_ids(piece)
                ids += new
                lab = [IGNORE] * len(new)
                if label_next and new and new[0] in self.special:
                    lab[0] = new[0]
                labels += lab
                label_next = False
                continue
            role, content, train = turns[piece]
            new = self.text_ids(content) if isinstance(content, str) else list(content)
            if role == "user" and motion_counts.get(piece, 0) > 0:
                new = new + self.newline + [self.placeholder_id] * motion_counts[piece]
            ids += new
            if role == "assistant" and train:
                labels += list(new)
                label_next = True
            else:
                labels += [IGNORE] * len(new)
        return PromptIds(ids, labels)


# ---- motion ------------------------------------------------------------------------------------


def prepare_features(model, motion: Motion) -> tuple[torch.Tensor, np.ndarray]:
    """Motion -> normalised features (T, F) at config.fps, and (T,) source frame indices.
    Resampling is `llamo.motion_ops.resample`, the one the training statistics use too."""
    fps = model.config.fps
    if motion.num_frames == 0:
        raise LlamoError("the motion has no frames.")
    if abs(motion.fps - fps) > 1e-3:
        source, motion = motion, resample(motion, fps)
        near = np.rint(np.arange(motion.num_frames) / fps * source.fps)  # the frame resample is nearest to
        frame_map = np.clip(near, 0, source.num_frames - 1).astype(int)
    else:
        frame_map = np.arange(motion.num_frames)
    if motion.num_frames > model.config.max_frames:
        raise LlamoError(
            f"the clip is {motion.num_frames / fps:.0f} s long; LLaMo takes at most "
            f"{model.config.max_frames / fps:.0f} s, so trim it first."
        )
    x = torch.from_numpy(motion_features(motion))
    x = (x - model.feature_mean.cpu()) / model.feature_std.cpu()
    return x.clamp(-20, 20), frame_map


def measured_support(model, motion: Motion, frame_map: np.ndarray) -> torch.Tensor | None:
    """(1, T, A) bool at the prepared frames: where each head action's movement is measured
    (`llamo.action_checks`); None when the model has no summary or the check is off."""
    if model.summary is None or not model.check_actions:
        return None
    return torch.from_numpy(action_support(motion, model.config.vocab.actions)[frame_map])[None]


# ---- batches -----------------------------------------------------------------------------------


def prompt_turns(conv: Conversation, system_prompt: str, has_motion: bool) -> list[PromptTurn]:
    """The conversation's turns, opened by the system prompt unless it has its own; the dataset's
    <motion> marker is dropped (motion tokens are placed by the builder)."""
    turns = [PromptTurn(t.role, t.text, t.train) for t in conv.turns]
    if not turns or turns[0].role != "system":
        turns.insert(0, PromptTurn("system", system_prompt, False))
    if has_motion:
        marker = re.compile(r"^\s*" + re.escape(MOTION_MARKER) + r"\s*")
        turns = [t._replace(content=marker.sub("", t.content)) if t.role == "user" else t for t in turns]
    return turns


def with_measured(turns: list[PromptTurn], motion: Motion) -> list[PromptTurn]:
    """The first user turn opened by the clip's measured facts, unless the data already has them
    (`llamo.data.evidence_data` writes them in); the chat does the same (`llamo.chat`)."""
    first = next((i for i, t in enumerate(turns) if t.role == "user"), None)
    if first is None or turns[first].content.startswith(EVIDENCE_PREFIX):
        return turns
    turns = list(turns)
    turns[first] = turns[first]._replace(content=with_evidence(turns[first].content, measure(motion).text))
    return turns


def motion_slots(model, turns: list[PromptTurn]) -> list[int]:
    """Indices of the user turns that carry motion tokens."""
    users = [i for i, t in enumerate(turns) if t.role == "user"]
    if not model.mode.uses_motion or not users:
        return []
    return users if model.mode.per_question else users[:1]


def _padded(rows: list[torch.Tensor], fill, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad rows (n_i, ...) to (N, max n_i, ...) and say which positions are real."""
    n = max(len(r) for r in rows)
    out = torch.full((len(rows), n, *rows[0].shape[1:]), fill, dtype=dtype)
    mask = torch.zeros((len(rows), n), dtype=torch.bool)
    for i, r in enumerate(rows):
        out[i, : len(r)], mask[i, : len(r)] = r, True
    return out, mask


def _video_batch(videos, motions) -> dict[str, torch.Tensor]:
    """(N, 3, S, S) pixels per clip (or None) -> zero-padded pixels and their frame mask."""
    vs = [v for v, m in zip(videos, motions, strict=True) if m is not None]
    n = max(len(v) for v in vs if v is not None)
    size = next(v for v in vs if v is not None).shape[-1]
    vp = torch.zeros((len(vs), n, 3, size, size))
    vm = torch.zeros((len(vs), n), dtype=torch.bool)
    for i, v in enumerate(vs):
        if v is not None:
            vp[i, : len(v)], vm[i, : len(v)] = v, True
    return {"video_pixels": vp, "video_mask": vm}


def _token_batch(rows: list[PromptIds], pad: int, generation: bool) -> dict[str, torch.Tensor]:
    length = max(len(r.ids) for r in rows)
    input_ids = torch.full((len(rows), length), pad, dtype=torch.long)
    label_t = torch.full((len(rows), length), IGNORE, dtype=torch.long)
    attn = torch.zeros((len(rows), length), dtype=torch.long)
    for b, (ids, labels) in enumerate(rows):
        span = slice(length - len(ids), length) if generation else slice(0, len(ids))
        input_ids[b, span] = torch.tensor(ids)
        label_t[b, span] = torch.tensor(labels)
        attn[b, span] = 1
    batch = {"input_ids": input_ids, "attention_mask": attn}
    if not generation:
        batch["labels"] = label_t
    return batch


def collate(
    model,
    conversations: list[Conversation],
    motions: list[Motion | None],
    videos=None,
    generation: bool = False,
) -> dict:
    """Conversations (+ their motions) -> a batch for `model(**batch)`. Right-padded.
    Labels are set only on assistant turns with train=True (answer + end-of-turn token).
    videos: optional list of (N, 3, S, S) pixel tensors (or None) for the video path.
    generation=True: drop trailing assistant turns, end with the generation prompt, pad on
    the left, no labels (for `generate_batch`)."""
    if len(conversations) != len(motions):
        raise LlamoError("collate needs one motion (or None) per conversation.")
    max_pos = getattr(model.llm.config, "max_position_embeddings", None)
    eos = model.tokenizer.eos_token_id
    rows, feats, queries, query_motion, withheld = [], [], [], [], []
    for conv, motion in zip(conversations, motions, strict=True):
        use_motion = motion is not None and model.mode.uses_motion
        turns = prompt_turns(conv, model.config.system_prompt, use_motion or conv.has_motion)
        while generation and turns and turns[-1].role == "assistant":
            turns.pop()
        if model.config.evidence and motion is not None:
            turns = with_measured(turns, motion)
        counts: dict[int, int] = {}
        if use_motion:
            x, _ = model.prepare_features(motion)
            n = model.mode.count(model, x.shape[0])
            for i in motion_slots(model, turns):
                counts[i] = n
                if model.mode.per_question:
                    queries.append(
                        torch.tensor(model.prompts.text_ids(without_evidence(turns[i].content)) or [eos])
                    )
                    query_motion.append(len(feats))
            feats.append(x)
            withheld.append(bool(conv.meta.get("unnamed")))
        prompt = model.prompts.build(turns, counts, add_generation_prompt=generation)
        if max_pos and len(prompt.ids) > max_pos:
            raise LlamoError(
                f"conversation {conv.id!r} needs {len(prompt.ids)} tokens, past the backbone's context of {max_pos}."
            )
        rows.append(prompt)
    pad = model.tokenizer.pad_token_id if model.tokenizer.pad_token_id is not None else 0
    batch = _token_batch(rows, pad, generation)
    if feats:
        batch["motion_features"], batch["motion_mask"] = _padded(feats, 0.0, torch.float32)
    if any(withheld):
        batch["motion_withheld"] = torch.tensor(withheld)
    if queries:
        batch["query_ids"], batch["query_mask"] = _padded(queries, pad, torch.long)
        batch["query_motion"] = torch.tensor(query_motion, dtype=torch.long)
    if feats and videos is not None and any(v is not None for v in videos):
        batch.update(_video_batch(videos, motions))
    return batch
