"""Kicks on real bodies: ds2 *training* takes with a synthetic kicking leg grafted on.

ds2 has no one-legged movement, and the shipped pass names "which leg?" from its action tokens,
which have only seen synthetic kicks. Here a standing training take (a wave or a raise) keeps its
trunk, arms and standing leg, and one leg (hip → knee → ankle → foot) comes from a synthetic kick
fitted to the take's length (`llamo.eval_probe.graft_leg`). The label is a kick with that side;
its repetitions are the donor's peaks inside the clip. The development probe grafts onto the
*validation* takes, so these clips never share a body with it; the evaluation set is not read.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from llamo.conversation import Conversation, write_jsonl
from llamo.data.real import LICENSE, index_clips
from llamo.data.real_questions import KIND_WEIGHT, real_questions
from llamo.data.real_writer import labelled_clips, set_labels
from llamo.data.synth import synthesize
from llamo.data.templates import choose_by_kind, qa_conversation
from llamo.errors import LlamoError
from llamo.eval_probe import graft_leg

STANDING = ("wave", "arm_raise")
FRAMES_PER_KICK = 30  # a synthetic kick at tempo 1 takes about 1.4 s at 20 fps


def graft_segment(body_seg: dict, donor_labels: dict, side: str, num_frames: int) -> dict | None:
    """The grafted clip's kick segment, or None when no kick peak falls inside the clip."""
    peaks = [int(p) for p in donor_labels["rep_peaks"] if p < num_frames]
    if not peaks:
        return None
    seg = donor_labels["segments"][0]
    return {
        "action": "kick",
        "start": int(seg["start"]),
        "end": num_frames,
        "reps": len(peaks),
        "side": side,
        "direction": "none",
        "tempo": float(seg["tempo"]),
        "amplitude": float(seg["amplitude"]),
        "style": body_seg["style"],
        "energy": body_seg["energy"],
        "rep_peaks": peaks,
        "source": LICENSE + "; the kicking leg is synthetic",
    }


def _conversation(cid: str, path: str, seg: dict, rng) -> Conversation:
    """The real clips' question kinds, minus a false premise about the body's own arms (the
    take still waves or raises them: "I see no waves" would be false)."""
    cands = [c for c in real_questions([seg], rng, "train", 20.0, "broad")
             if c[3] not in ("no_" + a for a in STANDING)]  # fmt: skip
    qas = choose_by_kind(cands, KIND_WEIGHT, rng, 3)
    segs = [{k: v for k, v in seg.items() if k != "rep_peaks"}]
    return qa_conversation(cid, qas, {"split": "train", "segments": segs, "real": True, "graft": True}, path)


def write_grafts(source: str | Path, out: str | Path, n: int, seed: int = 0) -> dict:
    """`n` conversations about grafted kicks on standing training takes; returns the summary."""
    out = Path(out)
    clips = [c for c in index_clips(source) if c.split == "train"]
    rng = np.random.default_rng([seed, 77])
    standing = [item for item in labelled_clips(clips)[0] if item.seg["action"] in STANDING]
    if not standing:
        raise LlamoError(f"{source} has no standing dataset-2 training takes to graft onto.")
    (out / "motions").mkdir(parents=True, exist_ok=True)
    convs, sides = [], Counter()
    for i in range(n):
        clip, body, body_seg = standing[int(rng.integers(len(standing)))]
        side = str(rng.choice(["left", "right"]))
        reps = max(1, body.num_frames // FRAMES_PER_KICK)
        donor = synthesize("kick", reps=reps, side=side, amplitude=float(rng.uniform(0.7, 1.2)),
                           seed=seed * 100_000 + i, fps=body.fps)  # fmt: skip
        motion = graft_leg(body, donor, side)
        seg = graft_segment(body_seg, donor.meta["labels"], side, motion.num_frames)
        if seg is None:
            continue
        set_labels(motion, seg, source=seg["source"])
        path = out / "motions" / f"graftkick-{i:05d}-{clip.path.stem}.npz"
        motion.save(path)
        convs.append(_conversation(f"graftkick-{i:05d}", str(path.resolve()), seg, rng))
        sides[side] += 1
    write_jsonl(out / "data.jsonl", convs)
    kinds = Counter(q["kind"] for c in convs for q in c.meta["qa"])
    summary = {"licence": LICENSE, "conversations": len(convs), "sides": dict(sides),
               "kinds": dict(sorted(kinds.items())), "jsonl": str(out / "data.jsonl")}  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
