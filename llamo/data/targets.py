"""Per-frame auxiliary targets for encoder pretraining, from a synthetic motion's labels: action,
side and direction classes, the repetition phase and a counting density."""

from __future__ import annotations

import numpy as np

from llamo.labels import LabelVocab
from llamo.motion import Motion


def frame_targets(motion: Motion, vocab: LabelVocab | None = None) -> dict[str, np.ndarray] | None:
    """Per-frame targets from synthetic labels, or None for unlabelled motion.

    Class indices follow `vocab` (the heads' vocabulary; llamo.labels' by default).

    action/side/direction: class index per frame; phase: (T, 2) sin/cos of the repetition phase
    (0 at a repetition's start, pi at its peak) with phase_mask; density: per-frame share of a
    repetition, so it sums to the count over any whole repetitions (density-map counting)."""
    labels = motion.meta.get("labels")
    if not labels or "segments" not in labels:
        return None
    vocab = vocab or LabelVocab()
    t = motion.num_frames
    action = np.full(t, vocab.rest, np.int64)
    side = np.full(t, -100, np.int64)
    direction = np.full(t, -100, np.int64)
    for seg in labels["segments"]:
        a, b = seg["start"], min(seg["end"], t)
        action[a:b] = vocab.actions.index(seg["action"])
        side[a:b] = vocab.sides.index(seg["side"])
        direction[a:b] = vocab.directions.index(seg["direction"])
    phase = np.zeros((t, 2), np.float32)
    phase_mask = np.zeros(t, bool)
    density = np.zeros(t, np.float32)
    spans = labels.get("rep_spans") or []
    peaks = labels.get("rep_peaks") or []
    for (a, b), pk in zip(spans, peaks, strict=False):
        b = min(b, t)
        if b <= a:
            continue
        frames = np.arange(a, b)
        # piecewise-linear phase: 0 at start, 0.5 at the peak, 1 at the end
        ph = np.where(
            frames <= pk,
            0.5 * (frames - a) / max(pk - a, 1),
            0.5 + 0.5 * (frames - pk) / max(b - pk, 1),
        )
        phase[a:b, 0], phase[a:b, 1] = np.sin(2 * np.pi * ph), np.cos(2 * np.pi * ph)
        phase_mask[a:b] = True
        density[a:b] = 1.0 / (b - a)
    return {
        "action": action,
        "side": side,
        "direction": direction,
        "phase": phase,
        "phase_mask": phase_mask,
        "density": density,
        "segments": labels["segments"],
    }
