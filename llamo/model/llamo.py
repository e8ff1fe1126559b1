"""`Llamo`: motion encoder -> enhancer -> Cross Talker -> projector, spliced into a causal LM.

The model in the style of transformers' `LlavaForConditionalGeneration`; its neighbours do the
rest: `processor` (prompts and batches), `tokens` (one strategy per motion-token mode) and
`checkpoint` (save, load, model card).

<P> is an existing unused special token (SmolLM2: `<repo_name>`, id 3). Its embeddings are
replaced with `inputs_embeds.masked_scatter(mask, features)` as in transformers' LLaVA, after a
count check. User and model text is tokenized with `split_special_tokens=True`, so typed
`<repo_name>`/`<|im_start|>` stay plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from llamo.backbone import (
    DEFAULT_ID,
    Progress,
    add_lora,
    checked_signature,
    choose_device,
    load_backbone,
    pick_placeholder,
    placeholder_id,
    stop_token_ids,
)
from llamo.conversation import Conversation
from llamo.errors import LlamoError
from llamo.model import checkpoint, processor
from llamo.model.config import LlamoConfig
from llamo.model.cross_talker import CrossTalker, Selection
from llamo.model.encoder import MotionEncoder
from llamo.model.enhancer import MotionFeatureEnhancer
from llamo.model.layers import Projector
from llamo.model.processor import IGNORE, PromptBuilder
from llamo.model.summary import MotionHeads, SummaryTokens
from llamo.model.tokens import EncodedMotion, MotionInputs, MotionState, QuestionTokens, token_mode
from llamo.model.video import VideoEncoder
from llamo.model.vq import MotionVQVAE, train_vqvae
from llamo.motion import Motion


@dataclass
class LlamoOutput:
    loss: torch.Tensor | None  # set when labels were given (then logits is None)
    logits: torch.Tensor | None
    cache: object = None  # the backbone's KV cache (transformers 5 name; past_key_values is deprecated)
    selection: Selection | None = None  # cross_talker: per question slot, downsampled frames


class Llamo(nn.Module):
    def __init__(self, config: LlamoConfig, llm, tokenizer):
        super().__init__()
        cfg = LlamoConfig.from_dict(config.to_dict())  # a copy: build fills in backbone fields
        self.config = cfg
        self.llm = llm
        self.tokenizer = tokenizer
        cfg.backbone_signature = checked_signature(llm, cfg.backbone_signature, cfg.backbone)
        cfg.placeholder = cfg.placeholder or pick_placeholder(tokenizer)
        self.placeholder_id = placeholder_id(tokenizer, cfg.placeholder)
        self.prompts = PromptBuilder(tokenizer, self.placeholder_id)
        hidden = llm.config.hidden_size
        self.mode = mode = token_mode(cfg.motion_tokens)
        continuous = mode.continuous
        with_video = bool(cfg.video_model or cfg.video_config)
        # construction order = parameter initialisation order: keep it, or fresh models change
        self.motion_encoder = MotionEncoder(cfg) if continuous else None
        self.video_encoder = VideoEncoder(cfg) if continuous and with_video else None
        self.enhancer = MotionFeatureEnhancer(cfg, with_video) if continuous else None
        self.cross_talker = CrossTalker(cfg, hidden) if mode.per_question else None
        with_summary = continuous and cfg.summary_tokens > 0
        self.motion_heads = MotionHeads(cfg.d_model, cfg.vocab) if with_summary else None
        self.summary = SummaryTokens(cfg.d_model, cfg.summary_tokens, cfg.vocab) if with_summary else None
        self.projector = Projector(cfg.d_model, hidden) if continuous else None
        self.vq = MotionVQVAE(cfg) if mode.discrete else None
        self.code_embed = nn.Embedding(cfg.vq_codebook, hidden) if mode.discrete else None
        if self.code_embed is not None:
            w = llm.get_input_embeddings().weight.detach().float()
            nn.init.normal_(self.code_embed.weight, mean=0.0, std=float(w.std()))
            self.code_embed.weight.data += w.mean(0)
        if self.vq is not None:
            self.vq.requires_grad_(False)
        if self.projector is not None:
            self._match_embedding_scale()
        mean = torch.tensor(cfg.feature_mean or [0.0] * cfg.feature_dim, dtype=torch.float32)
        std = torch.tensor(cfg.feature_std or [1.0] * cfg.feature_dim, dtype=torch.float32)
        self.register_buffer("feature_mean", mean, persistent=False)
        self.register_buffer("feature_std", std, persistent=False)
        self.lora_state = "none"  # none | adapter | merged
        self.check_actions = False  # True: gate the heads' names (action_gate; off: see its docstring)
        self.grounded = ("count", "time", "side")  # held to the measurement (llamo.grounding); () = off
        self.checkpoint_dir: str | None = None
        self.to(self.llm_device)
        self.set_stage("align")
        self.eval()

    # ---- construction ----------------------------------------------------------------------

    @torch.no_grad()
    def _match_embedding_scale(self) -> None:
        """Scale the projector's last layer so fresh motion tokens have the spread of the LLM's
        own token embeddings (an untrained model then still speaks, instead of derailing)."""
        target = float(self.llm.get_input_embeddings().weight.float().std())
        probe = self.projector(torch.randn(256, self.config.d_model))
        self.projector.mlp.proj.weight.mul_(target / max(float(probe.std()), 1e-6))
        self.projector.mlp.proj.bias.zero_()

    @classmethod
    def build(
        cls,
        config: LlamoConfig | None = None,
        backbone=None,
        device: str | torch.device | None = None,
        progress: Progress | None = None,
    ) -> Llamo:
        """A fresh (untrained) model. backbone: (llm, tokenizer), or None to load config.backbone."""
        config = config or LlamoConfig()
        if backbone is None:
            backbone = load_backbone(config.backbone, device=device, progress=progress)
        elif isinstance(backbone, str):
            config.backbone = backbone
            backbone = load_backbone(backbone, device=device, progress=progress)
        llm, tokenizer = backbone
        if device is not None:
            llm.to(choose_device(device))
        return cls(config, llm, tokenizer)

    @property
    def llm_device(self) -> torch.device:
        return next(self.llm.parameters()).device

    @property
    def device(self) -> torch.device:
        return self.llm_device

    @property
    def llm_dtype(self) -> torch.dtype:
        return self.llm.get_input_embeddings().weight.dtype

    def motion_modules(self) -> dict[str, nn.Module]:
        names = (
            "motion_encoder", "motion_heads", "video_encoder", "enhancer", "cross_talker", "summary",
            "projector", "code_embed",
        )  # fmt: skip
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def drop_motion_tokens(self) -> Llamo:
        """The same model with no motion in its prompt (motion_tokens='none'): the evidence-only
        variant of an ablation starts from a trained checkpoint this way."""
        for name in self.motion_modules():
            setattr(self, name, None)
        self.vq = None
        self.config.motion_tokens = "none"
        self.mode = token_mode("none")
        return self

    def set_feature_stats(self, mean, std) -> None:
        """Store feature normalisation (from `llamo.features.feature_stats`) in model and config."""
        self.config.feature_mean, self.config.feature_std = [float(x) for x in mean], [float(x) for x in std]
        self.feature_mean.copy_(torch.tensor(self.config.feature_mean))
        self.feature_std.copy_(torch.tensor(self.config.feature_std))

    # ---- training stages -------------------------------------------------------------------

    def set_stage(self, stage: str, train_encoder: bool = True) -> None:
        """align: LLM frozen, motion modules train. instruct: LoRA on the LLM + motion modules.
        The video tower, the VQ-VAE and the motion heads are always frozen here (train_vqvae and
        encoder pretraining train them);
        train_encoder=False also freezes the (pretrained) motion encoder, as in the paper."""
        if stage not in ("align", "instruct"):
            raise LlamoError(f"stage must be 'align' or 'instruct', not {stage!r}.")
        self.llm.requires_grad_(False)
        if stage == "instruct":
            if self.lora_state == "merged":
                raise LlamoError("LoRA was merged for inference; reload the checkpoint to train again.")
            if self.lora_state == "none":
                c = self.config
                self.llm = add_lora(self.llm, c.lora_r, c.lora_alpha, c.lora_dropout, c.lora_targets)
                self.lora_state = "adapter"
            for name, p in self.llm.named_parameters():
                p.requires_grad_("lora_" in name)
        for name, module in self.motion_modules().items():
            module.requires_grad_(not (name == "motion_encoder" and not train_encoder))
        if self.motion_heads is not None:  # trained by encoder pretraining only
            self.motion_heads.requires_grad_(False)
        if self.video_encoder is not None:
            self.video_encoder.tower.requires_grad_(False)
        if self.vq is not None:
            self.vq.requires_grad_(False)
        self.stage = stage

    def merge_lora(self) -> Llamo:
        """Fold LoRA into the backbone weights for inference (decode speed = bare backbone)."""
        if self.lora_state == "adapter":
            self.llm = self.llm.merge_and_unload()
            self.lora_state = "merged"
        return self

    def train_vqvae(self, motions: list[Motion], **kwargs) -> dict:
        """Train the vq_tokens VQ-VAE on these motions (kwargs: see llamo.model.vq.train_vqvae)."""
        if self.vq is None:
            raise LlamoError("train_vqvae needs a model built with motion_tokens='vq_tokens'.")
        feats = [self.prepare_features(m)[0].cpu().numpy() for m in motions]
        return train_vqvae(self.vq, feats, **kwargs)

    # ---- motion features -------------------------------------------------------------------

    def prepare_features(self, motion: Motion) -> tuple[torch.Tensor, np.ndarray]:
        """Motion -> normalised features (T, F) at config.fps, and (T,) source frame indices."""
        return processor.prepare_features(self, motion)

    def num_motion_tokens(self, num_frames: int) -> int:
        """Placeholders per motion slot for a clip of num_frames (at config.fps)."""
        return self.mode.count(self, num_frames)

    def encode_motion_features(self, features, mask, video_pixels=None, video_mask=None, support=None,
                               withheld=None):  # fmt: skip
        """(B, T, F), (B, T) -> F̃_M (B, T', d), mask (B, T') and the summary (tokens (B, S, d),
        rows, validity) or None. The motion-encoder + enhancer path; the summary is read off the
        encoder's heads, checked against `support` (B, T, A) or withheld (B,) (action_gate)."""
        fm = self.motion_encoder(features, mask)
        m = self.motion_encoder.downsample_mask(mask)
        support = None if support is None else self.motion_encoder.at_output_rate(support)  # (B, T', A)
        summary = None if self.summary is None else self.summary(self.motion_heads(fm), m, support, withheld)
        fv = mt = vt = None
        if self.video_encoder is not None and video_pixels is not None:
            fv = self.video_encoder(video_pixels)  # (B, N, d), frames k / video_fps s into the clip
            if video_mask is None:
                video_mask = torch.ones(fv.shape[:2], dtype=torch.bool, device=fv.device)
            # shared time axis (in 1/10 s) so motion queries find the video frames of the same moment
            mt = torch.arange(fm.shape[1], device=fm.device) * (
                10.0 * self.motion_encoder.stride / self.config.fps
            )
            vt = torch.arange(fv.shape[1], device=fm.device) * (10.0 / self.config.video_fps)
            mt, vt = mt[None].expand(fm.shape[0], -1), vt[None].expand(fv.shape[0], -1)
        return EncodedMotion(self.enhancer(fm, m, fv, video_mask, mt, vt), m, summary)

    def splice(
        self, input_ids: torch.Tensor, embeds: torch.Tensor, motion_embeds: torch.Tensor
    ) -> torch.Tensor:
        """inputs_embeds with placeholder positions replaced (LLaVA's masked_scatter)."""
        mask = input_ids == self.placeholder_id  # (B, L)
        n = int(mask.sum())
        if n != motion_embeds.shape[0]:
            raise LlamoError(
                f"the prompt has {n} motion placeholders but {motion_embeds.shape[0]} motion embeddings were made."
            )
        mask = mask[..., None].expand_as(embeds)
        return embeds.masked_scatter(mask, motion_embeds.to(embeds.dtype))

    # ---- batches ---------------------------------------------------------------------------

    def collate(self, conversations: list[Conversation], motions: list[Motion | None], videos=None,
                generation: bool = False) -> dict:  # fmt: skip
        """A batch for `model(**batch)`; see `llamo.model.processor.collate`."""
        return processor.collate(self, conversations, motions, videos=videos, generation=generation)

    def embed_inputs(
        self,
        input_ids: torch.Tensor,
        motion_features: torch.Tensor | None = None,
        motion_mask: torch.Tensor | None = None,
        query_ids: torch.Tensor | None = None,
        query_mask: torch.Tensor | None = None,
        query_motion: torch.Tensor | None = None,
        video_pixels: torch.Tensor | None = None,
        video_mask: torch.Tensor | None = None,
        motion_withheld: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Selection | None]:
        """Token embeddings (B, L, H) with motion embeddings spliced into the placeholders."""
        dev = self.llm_device
        input_ids = input_ids.to(dev)
        embeds = self.llm.get_input_embeddings()(input_ids)  # (B, L, H)
        if motion_features is None or not bool((input_ids == self.placeholder_id).any()):
            return embeds, None
        to = lambda t: None if t is None else t.to(dev)  # noqa: E731
        inputs = MotionInputs(
            to(motion_features), to(motion_mask).bool(), to(query_ids), to(query_mask),
            to(query_motion), to(video_pixels), to(video_mask), to(motion_withheld),
        )  # fmt: skip
        motion_embeds, selection = self.mode.slot_embeddings(self, inputs)
        return self.splice(input_ids, embeds, motion_embeds), selection

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        cache=None,
        use_cache: bool = False,
        **motion_inputs,
    ) -> LlamoOutput:
        """With labels: the loss only (logits None). Without: logits and the KV cache.
        motion_inputs: the motion/query/video tensors of `collate` (see `embed_inputs`)."""
        embeds, selection = self.embed_inputs(input_ids, **motion_inputs)
        attention_mask = None if attention_mask is None else attention_mask.to(self.llm_device)
        if labels is not None:
            loss = self._answer_loss(embeds, attention_mask, labels.to(self.llm_device))
            return LlamoOutput(loss=loss, logits=None, selection=selection)
        out = self.llm(
            inputs_embeds=embeds,
            attention_mask=attention_mask,
            cache=cache,
            use_cache=use_cache,
        )
        return LlamoOutput(loss=None, logits=out.logits, cache=out.cache, selection=selection)

    def _answer_loss(self, embeds, attention_mask, labels) -> torch.Tensor:
        """Mean next-token NLL over the labelled positions only. The vocabulary projection and
        softmax run on those ~10% of positions instead of all B*L (a third of a CPU step)."""
        llm = self.llm.get_base_model() if hasattr(self.llm, "get_base_model") else self.llm
        hidden = llm.get_decoder()(inputs_embeds=embeds, attention_mask=attention_mask).last_hidden_state
        targets = labels[:, 1:]  # (B, L-1): token t+1 is predicted at position t
        keep = targets != IGNORE
        if not bool(keep.any()):  # nothing to learn from in this batch
            return hidden.sum() * 0.0
        logits = llm.get_output_embeddings()(hidden[:, :-1][keep])  # (N, V)
        return nn.functional.cross_entropy(logits.float(), targets[keep])

    # ---- inference helpers (used by llamo.chat) --------------------------------------------

    @torch.no_grad()
    def generate_batch(
        self,
        conversations: list[Conversation],
        motions: list[Motion | None],
        max_new_tokens: int = 64,
        videos=None,
    ) -> list[str]:
        """Greedy answers to each conversation's last user turn, batched (for evaluation).
        Trailing assistant turns (references) are ignored."""
        was_training = self.training
        self.eval()
        try:
            batch = self.collate(conversations, motions, videos=videos, generation=True)
            attention_mask = batch.pop("attention_mask").to(self.llm_device)
            embeds, _ = self.embed_inputs(**batch)
            stops = sorted(stop_token_ids(self.llm, self.tokenizer))
            out = self.llm.generate(
                inputs_embeds=embeds, attention_mask=attention_mask, max_new_tokens=max_new_tokens,
                do_sample=False, eos_token_id=stops, pad_token_id=self.tokenizer.pad_token_id,
            )  # fmt: skip
        finally:
            self.train(was_training)
        rows = [row[: next((i for i, t in enumerate(row) if t in stops), len(row))] for row in out.tolist()]
        return [self.tokenizer.decode(row, skip_special_tokens=True) for row in rows]

    @torch.no_grad()
    def encode_motion(self, motion: Motion, video_pixels: torch.Tensor | None = None) -> MotionState:
        """Encode a clip once for a chat (question-independent work only)."""
        x, frame_map = self.prepare_features(motion)
        dev = self.llm_device
        feats, mask = x[None].to(dev), torch.ones((1, x.shape[0]), dtype=torch.bool, device=dev)
        state = MotionState(feats, mask, None, None, frame_map)
        state.support = processor.measured_support(self, motion, frame_map)
        self.mode.encode(self, state, video_pixels)
        return state

    @torch.no_grad()
    def question_tokens(self, state: MotionState, question: str) -> QuestionTokens:
        """K motion embeddings (K, H) for this question, plus the chosen motion frames and scores."""
        return self.mode.question_tokens(self, state, question)

    def motion_summary(self, state: MotionState) -> list[dict]:
        """What the summary tokens tell the LLM about this clip: per action, in time order, its
        repetition count, side, direction and time span (empty without summary tokens)."""
        return list(state.summary_table)

    # ---- checkpoints (llamo.model.checkpoint) ------------------------------------------------

    def save_pretrained(self, directory: str | Path) -> Path:
        """config + LLaMo modules (safetensors) + peft adapter (if LoRA was added)."""
        return checkpoint.save_checkpoint(self, directory)

    # Restore a checkpoint; backbone: None (the one it names), a matching id or (llm, tokenizer) pair
    from_pretrained = classmethod(checkpoint.load_checkpoint)

    def describe(self) -> dict:
        """The model card (see `llamo.model.checkpoint.describe`)."""
        return checkpoint.describe(self)


def load_default(device: str | torch.device | None = None, progress: Progress | None = None) -> Llamo:
    """LLAMO_MODEL (a checkpoint dir) if set, else assets/checkpoint if present, else an untrained
    model on the default backbone. LoRA is merged (inference)."""
    found = checkpoint.default_checkpoint_dir()
    if found is not None:
        model = Llamo.from_pretrained(found, device=device, progress=progress)
    else:
        model = Llamo.build(LlamoConfig(backbone=DEFAULT_ID), device=device, progress=progress)
    return model.merge_lora().eval()


__all__ = ["IGNORE", "Llamo", "LlamoOutput", "MotionState", "PromptBuilder", "load_default"]
