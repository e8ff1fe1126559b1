"""Two-stage LLaMo training with Hugging Face accelerate (devices, mixed precision, several
processes via `accelerate launch`).

    pretrain  motion encoder + auxiliary heads (no LLM)             llamo.train.pretrain
    vq        the vq_tokens VQ-VAE (only for that ablation)          llamo.model.vq
    align     LLM frozen; enhancer, Cross Talker, projector learn    (captions and simple QA)
    instruct  LoRA on the LLM + motion modules; text-only chat mixed in so plain chat survives

The loss is next-token NLL on trainable assistant turns only (Llamo.collate sets the labels).
Resumable: DIR/state/ holds the model, optimizer, scheduler, stage and step; --resume continues.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from llamo.errors import LlamoError
from llamo.motion_ops import resample

STAGES = ("pretrain", "vq", "align", "instruct")


@dataclass
class TrainConfig:
    data: str
    out: str
    val: str | None = None
    text_data: str | None = None  # text-only JSONL mixed into the instruct stage
    text_ratio: float = 0.25
    stage: str = "both"  # align | instruct | both
    backbone: str = "default"
    motion_tokens: str = "cross_talker"
    init: str | None = None  # start from this checkpoint instead of a fresh model
    evidence: bool | None = None  # the model reads llamo.evidence's measured facts (None: --init's choice)
    # model shape (only for fresh models)
    num_tokens: int = 16
    summary_tokens: int = 3  # S (llamo.model.summary); 0 = the paper's tokens only
    d_model: int = 192
    encoder_layers: int = 3
    system_prompt: str = "You are LLaMo. You watch human motion as a 3D skeleton and answer briefly."
    # budgets
    pretrain_steps: int = 600
    vq_steps: int = 600
    align_steps: int = 300
    instruct_steps: int = 300
    steps: int | None = None  # overrides align/instruct steps (each)
    max_minutes: dict = field(default_factory=dict)  # stage -> minutes (stops that stage early)
    batch_size: int = 16
    pretrain_batch_size: int = 48
    lr_align: float = 1e-3
    lr_instruct: float = 3e-4
    lr_pretrain: float = 2e-3
    warmup: int = 20
    train_encoder: bool = False  # keep training the pretrained encoder in the LLM stages
    mixed_precision: str = "no"  # no | bf16 | fp16 (accelerate)
    device: str | None = None
    seed: int = 0
    val_every: int = 100
    val_size: int = 48
    save_every: int = 100
    log_every: int = 10
    resume: bool = False
    limit: int | None = None  # use only the first N training rows (tests)

    def stage_steps(self, stage: str) -> int:
        if stage in ("align", "instruct") and self.steps is not None:
            return self.steps
        return {
            "pretrain": self.pretrain_steps,
            "vq": self.vq_steps,
            "align": self.align_steps,
            "instruct": self.instruct_steps,
        }[stage]


def _log(msg: str) -> None:
    if os.environ.get("RANK", "0") != "0":  # under accelerate launch, only the first process reports
        return
    print(f"[train {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def build_model(cfg: TrainConfig, train_data, device=None, backbone=None):
    """A fresh Llamo with feature statistics from the training motions (or --init).
    backbone: an already loaded (llm, tokenizer) pair (tests), else cfg.backbone is loaded."""
    from llamo.features import feature_stats, motion_features
    from llamo.model import Llamo, LlamoConfig

    if cfg.init:
        model = Llamo.from_pretrained(cfg.init, device=device, backbone=backbone)
        if cfg.evidence is not None:
            model.config.evidence = cfg.evidence
        if cfg.motion_tokens == "none":  # the one mode change --init takes: drop the motion tokens
            model.drop_motion_tokens()
        return model
    config = LlamoConfig(
        evidence=bool(cfg.evidence),
        backbone=cfg.backbone,
        motion_tokens=cfg.motion_tokens,
        num_tokens=cfg.num_tokens,
        summary_tokens=cfg.summary_tokens,
        d_model=cfg.d_model,
        encoder_layers=cfg.encoder_layers,
        system_prompt=cfg.system_prompt,
    )
    model = Llamo.build(config, backbone=backbone, device=device)
    idx = train_data.motion_indices()
    if idx:
        rng = np.random.default_rng(cfg.seed)
        pick = rng.choice(idx, size=min(len(idx), 800), replace=False)
        stats_model_fps = [_at_fps(train_data.motion(int(i)), config.fps) for i in pick]
        mean, std = feature_stats([motion_features(m) for m in stats_model_fps])
        model.set_feature_stats(mean, std)
    return model


def _at_fps(motion, fps):
    """The motion at the model's rate, resampled as `Llamo.prepare_features` does."""
    return motion if abs(motion.fps - fps) < 1e-3 else resample(motion, fps)


class _Batches:
    """Random batches of conversations; in the instruct stage a share are text-only rows."""

    def __init__(self, data, text_data, text_ratio: float, seed: int):
        self.data, self.text, self.ratio = data, text_data, text_ratio if text_data is not None else 0.0
        self.rng = np.random.default_rng(seed)

    def sample(self, n: int, with_text: bool):
        convs, motions = [], []
        for _ in range(n):
            if with_text and self.ratio > 0 and self.rng.random() < self.ratio:
                i = int(self.rng.integers(len(self.text)))
                c, m = self.text.batch([i])
            else:
                i = int(self.rng.integers(len(self.data)))
                c, m = self.data.batch([i])
            convs += c
            motions += m
        return convs, motions


def _lr_lambda(warmup: int, total: int):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(warmup, 1)
        p = (step - warmup) / max(total - warmup, 1)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))

    return f


@torch.no_grad()
def validation_loss(model, val, size: int, batch_size: int, accelerator) -> float:
    model.eval()
    losses = []
    n = min(size, len(val))
    for start in range(0, n, batch_size):
        convs, motions = val.batch(range(start, min(n, start + batch_size)))
        batch = model.collate(convs, motions)
        with accelerator.autocast():
            out = model(**batch)
        losses.append(float(out.loss))
    return float(np.mean(losses)) if losses else float("nan")


def _save_state(model, opt, sched, state_dir: Path, info: dict) -> None:
    tmp = state_dir.with_name(state_dir.name + ".tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    model.save_pretrained(tmp / "model")
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp / "optim.pt")
    (tmp / "info.json").write_text(json.dumps(info, indent=2))
    if state_dir.exists():
        import shutil

        old = state_dir.with_name(state_dir.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(state_dir, old)
        os.replace(tmp, state_dir)
        shutil.rmtree(old)
    else:
        os.replace(tmp, state_dir)


def frozen_weights_to_bf16(llm) -> None:
    """Store the frozen backbone weights in bf16. Autocast would cast them again on every
    step (an eighth of a CPU step) to the same values; trainable ones (LoRA) stay fp32."""
    for name, p in llm.named_parameters():
        if p.requires_grad or "lora_" in name:
            p.data = p.data.float()
        elif p.dtype == torch.float32:
            p.data = p.data.to(torch.bfloat16)


def run_llm_stage(
    model,
    stage: str,
    cfg: TrainConfig,
    data,
    val,
    text,
    accelerator,
    out: Path,
    history: dict,
    start_step: int = 0,
    resume_optim: dict | None = None,
) -> dict:
    """align or instruct: next-token loss through the LLM."""
    model.set_stage(stage, train_encoder=cfg.train_encoder)
    if accelerator.mixed_precision == "bf16":
        frozen_weights_to_bf16(model.llm)
    params = [p for p in model.parameters() if p.requires_grad]
    n_params = sum(p.numel() for p in params)
    if not params:  # e.g. motion_tokens="none" in the align stage: nothing to align
        _log(f"{stage}: no trainable parameters for motion_tokens={model.config.motion_tokens!r}; skipped")
        history[stage] = {"steps": 0, "skipped": True}
        return history
    total = cfg.stage_steps(stage)
    lr = cfg.lr_align if stage == "align" else cfg.lr_instruct
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg.warmup, total))
    if resume_optim:
        opt.load_state_dict(resume_optim["opt"])
        sched.load_state_dict(resume_optim["sched"])
    from llamo.train.distributed import global_token_mean, share_of

    share = share_of(cfg.batch_size, accelerator.process_index, accelerator.num_processes)
    model, opt = accelerator.prepare(model, opt)
    core = accelerator.unwrap_model(model)
    # the same global batch on every process (same seed); each trains on its share of the rows
    batches = _Batches(data, text, cfg.text_ratio if stage == "instruct" else 0.0, cfg.seed + start_step + 7)
    _log(
        f"{stage}: {total} steps, batch {cfg.batch_size}, {n_params / 1e6:.2f} M trainable parameters, lr {lr}"
    )
    start = time.perf_counter()
    ema = None
    step = start_step
    budget = cfg.max_minutes.get(stage)
    stage_hist = history.setdefault(stage, {"loss": [], "val": []})
    stage_hist["processes"] = accelerator.num_processes
    stage_hist["rows_per_process"] = share.stop - share.start
    for step in range(start_step + 1, total + 1):
        model.train()
        convs, motions = batches.sample(cfg.batch_size, with_text=stage == "instruct")
        batch = core.collate(convs[share.start : share.stop], motions[share.start : share.stop])
        with accelerator.autocast():
            out_ = model(**batch)
        loss = global_token_mean(out_.loss, batch["labels"], accelerator)
        accelerator.backward(loss.backward)
        accelerator.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        value = loss.value
        ema = value if ema is None else 0.95 * ema + 0.05 * value
        done = step - start_step
        elapsed = time.perf_counter() - start
        if step % cfg.log_every == 0 or step == total or step == start_step + 1:
            eta = elapsed / done * (total - step)
            _log(
                f"{stage} {step}/{total}  loss {ema:.3f}  {elapsed / done:.2f}s/step  ETA {eta / 60:.1f} min"
            )
            stage_hist["loss"].append([step, round(ema, 4)])
        last = step == total or (budget is not None and elapsed > budget * 60)
        if val is not None and (step % cfg.val_every == 0 or last):
            v = validation_loss(core, val, cfg.val_size, cfg.batch_size, accelerator)
            _log(f"{stage} {step}/{total}  validation loss {v:.3f}")
            stage_hist["val"].append([step, round(v, 4)])
        if accelerator.is_main_process and (step % cfg.save_every == 0 or last):
            _save_state(core, opt, sched, out / "state", {"stage": stage, "step": step, "history": history})
        if last and step != total:
            _log(f"{stage}: time budget of {budget} min reached at step {step}/{total}")
            break
    stage_hist["steps"] = step
    stage_hist["seconds"] = round(time.perf_counter() - start, 1)
    stage_hist["final_loss"] = round(ema, 4) if ema is not None else None
    return history


def train(cfg: TrainConfig, backbone=None) -> dict:
    """Run the configured stages; the final model goes to cfg.out (save_pretrained layout).
    backbone: an already loaded (llm, tokenizer) pair to use instead of loading cfg.backbone."""
    from accelerate import Accelerator, DistributedDataParallelKwargs

    from llamo.data.instructions import InstructionData
    from llamo.model import Llamo
    from llamo.train.pretrain import pretrain_encoder

    if cfg.stage not in ("align", "instruct", "both", "heads"):
        raise LlamoError(f"--stage must be align, instruct, both or heads, not {cfg.stage!r}.")
    if cfg.stage == "heads" and not cfg.init:
        raise LlamoError("--stage heads retrains a trained model's motion heads: give it --init CHECKPOINT.")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    _seed_everything(cfg.seed)
    cpu = cfg.device == "cpu" or (cfg.device is None and not torch.cuda.is_available())
    # a text-only share leaves the motion modules without gradients in that step
    ddp = DistributedDataParallelKwargs(find_unused_parameters=True)
    accelerator = Accelerator(mixed_precision=cfg.mixed_precision, cpu=cpu, kwargs_handlers=[ddp])
    t0 = time.perf_counter()
    data = InstructionData(cfg.data, limit=cfg.limit)
    val = InstructionData(cfg.val, limit=cfg.val_size) if cfg.val else None
    text = InstructionData(cfg.text_data) if cfg.text_data else None
    _log(
        f"data: {len(data)} conversations"
        + (f", {len(val)} validation" if val else "")
        + (f", {len(text)} text-only" if text else "")
    )

    stages = {"align": ["align"], "instruct": ["instruct"], "both": ["align", "instruct"], "heads": []}[
        cfg.stage
    ]
    history: dict = {}
    done_stages: list[str] = []
    resume_from = None
    state_dir = out / "state"
    if cfg.resume and (state_dir / "info.json").is_file():
        info = json.loads((state_dir / "info.json").read_text())
        resume_from = info
        history = info.get("history", {})
        _log(f"resuming {info['stage']} at step {info['step']} from {state_dir}")
        model = Llamo.from_pretrained(state_dir / "model", device=accelerator.device, backbone=backbone)
    else:
        model = build_model(cfg, data, device=accelerator.device, backbone=backbone)
        heads_only = cfg.stage == "heads"  # a trained model's heads (and encoder) learn new labels
        if heads_only and model.motion_heads is None:
            raise LlamoError("this checkpoint has no motion heads (summary_tokens = 0): nothing to retrain.")
        if (heads_only or not cfg.init) and model.motion_encoder is not None and cfg.pretrain_steps > 0:
            history["heads" if heads_only else "pretrain"] = pretrain_encoder(
                model, data, steps=cfg.pretrain_steps, batch_size=cfg.pretrain_batch_size,
                lr=cfg.lr_pretrain, seed=cfg.seed, max_minutes=cfg.max_minutes.get("pretrain"), log=_log,
                bf16=cfg.mixed_precision == "bf16", train_encoder=not heads_only or cfg.train_encoder,
            )  # fmt: skip
        if not cfg.init and model.vq is not None and cfg.vq_steps > 0:
            idx = data.motion_indices()[:2000]
            _log(f"vq: training the VQ-VAE for {cfg.vq_steps} steps on {len(idx)} motions")
            tv = time.perf_counter()
            metrics = model.train_vqvae([data.motion(i) for i in idx], steps=cfg.vq_steps, seed=cfg.seed)
            history["vq"] = {
                "steps": cfg.vq_steps,
                "seconds": round(time.perf_counter() - tv, 1),
                **{k: round(float(v), 4) for k, v in metrics.items() if isinstance(v, (int, float))},
            }
            model.vq.requires_grad_(False)
    for stage in stages:
        start_step, optim_state = 0, None
        if resume_from is not None:
            order = stages.index(resume_from["stage"]) if resume_from["stage"] in stages else -1
            if stages.index(stage) < order:
                continue  # finished before the interruption
            if stage == resume_from["stage"]:
                start_step = int(resume_from["step"])
                if start_step >= cfg.stage_steps(stage):
                    continue
                optim_path = state_dir / "optim.pt"
                optim_state = torch.load(optim_path, weights_only=False) if optim_path.is_file() else None
        history = run_llm_stage(
            model, stage, cfg, data, val, text, accelerator, out, history, start_step, optim_state
        )
        model = accelerator.unwrap_model(model)
        done_stages.append(stage)
    accelerator.wait_for_everyone()
    summary = {
        "config": asdict(cfg),
        "stages": done_stages,
        "history": history,
        "seconds": round(time.perf_counter() - t0, 1),
        "torch_threads": torch.get_num_threads(),
        "device": str(accelerator.device),
        "processes": accelerator.num_processes,
    }
    if accelerator.is_main_process:  # one writer; the others wait until the checkpoint is whole
        model.save_pretrained(out)
        (out / "training.json").write_text(json.dumps(summary, indent=2))
    accelerator.wait_for_everyone()
    _log(f"saved {out} ({summary['seconds'] / 60:.1f} min)")
    return summary
