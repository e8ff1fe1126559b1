"""Motion-token modes: one small strategy per `LlamoConfig.motion_tokens` value.

Each mode answers the same four questions, so `Llamo` asks its strategy instead of branching on
the mode name: how many placeholders a clip takes (`count`), what a chat computes once per clip
(`encode`), what each question adds (`question_tokens`), and the embeddings of a training or
evaluation batch (`slot_embeddings`).

    cross_talker  K question-dependent tokens per user turn (the paper's Cross Talker)
    mean_pool     K mean-pooled segments of F̃_M, once per clip
    all_frames    every downsampled frame of F̃_M, once per clip
    vq_tokens     VQ-VAE codes as learned LLM embeddings, once per clip
    none          text only: the motion is ignored

The continuous modes (the first three) also append the S summary tokens when the model has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch

from llamo.errors import LlamoError
from llamo.model.cross_talker import Selection
from llamo.model.encoder import masked_pool
from llamo.model.summary import SummaryOutput, describe_rows


@dataclass
class MotionState:
    """One clip, encoded once: F̃_M and how its downsampled frames map back to motion frames."""

    features: torch.Tensor  # (1, T, F) normalised input features
    mask: torch.Tensor  # (1, T) bool
    fm: torch.Tensor | None  # (1, T', d) F̃_M (None in vq_tokens / none modes)
    fm_mask: torch.Tensor | None  # (1, T')
    frame_map: np.ndarray  # (T',) or (codes,) -> motion frame index
    static_tokens: torch.Tensor | None = None  # (n, H) for question-independent modes
    static_frames: list[int] = field(default_factory=list)
    static_scores: list[float] = field(default_factory=list)
    summary: torch.Tensor | None = None  # (1, S, d) summary tokens (before the projector)
    summary_table: list[dict] = field(default_factory=list)  # the same, in words (describe_rows)
    support: torch.Tensor | None = None  # (1, T, A) bool: each action's movement measured there


class EncodedMotion(NamedTuple):
    """`Llamo.encode_motion_features`: F̃_M, its mask, and the summary tokens (or None)."""

    fm: torch.Tensor  # (B, T', d)
    mask: torch.Tensor  # (B, T') bool
    summary: SummaryOutput | None


class QuestionTokens(NamedTuple):
    """The motion embeddings one question gets, and the motion frames they stand for."""

    embeds: torch.Tensor  # (n, H)
    frames: list[int]  # motion frame indices (selected frames, pooled centres, or every frame)
    scores: list[float]


@dataclass
class MotionInputs:
    """The motion side of a batch (see `Llamo.collate`), on the model's device."""

    features: torch.Tensor  # (B, T, F) normalised features, one row per clip
    mask: torch.Tensor  # (B, T) bool
    query_ids: torch.Tensor | None = None  # (Q, L) question tokens, one row per motion slot
    query_mask: torch.Tensor | None = None  # (Q, L) bool
    query_motion: torch.Tensor | None = None  # (Q,) which clip each slot belongs to
    video_pixels: torch.Tensor | None = None  # (B, N, 3, S, S)
    video_mask: torch.Tensor | None = None  # (B, N) bool
    withheld: torch.Tensor | None = None  # (B,) bool: the summary names no action (training only)


class MotionTokens:
    """A mode that puts no motion into the prompt (`none`); the base of the others."""

    name = "none"
    uses_motion = False  # does a clip get placeholders at all
    continuous = False  # motion encoder + enhancer + projector path
    per_question = False  # recomputed for every user turn; otherwise once, in the first user turn
    discrete = False  # VQ-VAE codes

    def count(self, model, num_frames: int) -> int:
        """Placeholders per motion slot for a clip of num_frames (at config.fps)."""
        return 0

    def encode(self, model, state: MotionState, video_pixels: torch.Tensor | None) -> None:
        """Fill `state` with what every question about this clip shares."""

    def question_tokens(self, model, state: MotionState, question: str) -> QuestionTokens:
        """Embeddings for this question's placeholders, the motion frames they stand for and
        their scores. Question-independent modes return the clip's static tokens."""
        return QuestionTokens(state.static_tokens, state.static_frames, state.static_scores)

    def slot_embeddings(self, model, inputs: MotionInputs) -> tuple[torch.Tensor, Selection | None]:
        """Embeddings for every placeholder slot of a batch, flattened in slot order -> (N, H)."""
        raise LlamoError(f"motion_tokens={self.name!r} puts no motion tokens into the prompt.")


class _Continuous(MotionTokens):
    """Modes that read F̃_M (motion encoder + enhancer) through the projector."""

    uses_motion = True
    continuous = True

    def count(self, model, num_frames: int) -> int:
        extra = model.config.summary_tokens if model.summary is not None else 0
        return self._count(model, num_frames) + extra

    def _count(self, model, num_frames: int) -> int:
        return model.config.num_tokens

    def encode(self, model, state: MotionState, video_pixels: torch.Tensor | None) -> None:
        vp = None if video_pixels is None else video_pixels[None].to(model.llm_device)
        fm, m, summary = model.encode_motion_features(state.features, state.mask, vp, support=state.support)
        state.fm, state.fm_mask = fm, m
        if summary is not None:
            tokens, summary_rows, valid = summary
            state.summary = tokens  # (1, S, d)
            duration = state.features.shape[1] / model.config.fps
            state.summary_table = describe_rows(summary_rows[0], valid[0], duration, model.config.vocab)
        frame_map, stride = state.frame_map, model.motion_encoder.stride
        state.frame_map = frame_map[np.minimum(np.arange(fm.shape[1]) * stride, len(frame_map) - 1)]
        self._encode_static(model, state)

    def _encode_static(self, model, state: MotionState) -> None:
        """The question-independent tokens, for modes that have them."""

    def slot_embeddings(self, model, inputs: MotionInputs) -> tuple[torch.Tensor, Selection | None]:
        fm, m, summary = model.encode_motion_features(
            inputs.features, inputs.mask, inputs.video_pixels, inputs.video_mask, withheld=inputs.withheld
        )
        return self._slots(model, inputs, fm, m, None if summary is None else summary[0])

    def _slots(self, model, inputs, fm, m, summary) -> tuple[torch.Tensor, Selection | None]:
        raise NotImplementedError


class CrossTalkerTokens(_Continuous):
    """K tokens chosen by the question (the paper's Cross Talker), plus the summary tokens."""

    name = "cross_talker"
    per_question = True

    def question_tokens(self, model, state: MotionState, question: str) -> QuestionTokens:
        q = model.prompts.text_ids(question) or [model.tokenizer.eos_token_id]
        qi = torch.tensor([q], device=model.llm_device)
        text = model.llm.get_input_embeddings()(qi).float()
        tokens, sel = model.cross_talker(state.fm, state.fm_mask, text, torch.ones_like(qi, dtype=torch.bool))
        if state.summary is not None:
            tokens = torch.cat([tokens, state.summary], 1)  # (1, K+S, d)
        emb = model.projector(tokens)[0]
        valid = sel.valid[0]
        frames = [int(state.frame_map[f]) for f in sel.frames[0][valid].tolist()]
        scores = [float(s) for s in sel.scores[0][valid].tolist()]
        return QuestionTokens(emb, frames, scores)

    def _slots(self, model, inputs, fm, m, summary):
        q = inputs.query_motion
        text = model.llm.get_input_embeddings()(inputs.query_ids).float()  # (Q, L, H)
        tokens, selection = model.cross_talker(fm[q], m[q], text, inputs.query_mask.bool())
        if summary is not None:
            tokens = torch.cat([tokens, summary[q]], 1)  # (Q, K+S, d)
        return model.projector(tokens).flatten(0, 1), selection  # (Q*(K+S), H)


class MeanPoolTokens(_Continuous):
    """K mean-pooled segments of the clip (question-independent)."""

    name = "mean_pool"

    def _encode_static(self, model, state: MotionState) -> None:
        k = model.config.num_tokens
        pooled, centres = masked_pool(state.fm, state.fm_mask, k)
        if state.summary is not None:
            pooled = torch.cat([pooled, state.summary], 1)
        state.static_tokens = model.projector(pooled)[0]
        state.static_frames = [int(state.frame_map[c]) for c in centres[0].tolist()]
        state.static_scores = [1.0 / k] * k

    def _slots(self, model, inputs, fm, m, summary):
        pooled, _ = masked_pool(fm, m, model.config.num_tokens)
        if summary is not None:
            pooled = torch.cat([pooled, summary], 1)  # (B, K+S, d)
        return model.projector(pooled).flatten(0, 1), None


class AllFramesTokens(_Continuous):
    """Every downsampled frame of the clip (question-independent; long clips, long prompts)."""

    name = "all_frames"

    def _count(self, model, num_frames: int) -> int:
        return model.motion_encoder.out_length(num_frames)

    def _encode_static(self, model, state: MotionState) -> None:
        rows = state.fm[state.fm_mask]
        if state.summary is not None:
            rows = torch.cat([rows, state.summary[0]])
        state.static_tokens = model.projector(rows)
        state.static_frames = [int(f) for f in state.frame_map]
        state.static_scores = [1.0] * len(state.static_frames)

    def _slots(self, model, inputs, fm, m, summary):
        rows = [fm[b][m[b]] for b in range(fm.shape[0])]  # clip by clip
        if summary is not None:
            rows = [torch.cat([r, summary[b]]) for b, r in enumerate(rows)]
        return model.projector(torch.cat(rows)), None


class VQTokens(MotionTokens):
    """The clip's VQ-VAE codes as learned LLM embeddings (the discrete-token ablation)."""

    name = "vq_tokens"
    uses_motion = True
    discrete = True

    def count(self, model, num_frames: int) -> int:
        return model.vq.code_length(num_frames)

    def encode(self, model, state: MotionState, video_pixels: torch.Tensor | None) -> None:
        codes, cmask = model.vq.encode(state.features, state.mask)
        state.static_tokens = model.code_embed(codes[cmask])
        frame_map, down = state.frame_map, model.vq.down
        state.frame_map = frame_map[np.minimum(np.arange(codes.shape[1]) * down, len(frame_map) - 1)]
        state.static_frames = [int(f) for f in state.frame_map]
        state.static_scores = [1.0] * len(state.static_frames)

    def slot_embeddings(self, model, inputs: MotionInputs) -> tuple[torch.Tensor, Selection | None]:
        codes, cmask = model.vq.encode(inputs.features, inputs.mask)
        return model.code_embed(codes[cmask]), None  # (N, H)


TOKEN_MODES: dict[str, type[MotionTokens]] = {
    cls.name: cls for cls in (CrossTalkerTokens, MeanPoolTokens, AllFramesTokens, VQTokens, MotionTokens)
}


def token_mode(name: str) -> MotionTokens:
    """The strategy for a `LlamoConfig.motion_tokens` value (validated by the config)."""
    return TOKEN_MODES[name]()
