"""The heads' action names, checked before they become summary tokens (inference only).

The heads learned a closed set of actions and give every frame one of them, so a movement they
never saw gets the nearest name. Two checks move such a name's probability to "other", the class
the model answers "I can't name this movement ..." for:

1. The movement is missing: none of the frames the heads give the action shows its defining
   movement (`llamo.action_checks`, measured from the joints).
2. The heads are unsure: over the frames an action wins, its mean probability is under
   `MIN_CONFIDENCE`. On the development sets (synthetic and ds2 validation clips) 99% of the
   actions the fourth-pass heads name reach 0.90; on two real videos of movements outside the
   vocabulary (dancing, balancing) every name stayed between 0.48 and 0.81.

Off by default (`Llamo.check_actions`). Both checks were set on synthetic clips and ds2 (walks,
runs, waves, raises) and changed nothing on the development clips; on real motion of the other
actions they rejected right names: the real squat video's squats and bandai_ds1's punches read
"other" (the punches' heads' confidence or straightened arms fall short of what the synthetic
ones show), so honesty gained one clip of 7 and naming, side and the squat count lost more
(docs/training.md, "The seventh pass"). They need real examples of every action to calibrate.

Training does not gate. It withholds names instead (`withhold_names`): a few real clips of known
actions are asked about as if unfamiliar, with their summary reading "other", so that the
language model learns to take the action's name from the summary tokens rather than guess it
from the native motion tokens (`python -m llamo data real --unnamed-share`).
"""

from __future__ import annotations

import torch

MIN_CONFIDENCE = 0.85


def _supported_runs(p: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """support, widened: a run of frames the heads give to one action keeps it wherever the
    movement shows somewhere in the run (a squat's standing frames stay "squat")."""
    keep = support.clone()
    win = p.argmax(-1)  # (B, T')
    for b in range(p.shape[0]):
        labels = win[b].tolist()
        start = 0
        for t in range(1, len(labels) + 1):
            if t == len(labels) or labels[t] != labels[start]:
                a = labels[start]
                if bool(support[b, start:t, a].any()):
                    keep[b, start:t, a] = True
                start = t
    return keep


def confidence(p: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, A): each action's mean probability over the valid frames it wins (1 where it wins none)."""
    wins = torch.nn.functional.one_hot(p.argmax(-1), p.shape[-1]).float() * mask.float()[..., None]
    n = wins.sum(1)  # (B, A)
    return torch.where(n > 0, (wins * p).sum(1) / n.clamp(min=1), torch.ones_like(n))


def gate_actions(
    p: torch.Tensor,
    support: torch.Tensor,
    mask: torch.Tensor,
    other: int,
    rest: int,
    min_confidence: float = MIN_CONFIDENCE,
) -> torch.Tensor:
    """p (B, T', A) frame probabilities, support (B, T', A) bool, mask (B, T') -> p with the
    share of every unmeasured or unsure action moved to `other` (rows still sum to 1)."""
    keep = _supported_runs(p, support) & (confidence(p, mask) >= min_confidence)[:, None, :]
    keep[..., other] = True
    keep[..., rest] = True
    out = p * keep
    out[..., other] += (p * ~keep).sum(-1)
    return out


def withhold_names(p: torch.Tensor, withheld: torch.Tensor, other: int, rest: int) -> torch.Tensor:
    """p (B, T', A) with every action's share moved to `other` in the clips where withheld (B,)."""
    q = torch.zeros_like(p)
    q[..., rest] = p[..., rest]
    q[..., other] = p.sum(-1) - p[..., rest]
    return torch.where(withheld[:, None, None], q, p)
