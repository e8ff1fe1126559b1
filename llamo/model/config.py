"""`LlamoConfig`: every architecture choice, saved with each checkpoint (llamo_config.json)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from llamo.errors import LlamoError
from llamo.features import FEATURE_DIM
from llamo.labels import AUX_ACTIONS, AUX_DIRECTIONS, AUX_SIDES, LEGACY_VOCAB, REST, LabelVocab

MOTION_TOKEN_MODES = ("cross_talker", "mean_pool", "all_frames", "vq_tokens", "none")


@dataclass
class LlamoConfig:
    # language backbone
    backbone: str = "default"  # HF id or path; "default" = SmolLM2-135M-Instruct from PyPI
    backbone_signature: str = ""  # model_type/hidden/layers/vocab, filled by build()
    placeholder: str = ""  # existing special token carrying motion embeddings, filled by build()
    system_prompt: str = (
        "You are LLaMo, an assistant that watches human motion (a 3D skeleton over time) "
        "and answers questions about it precisely and briefly."
    )
    # motion input
    skeleton: str = "humanml3d-22"
    fps: float = 20.0  # motions are resampled to this rate before the encoder
    feature_dim: int = FEATURE_DIM
    feature_mean: list[float] | None = None  # per-column normalisation; None = identity
    feature_std: list[float] | None = None
    max_frames: int = 12000  # 10 minutes at 20 fps
    # motion encoder (F_M)
    d_model: int = 192  # small: keeps a 10-minute clip at ~80 ms to encode on 2 CPU threads
    n_heads: int = 4
    encoder_layers: int = 2
    encoder_stride: int = 4  # strided first conv: T' = ceil(T / stride) (5 frames/s at 20 fps)
    encoder_window: int = 64  # windowed (shifted) self-attention span in downsampled frames
    dropout: float = 0.1
    # video (optional, default off)
    video_model: str | None = None  # HF vision tower id/path (CLIP or SigLIP); None = motion only
    video_config: dict | None = None  # a vision config dict instead of an id (tests: tiny random)
    video_fps: float = 2.0  # frames sampled from the video per second
    video_size: int = 224
    # Motion Feature Enhancer
    enhancer_layers: int = 1
    # Cross Talker / motion tokens
    motion_tokens: str = "cross_talker"
    num_tokens: int = 32  # K
    selection: str = "straight_through"  # or "gumbel"
    gumbel_tau: float = 1.0
    r_max: float = 0.25  # largest local window, as a fraction of T'
    num_segments: int = 8  # segment-level global features
    summary_tokens: int = 0  # S tokens read off the encoder's heads (llamo.model.summary); 0 = off
    # the measured facts (llamo.evidence) open the first user turn, beside the motion tokens
    evidence: bool = False
    # the heads' class names, in head order (llamo.labels): the checkpoint's, not the generator's
    label_actions: list[str] = field(default_factory=lambda: list(AUX_ACTIONS))
    label_sides: list[str] = field(default_factory=lambda: list(AUX_SIDES))
    label_directions: list[str] = field(default_factory=lambda: list(AUX_DIRECTIONS))
    # vq_tokens ablation
    vq_codebook: int = 512
    vq_dim: int = 64
    vq_downsample: int = 4  # codes ~ T / 4
    # LoRA
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0  # dropout's RNG cost a sixth of a CPU step; the data is not small
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])

    def __post_init__(self) -> None:
        if self.motion_tokens not in MOTION_TOKEN_MODES:
            raise LlamoError(
                f"motion_tokens must be one of {', '.join(MOTION_TOKEN_MODES)}, not {self.motion_tokens!r}."
            )
        if self.selection not in ("straight_through", "gumbel"):
            raise LlamoError(f"selection must be straight_through or gumbel, not {self.selection!r}.")
        if self.num_tokens < 1:
            raise LlamoError("num_tokens (K) must be at least 1.")
        if REST not in self.label_actions:
            raise LlamoError(f"label_actions must include {REST!r} (the between-actions class).")

    @property
    def vocab(self) -> LabelVocab:
        """The head vocabulary this model was built with."""
        return LabelVocab(tuple(self.label_actions), tuple(self.label_sides), tuple(self.label_directions))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> LlamoConfig:
        """Unknown keys are ignored; a config saved before the vocabulary was stored gets the
        vocabulary those checkpoints were trained with (`llamo.labels.LEGACY_VOCAB`)."""
        known = {f.name for f in fields(cls)}
        legacy = {
            "label_actions": list(LEGACY_VOCAB.actions),
            "label_sides": list(LEGACY_VOCAB.sides),
            "label_directions": list(LEGACY_VOCAB.directions),
        }
        return cls(**{**legacy, **{k: v for k, v in d.items() if k in known}})

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> LlamoConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))
