"""`Llamo`: motion encoder -> enhancer -> Cross Talker -> projector, spliced into a causal LM.

Prompt layout (ChatML shown; any chat template works, see `PromptBuilder`):

    <|im_start|>system\n{system}<|im_end|>\n
    <|im_start|>user\n{question}\n<P><P>…<P><|im_end|>\n      <- K placeholders after the question
    <|im_start|>assistant\n{answer}<|im_end|>\n               <- labels: answer + <|im_end|>

<P> is an existing unused special token (SmolLM2: `<repo_name>`, id 3). Its embeddings are
replaced with `inputs_embeds.masked_scatter(mask, features)` as in transformers' LLaVA, after a
count check. User and model text is tokenized with `split_special_tokens=True`, so typed
`<repo_name>`/`<|im_start|>` stay plain text.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from llamo.backbone import DEFAULT_ID, Progress, choose_device, load_backbone, pick_placeholder
from llamo.data.schema import MOTION_MARKER, Conversation, Turn
from llamo.errors import LlamoError
from llamo.features import motion_features
from llamo.model.config import LlamoConfig
from llamo.model.cross_talker import CrossTalker, Selection
from llamo.model.encoder import MotionEncoder, masked_pool
from llamo.model.enhancer import MotionFeatureEnhancer
from llamo.model.layers import MLP
from llamo.model.summary import MotionHeads, SummaryTokens, describe_rows
from llamo.model.video import VideoEncoder
from llamo.model.vq import MotionVQVAE, train_vqvae
from llamo.motion import Motion

IGNORE = -100
CONFIG_FILE = "llamo_config.json"
MODULES_FILE = "llamo_modules.safetensors"
ADAPTER_DIR = "adapter"
_SENTINEL = re.compile("\ue000LLAMO(\\d+)\ue001")


def backbone_signature(llm) -> str:
    c = llm.config
    return f"{c.model_type}/h{c.hidden_size}/l{c.num_hidden_layers}/v{c.vocab_size}"


# ---- prompt building ---------------------------------------------------------------------------


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

    def build(
        self,
        turns: list[tuple[str, str | list[int], bool]],
        motion_counts: dict[int, int],
        add_generation_prompt: bool = False,
    ) -> tuple[list[int], list[int]]:
        """turns: (role, text or pre-tokenized ids, train); motion_counts: user-turn index ->
        number of placeholders. -> ids, labels."""
        if turns and turns[0][0] == "system" and not self.supports_system:
            system = turns[0][1]
            turns = list(turns[1:])
            motion_counts = {i - 1: n for i, n in motion_counts.items()}
            if turns and turns[0][0] == "user" and isinstance(turns[0][1], str):
                turns[0] = ("user", f"{system}\n\n{turns[0][1]}", turns[0][2])
        ids: list[int] = []
        labels: list[int] = []
        label_next = False
        for piece in self.pieces([r for r, _, _ in turns], add_generation_prompt):
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
        return ids, labels


# ---- outputs -----------------------------------------------------------------------------------


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


@dataclass
class LlamoOutput:
    loss: torch.Tensor | None  # set when labels were given (then logits is None)
    logits: torch.Tensor | None
    past_key_values: object = None
    selection: Selection | None = None  # cross_talker: per question slot, downsampled frames


# ---- the model ---------------------------------------------------------------------------------


class Projector(nn.Module):
    """MLP d -> LLM hidden size (LLaVA-1.5 style: Linear, GELU, Linear)."""

    def __init__(self, d: int, hidden: int):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.mlp = MLP(d, hidden, d_out=hidden)

    def forward(self, x):
        return self.mlp(self.ln(x))


class Llamo(nn.Module):
    def __init__(self, config: LlamoConfig, llm, tokenizer):
        super().__init__()
        cfg = LlamoConfig.from_dict(config.to_dict())  # a copy: build fills in backbone fields
        self.config = cfg
        self.llm = llm
        self.tokenizer = tokenizer
        sig = backbone_signature(llm)
        if cfg.backbone_signature and cfg.backbone_signature != sig:
            raise LlamoError(
                f"this checkpoint was trained for backbone {cfg.backbone!r} ({cfg.backbone_signature}), "
                f"not {sig}; name a checkpoint directory trained for that backbone instead."
            )
        cfg.backbone_signature = sig
        if not cfg.placeholder:
            cfg.placeholder = pick_placeholder(tokenizer)
        self.placeholder_id = tokenizer.convert_tokens_to_ids(cfg.placeholder)
        if self.placeholder_id is None or self.placeholder_id == tokenizer.unk_token_id:
            raise LlamoError(
                f"the backbone's tokenizer has no token {cfg.placeholder!r} for motion placeholders."
            )
        self.prompts = PromptBuilder(tokenizer, self.placeholder_id)
        hidden = llm.config.hidden_size
        mode = cfg.motion_tokens
        continuous = mode in ("cross_talker", "mean_pool", "all_frames")
        with_video = bool(cfg.video_model or cfg.video_config)
        self.motion_encoder = MotionEncoder(cfg) if continuous else None
        self.video_encoder = VideoEncoder(cfg) if continuous and with_video else None
        self.enhancer = MotionFeatureEnhancer(cfg, with_video) if continuous else None
        self.cross_talker = CrossTalker(cfg, hidden) if mode == "cross_talker" else None
        with_summary = continuous and cfg.summary_tokens > 0
        self.motion_heads = MotionHeads(cfg.d_model) if with_summary else None
        self.summary = SummaryTokens(cfg.d_model, cfg.summary_tokens) if with_summary else None
        self.projector = Projector(cfg.d_model, hidden) if continuous else None
        self.vq = MotionVQVAE(cfg) if mode == "vq_tokens" else None
        self.code_embed = nn.Embedding(cfg.vq_codebook, hidden) if mode == "vq_tokens" else None
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
                from peft import LoraConfig, get_peft_model

                lora = LoraConfig(
                    r=self.config.lora_r,
                    lora_alpha=self.config.lora_alpha,
                    lora_dropout=self.config.lora_dropout,
                    target_modules=list(self.config.lora_targets),
                    task_type="CAUSAL_LM",
                )
                self.llm = get_peft_model(self.llm, lora)
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
        fps = self.config.fps
        if motion.num_frames == 0:
            raise LlamoError("the motion has no frames.")
        if abs(motion.fps - fps) > 1e-3:
            t_new = max(1, int(round(motion.duration * fps)))
            src = np.arange(t_new) * motion.fps / fps
            lo = np.clip(np.floor(src).astype(int), 0, motion.num_frames - 1)
            hi = np.clip(lo + 1, 0, motion.num_frames - 1)
            w = (src - lo)[:, None, None]
            joints = motion.joints[lo] * (1 - w) + motion.joints[hi] * w
            conf = np.minimum(motion.confidence[lo], motion.confidence[hi])
            motion = Motion(joints=joints, fps=fps, confidence=conf, source_times=np.arange(t_new) / fps)
            frame_map = np.clip(np.round(src), 0, None).astype(int)
        else:
            frame_map = np.arange(motion.num_frames)
        if motion.num_frames > self.config.max_frames:
            raise LlamoError(
                f"the clip is {motion.num_frames / fps:.0f} s long; LLaMo takes at most "
                f"{self.config.max_frames / fps:.0f} s, so trim it first."
            )
        x = torch.from_numpy(motion_features(motion))
        x = (x - self.feature_mean.cpu()) / self.feature_std.cpu()
        return x.clamp(-20, 20), frame_map

    def num_motion_tokens(self, num_frames: int) -> int:
        """Placeholders per motion slot for a clip of num_frames (at config.fps)."""
        mode = self.config.motion_tokens
        extra = self.config.summary_tokens if self.summary is not None else 0
        if mode in ("cross_talker", "mean_pool"):
            return self.config.num_tokens + extra
        if mode == "all_frames":
            return self.motion_encoder.out_length(num_frames) + extra
        if mode == "vq_tokens":
            return self.vq.code_length(num_frames)
        return 0

    def encode_motion_features(self, features, mask, video_pixels=None, video_mask=None):
        """(B, T, F), (B, T) -> F̃_M (B, T', d), mask (B, T') and the summary (tokens (B, S, d),
        rows, validity) or None. The motion-encoder + enhancer path; the summary is read off the
        encoder's heads."""
        fm = self.motion_encoder(features, mask)
        m = self.motion_encoder.downsample_mask(mask)
        summary = None if self.summary is None else self.summary(self.motion_heads(fm), m)
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
        return self.enhancer(fm, m, fv, video_mask, mt, vt), m, summary

    def _slot_embeddings(
        self,
        features,
        mask,
        query_ids=None,
        query_mask=None,
        query_motion=None,
        video_pixels=None,
        video_mask=None,
    ):
        """Motion embeddings for every placeholder slot, flattened in slot order -> (N, H)."""
        mode = self.config.motion_tokens
        selection = None
        if mode == "vq_tokens":
            codes, cmask = self.vq.encode(features, mask)
            emb = self.code_embed(codes[cmask])  # (N, H)
            return emb, None
        fm, m, summary = self.encode_motion_features(features, mask, video_pixels, video_mask)
        summary = None if summary is None else summary[0]  # (B, S, d)
        if mode == "cross_talker":
            text = self.llm.get_input_embeddings()(query_ids).float()  # (Q, L, H)
            tokens, selection = self.cross_talker(fm[query_motion], m[query_motion], text, query_mask.bool())
            if summary is not None:
                tokens = torch.cat([tokens, summary[query_motion]], 1)  # (Q, K+S, d)
            emb = self.projector(tokens).flatten(0, 1)  # (Q*(K+S), H)
        elif mode == "mean_pool":
            pooled, _ = masked_pool(fm, m, self.config.num_tokens)
            if summary is not None:
                pooled = torch.cat([pooled, summary], 1)  # (B, K+S, d)
            emb = self.projector(pooled).flatten(0, 1)
        else:  # all_frames (+ summary), clip by clip
            rows = [fm[b][m[b]] for b in range(fm.shape[0])]
            if summary is not None:
                rows = [torch.cat([r, summary[b]]) for b, r in enumerate(rows)]
            emb = self.projector(torch.cat(rows))
        return emb, selection

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

    def _turn_list(self, conv: Conversation, has_motion: bool) -> list[tuple[str, str, bool]]:
        turns = [(t.role, t.text, t.train) for t in conv.turns]
        if not turns or turns[0][0] != "system":
            turns.insert(0, ("system", self.config.system_prompt, False))
        if has_motion:  # the dataset's <motion> marker: we place motion tokens ourselves
            turns = [
                (r, re.sub(r"^\s*" + re.escape(MOTION_MARKER) + r"\s*", "", x) if r == "user" else x, tr)
                for r, x, tr in turns
            ]
        return turns

    def motion_slots(self, turns: list[tuple[str, str, bool]]) -> list[int]:
        """Indices of the user turns that carry motion tokens."""
        users = [i for i, (r, _, _) in enumerate(turns) if r == "user"]
        if self.config.motion_tokens == "none" or not users:
            return []
        return users if self.config.per_turn_motion else users[:1]

    def collate(
        self,
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
        max_pos = getattr(self.llm.config, "max_position_embeddings", None)
        rows, feats, queries, query_motion = [], [], [], []
        for conv, motion in zip(conversations, motions, strict=True):
            use_motion = motion is not None and self.config.motion_tokens != "none"
            turns = self._turn_list(conv, use_motion or conv.has_motion)
            while generation and turns and turns[-1][0] == "assistant":
                turns.pop()
            counts: dict[int, int] = {}
            if use_motion:
                x, _ = self.prepare_features(motion)
                n = self.num_motion_tokens(x.shape[0])
                for i in self.motion_slots(turns):
                    counts[i] = n
                    if self.config.motion_tokens == "cross_talker":
                        queries.append(self.prompts.text_ids(turns[i][1]) or [self.tokenizer.eos_token_id])
                        query_motion.append(len(feats))
                feats.append(x)
            ids, labels = self.prompts.build(turns, counts, add_generation_prompt=generation)
            if max_pos and len(ids) > max_pos:
                raise LlamoError(
                    f"conversation {conv.id!r} needs {len(ids)} tokens, past the backbone's context of {max_pos}."
                )
            rows.append((ids, labels))
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        length = max(len(ids) for ids, _ in rows)
        input_ids = torch.full((len(rows), length), pad, dtype=torch.long)
        label_t = torch.full((len(rows), length), IGNORE, dtype=torch.long)
        attn = torch.zeros((len(rows), length), dtype=torch.long)
        for b, (ids, labels) in enumerate(rows):
            span = slice(length - len(ids), length) if generation else slice(0, len(ids))
            input_ids[b, span] = torch.tensor(ids)
            label_t[b, span] = torch.tensor(labels)
            attn[b, span] = 1
        batch: dict = {"input_ids": input_ids, "attention_mask": attn}
        if not generation:
            batch["labels"] = label_t
        if feats:
            t = max(len(x) for x in feats)
            mf = torch.zeros((len(feats), t, feats[0].shape[1]))
            mm = torch.zeros((len(feats), t), dtype=torch.bool)
            for i, x in enumerate(feats):
                mf[i, : len(x)], mm[i, : len(x)] = x, True
            batch["motion_features"], batch["motion_mask"] = mf, mm
        if queries:
            lq = max(len(q) for q in queries)
            qi = torch.full((len(queries), lq), pad, dtype=torch.long)
            qm = torch.zeros((len(queries), lq), dtype=torch.bool)
            for i, q in enumerate(queries):
                qi[i, : len(q)], qm[i, : len(q)] = torch.tensor(q), True
            batch["query_ids"], batch["query_mask"] = qi, qm
            batch["query_motion"] = torch.tensor(query_motion, dtype=torch.long)
        if feats and videos is not None and any(v is not None for v in videos):
            vs = [v for v, m in zip(videos, motions, strict=True) if m is not None]
            n = max(len(v) for v in vs if v is not None)
            size = next(v for v in vs if v is not None).shape[-1]
            vp = torch.zeros((len(vs), n, 3, size, size))
            vm = torch.zeros((len(vs), n), dtype=torch.bool)
            for i, v in enumerate(vs):
                if v is not None:
                    vp[i, : len(v)], vm[i, : len(v)] = v, True
            batch["video_pixels"], batch["video_mask"] = vp, vm
        return batch

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
    ) -> tuple[torch.Tensor, Selection | None]:
        """Token embeddings (B, L, H) with motion embeddings spliced into the placeholders."""
        dev = self.llm_device
        input_ids = input_ids.to(dev)
        embeds = self.llm.get_input_embeddings()(input_ids)  # (B, L, H)
        if motion_features is None or not bool((input_ids == self.placeholder_id).any()):
            return embeds, None
        to = lambda t: None if t is None else t.to(dev)  # noqa: E731
        motion_embeds, selection = self._slot_embeddings(
            to(motion_features), to(motion_mask).bool(), to(query_ids), to(query_mask),
            to(query_motion), to(video_pixels), to(video_mask),
        )  # fmt: skip
        return self.splice(input_ids, embeds, motion_embeds), selection

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        past_key_values=None,
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
            past_key_values=past_key_values,
            use_cache=use_cache,
        )
        return LlamoOutput(
            loss=None, logits=out.logits, past_key_values=out.past_key_values, selection=selection
        )

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
            return self._generate_batch(conversations, motions, max_new_tokens, videos)
        finally:
            self.train(was_training)

    def _generate_batch(self, conversations, motions, max_new_tokens, videos) -> list[str]:
        batch = self.collate(conversations, motions, videos=videos, generation=True)
        dev = self.llm_device
        input_ids = batch.pop("input_ids").to(dev)
        attention_mask = batch.pop("attention_mask").to(dev)
        embeds = self.llm.get_input_embeddings()(input_ids)
        if "motion_features" in batch and bool((input_ids == self.placeholder_id).any()):
            to = {k: v.to(dev) for k, v in batch.items()}
            motion_embeds, _ = self._slot_embeddings(
                to["motion_features"], to["motion_mask"].bool(), to.get("query_ids"), to.get("query_mask"),
                to.get("query_motion"), to.get("video_pixels"), to.get("video_mask"),
            )  # fmt: skip
            embeds = self.splice(input_ids, embeds, motion_embeds)
        from llamo.chat import stop_token_ids

        stops = sorted(stop_token_ids(self))
        out = self.llm.generate(
            inputs_embeds=embeds, attention_mask=attention_mask, max_new_tokens=max_new_tokens, do_sample=False,
            eos_token_id=stops, pad_token_id=self.tokenizer.pad_token_id,
        )  # fmt: skip
        answers = []
        for row in out.tolist():
            cut = next((i for i, t in enumerate(row) if t in stops), len(row))
            answers.append(self.tokenizer.decode(row[:cut], skip_special_tokens=True))
        return answers

    @torch.no_grad()
    def encode_motion(self, motion: Motion, video_pixels: torch.Tensor | None = None) -> MotionState:
        """Encode a clip once for a chat (question-independent work only)."""
        x, frame_map = self.prepare_features(motion)
        dev = self.llm_device
        feats, mask = x[None].to(dev), torch.ones((1, x.shape[0]), dtype=torch.bool, device=dev)
        mode = self.config.motion_tokens
        state = MotionState(feats, mask, None, None, frame_map)
        if mode in ("cross_talker", "mean_pool", "all_frames"):
            vp = None if video_pixels is None else video_pixels[None].to(dev)
            fm, m, summary = self.encode_motion_features(feats, mask, vp)
            state.fm, state.fm_mask = fm, m
            if summary is not None:
                tokens, summary_rows, valid = summary
                state.summary = tokens  # (1, S, d)
                state.summary_table = describe_rows(summary_rows[0], valid[0], x.shape[0] / self.config.fps)
            stride = self.motion_encoder.stride
            state.frame_map = frame_map[np.minimum(np.arange(fm.shape[1]) * stride, len(frame_map) - 1)]
        if mode == "mean_pool":
            pooled, centres = masked_pool(state.fm, state.fm_mask, self.config.num_tokens)
            if state.summary is not None:
                pooled = torch.cat([pooled, state.summary], 1)
            state.static_tokens = self.projector(pooled)[0]
            state.static_frames = [int(state.frame_map[c]) for c in centres[0].tolist()]
            state.static_scores = [1.0 / self.config.num_tokens] * self.config.num_tokens
        elif mode == "all_frames":
            rows = state.fm[state.fm_mask]
            if state.summary is not None:
                rows = torch.cat([rows, state.summary[0]])
            state.static_tokens = self.projector(rows)
            state.static_frames = [int(f) for f in state.frame_map]
            state.static_scores = [1.0] * len(state.static_frames)
        elif mode == "vq_tokens":
            codes, cmask = self.vq.encode(feats, mask)
            state.static_tokens = self.code_embed(codes[cmask])
            down = self.vq.down
            state.frame_map = frame_map[np.minimum(np.arange(codes.shape[1]) * down, len(frame_map) - 1)]
            state.static_frames = [int(f) for f in state.frame_map]
            state.static_scores = [1.0] * len(state.static_frames)
        return state

    @torch.no_grad()
    def question_tokens(
        self, state: MotionState, question: str
    ) -> tuple[torch.Tensor, list[int], list[float]]:
        """K motion embeddings (K, H) for this question, plus the chosen motion frames and scores."""
        if self.config.motion_tokens != "cross_talker":
            return state.static_tokens, state.static_frames, state.static_scores
        q = self.prompts.text_ids(question) or [self.tokenizer.eos_token_id]
        qi = torch.tensor([q], device=self.llm_device)
        text = self.llm.get_input_embeddings()(qi).float()
        tokens, sel = self.cross_talker(state.fm, state.fm_mask, text, torch.ones_like(qi, dtype=torch.bool))
        if state.summary is not None:
            tokens = torch.cat([tokens, state.summary], 1)  # (1, K+S, d)
        emb = self.projector(tokens)[0]
        valid = sel.valid[0]
        frames = [int(state.frame_map[f]) for f in sel.frames[0][valid].tolist()]
        scores = [float(s) for s in sel.scores[0][valid].tolist()]
        return emb, frames, scores

    def motion_summary(self, state: MotionState) -> list[dict]:
        """What the summary tokens tell the LLM about this clip: per action, in time order, its
        repetition count, side, direction and time span (empty without summary tokens)."""
        return list(state.summary_table)

    # ---- checkpoints -----------------------------------------------------------------------

    def _module_state(self) -> dict[str, torch.Tensor]:
        state = {}
        for k, v in self.state_dict().items():
            if k.startswith("llm."):
                continue
            if k.startswith("video_encoder.tower.") and self.config.video_config is None:
                continue  # a hub tower is frozen and re-loaded by id
            state[k] = v.detach().cpu().contiguous()
        return state

    def save_pretrained(self, directory: str | Path) -> Path:
        """config + LLaMo modules (safetensors) + peft adapter (if LoRA was added)."""
        from safetensors.torch import save_file

        from llamo.fileio import atomic_path

        if self.lora_state == "merged":
            raise LlamoError(
                "LoRA has been merged into the backbone for inference; save before merge_lora()."
            )
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / MODULES_FILE) as tmp:
            save_file(self._module_state(), str(tmp), metadata={"format": "pt"})
        if self.lora_state == "adapter":
            self.llm.save_pretrained(str(directory / ADAPTER_DIR))
        elif (directory / ADAPTER_DIR).exists():
            import shutil

            shutil.rmtree(directory / ADAPTER_DIR)
        with atomic_path(directory / CONFIG_FILE) as tmp:
            self.config.save(tmp)
        return directory

    @classmethod
    def from_pretrained(
        cls,
        directory: str | Path,
        device: str | torch.device | None = None,
        backbone=None,
        progress: Progress | None = None,
    ) -> Llamo:
        """Restore a checkpoint. backbone: None (the one it names), an id that must match, or a
        loaded (llm, tokenizer) pair whose architecture must match."""
        from safetensors.torch import load_file

        directory = Path(directory)
        if not (directory / CONFIG_FILE).is_file():
            raise LlamoError(f"{directory} is not a LLaMo checkpoint (no {CONFIG_FILE}).")
        config = LlamoConfig.load(directory / CONFIG_FILE)
        if isinstance(backbone, str) and backbone not in (config.backbone,):
            raise LlamoError(
                f"checkpoint {directory.name} was trained for backbone {config.backbone!r}, not {backbone!r}; "
                "name a checkpoint directory trained for that backbone instead."
            )
        if backbone is None or isinstance(backbone, str):
            backbone = load_backbone(config.backbone, device=device, progress=progress)
        llm, tokenizer = backbone
        if device is not None:
            llm.to(choose_device(device))
        model = cls(config, llm, tokenizer)
        state = load_file(str(directory / MODULES_FILE), device=str(model.llm_device))
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith(("llm.", "video_encoder.tower."))]
        if missing or unexpected:
            raise LlamoError(
                f"checkpoint {directory.name} does not match this model ({(missing + unexpected)[:3]})."
            )
        if (directory / ADAPTER_DIR).is_dir():
            from peft import PeftModel

            model.llm = PeftModel.from_pretrained(model.llm, str(directory / ADAPTER_DIR))
            model.lora_state = "adapter"
        model.checkpoint_dir = str(directory)
        model.set_stage("align")
        return model.eval()

    def describe(self) -> dict:
        sha = getattr(self, "_checkpoint_sha", "")
        if not sha and self.checkpoint_dir and (Path(self.checkpoint_dir) / MODULES_FILE).is_file():
            sha = hashlib.sha256((Path(self.checkpoint_dir) / MODULES_FILE).read_bytes()).hexdigest()[:12]
            self._checkpoint_sha = sha
        return {
            "checkpoint": self.checkpoint_dir or "untrained",
            "sha": sha,
            "backbone": self.config.backbone,
            "backbone_signature": self.config.backbone_signature,
            "device": str(self.llm_device),
            "dtype": str(self.llm_dtype).replace("torch.", ""),
            "motion_tokens": self.config.motion_tokens,
            "num_tokens": self.config.num_tokens,
            "lora": self.lora_state,
        }


def load_default(device: str | torch.device | None = None, progress: Progress | None = None) -> Llamo:
    """LLAMO_MODEL (a checkpoint dir) if set, else assets/checkpoint if present, else an untrained
    model on the default backbone. LoRA is merged (inference)."""
    env = os.environ.get("LLAMO_MODEL")
    bundled = Path(__file__).resolve().parents[2] / "assets" / "checkpoint"
    if env:
        model = Llamo.from_pretrained(env, device=device, progress=progress)
    elif (bundled / CONFIG_FILE).is_file():
        model = Llamo.from_pretrained(bundled, device=device, progress=progress)
    else:
        model = Llamo.build(LlamoConfig(backbone=DEFAULT_ID), device=device, progress=progress)
    return model.merge_lora().eval()


__all__ = ["Llamo", "LlamoOutput", "MotionState", "PromptBuilder", "load_default", "Turn"]
