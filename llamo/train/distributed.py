"""Several processes, one result: under `accelerate launch` (DDP, or what accelerate's config says)
each step must equal one process's step on the same global batch. Every rank draws the same
global batch (same seed), trains on its contiguous share, and scales its loss so that the
gradient DDP averages is the global batch's mean over all answer tokens, not a mean of means
(shares differ in token counts)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from llamo.errors import LlamoError
from llamo.model.processor import IGNORE


@dataclass(frozen=True)
class Share:
    """This process's rows of a global batch: [start, stop)."""

    start: int
    stop: int


def share_of(batch_size: int, rank: int, world: int) -> Share:
    """Contiguous, as even as can be (the first batch_size % world ranks take one more)."""
    if batch_size < world:
        raise LlamoError(
            f"--batch-size {batch_size} is smaller than the {world} processes; give each at least one row."
        )
    base, extra = divmod(batch_size, world)
    start = rank * base + min(rank, extra)
    return Share(start, start + base + (1 if rank < extra else 0))


@dataclass(frozen=True)
class StepLoss:
    """`backward`: what this rank backpropagates; `value`: the global batch's mean loss."""

    backward: torch.Tensor
    value: float


def global_token_mean(loss: torch.Tensor, labels: torch.Tensor, accelerator) -> StepLoss:
    """`loss` is this rank's mean over its answer tokens (Llamo's loss). One all-reduce gives the
    global token count N; rank r backpropagates loss_r * n_r * world / N, so DDP's average over
    ranks is sum(token losses) / N, the one-process loss of the whole batch."""
    n_local = (labels[:, 1:] != IGNORE).sum().to(loss.device, torch.float64)
    world = accelerator.num_processes
    if world == 1:
        return StepLoss(loss, float(loss.detach()))
    totals = torch.stack([loss.detach().double() * n_local, n_local])
    totals = accelerator.reduce(totals, reduction="sum")
    n_global = float(totals[1])
    if n_global == 0:
        return StepLoss(loss * 0.0, 0.0)
    scale = float(n_local) * world / n_global
    return StepLoss(loss * scale, float(totals[0]) / n_global)
