"""Motion-encoder pretraining with small auxiliary heads (no LLM in the loop: ~10x cheaper a step).

The generator gives per-frame truth for free, so the encoder first learns what the LLM will later
have to read out of its tokens: which action (incl. "other" and rest), which side, which
direction, where in a repetition each frame is (sin/cos phase), and a per-frame repetition density
whose sum over a clip is its repetition count (density-map counting, which decouples the count
from the clip's length and tempo).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from llamo.data.targets import frame_targets
from llamo.model.summary import MotionHeads


def _downsample(targets: dict, stride: int, t_out: int) -> dict[str, np.ndarray]:
    """Frame targets -> encoder-rate targets: class labels at each window centre, density summed."""
    t = len(targets["action"])
    idx = np.minimum(np.arange(t_out) * stride, t - 1)
    dens = np.zeros(t_out, np.float32)
    np.add.at(dens, np.minimum(np.arange(t) // stride, t_out - 1), targets["density"])
    return {
        "action": targets["action"][idx],
        "side": targets["side"][idx],
        "direction": targets["direction"][idx],
        "phase": targets["phase"][idx],
        "phase_mask": targets["phase_mask"][idx],
        "density": dens,
    }


def make_aux_batch(model, motions: list, max_frames: int = 10**9, rng=None) -> dict[str, torch.Tensor]:
    """Motions with synthetic labels -> features, masks and encoder-rate targets (random crops of
    at most max_frames when rng is given; the targets are cropped with the frames)."""
    crops, targets = [], []
    for m in motions:
        tg = frame_targets(m, model.config.vocab)  # class indices in the heads' order
        if rng is not None and m.num_frames > max_frames:
            a = int(rng.integers(0, m.num_frames - max_frames + 1))
            m = m.slice(a, a + max_frames)
            if tg is not None:
                tg = {k: (v[a : a + max_frames] if isinstance(v, np.ndarray) else v) for k, v in tg.items()}
        crops.append(m)
        targets.append(tg)
    feats = [model.prepare_features(m)[0] for m in crops]
    enc = model.motion_encoder
    t = max(len(x) for x in feats)
    t_out = enc.out_length(t)
    b = len(crops)
    x = torch.zeros((b, t, feats[0].shape[1]))
    mask = torch.zeros((b, t), dtype=torch.bool)
    tg = {
        "action": torch.full((b, t_out), -100, dtype=torch.long),
        "side": torch.full((b, t_out), -100, dtype=torch.long),
        "direction": torch.full((b, t_out), -100, dtype=torch.long),
        "phase": torch.zeros((b, t_out, 2)),
        "phase_mask": torch.zeros((b, t_out), dtype=torch.bool),
        "density": torch.zeros((b, t_out)),
        "count": torch.zeros(b),
    }
    for i, (f, targets_i) in enumerate(zip(feats, targets, strict=True)):
        x[i, : len(f)], mask[i, : len(f)] = f, True
        if targets_i is None:
            continue
        n_out = enc.out_length(len(f))
        ds = _downsample(targets_i, enc.stride, n_out)
        for key in ("action", "side", "direction", "phase_mask", "density"):
            tg[key][i, :n_out] = torch.from_numpy(np.asarray(ds[key]))
        tg["phase"][i, :n_out] = torch.from_numpy(ds["phase"])
        tg["count"][i] = float(targets_i["density"].sum())
    return {"features": x, "mask": mask, **tg}


def aux_loss(heads: MotionHeads, h: torch.Tensor, m: torch.Tensor, batch: dict) -> tuple[torch.Tensor, dict]:
    out = heads(h)
    ce = lambda logits, y: F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=-100)  # noqa: E731
    l_action = ce(out["action"], batch["action"])
    l_side = ce(out["side"], batch["side"])
    l_dir = ce(out["direction"], batch["direction"])
    pm = batch["phase_mask"] & m
    l_phase = ((out["phase"] - batch["phase"]).pow(2).sum(-1) * pm).sum() / pm.sum().clamp(min=1)
    dens = out["density"] * m
    l_dens = ((dens - batch["density"]).pow(2) * m).sum() / m.sum().clamp(min=1) * 10.0
    l_count = F.smooth_l1_loss(dens.sum(1), batch["count"])
    loss = l_action + 0.5 * l_side + 0.5 * l_dir + 0.5 * l_phase + l_dens + 0.5 * l_count
    with torch.no_grad():
        valid = batch["action"] != -100
        acc = ((out["action"].argmax(-1) == batch["action"]) & valid).sum() / valid.sum().clamp(min=1)
        count_exact = (dens.sum(1).round() == batch["count"].round()).float().mean()
    return loss, {
        "loss": float(loss.detach()),
        "action": float(l_action.detach()),
        "count_l1": float(l_count.detach()),
        "frame_acc": float(acc),
        "count_exact": float(count_exact),
    }


def pretrain_encoder(
    model,
    data,
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    max_minutes: float | None = None,
    log: Callable[[str], None] = print,
    crop: int = 200,
    bf16: bool = False,
    train_encoder: bool = True,
) -> dict:
    """Train model.motion_encoder with MotionHeads on the labelled motions of `data`: the model's
    own heads when it has summary tokens (they read the heads later), else throw-away ones.

    train_encoder=False trains the heads alone on the frozen encoder: a trained model's Cross
    Talker and LLM see the same features, and only its summary tokens learn the new labels."""
    idx = [i for i in data.motion_indices() if frame_targets(data.motion(i), model.config.vocab) is not None]
    if not idx:
        log("pretrain: no labelled (synthetic) motions; skipping encoder pretraining")
        return {"steps": 0}
    enc = model.motion_encoder
    heads = (
        model.motion_heads
        if model.motion_heads is not None
        else MotionHeads(model.config.d_model, model.config.vocab)
    )
    heads = heads.to(model.device)
    heads.requires_grad_(True)
    params = (list(enc.parameters()) if train_encoder else []) + list(heads.parameters())
    enc.requires_grad_(train_encoder)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 1), pct_start=0.1)
    rng = np.random.default_rng(seed)
    enc.train(train_encoder)
    start = time.perf_counter()
    ema, metrics, step = None, {}, 0
    for step in range(1, steps + 1):
        pick = rng.choice(idx, size=min(batch_size, len(idx)), replace=len(idx) < batch_size)
        batch = make_aux_batch(model, [data.motion(int(i)) for i in pick], max_frames=crop, rng=rng)
        batch = {k: v.to(model.device) for k, v in batch.items()}
        with (
            torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=bf16),
            torch.set_grad_enabled(train_encoder),
        ):
            h = enc(batch["features"], batch["mask"])
        m = enc.downsample_mask(batch["mask"])
        loss, metrics = aux_loss(heads, h.float(), m, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        ema = metrics if ema is None else {k: 0.9 * ema[k] + 0.1 * v for k, v in metrics.items()}
        elapsed = time.perf_counter() - start
        if step % 25 == 0 or step == steps:
            eta = elapsed / step * (steps - step)
            log(
                f"{'pretrain' if train_encoder else 'heads'} {step}/{steps}  loss {ema['loss']:.3f}  frame-acc {ema['frame_acc']:.2f}  "
                f"count-exact {ema['count_exact']:.2f}  {elapsed / step:.2f}s/step  ETA {eta / 60:.1f} min"
            )
        if max_minutes is not None and elapsed > max_minutes * 60:
            log(f"pretrain: time budget of {max_minutes} min reached at step {step}")
            break
    enc.eval()
    return {"steps": step, "seconds": round(time.perf_counter() - start, 1), **(ema or {})}
