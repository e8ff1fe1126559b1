"""Instruction data about real people: Bandai-Namco motion dataset 2 (CC BY-NC 4.0).

The clips are converted once with the project's own BVH importer into a cache outside the
repository (`python -m llamo data real --source DIR -o OUT`; see docs/training.md). Each clip is
labelled by its file name, `dataset-2_<content>_<style>_<n>.bvh`: 10 contents (walk, walk-turn-left,
..., raise-up-right-hand) x 7 styles. Labels become the same segment dicts the synthetic generator
writes, so the question templates, the encoder's frame targets and the evaluation read both alike.

Repetition counts and times are not in the dataset: they come from `llamo.kinematics` on the
clip, the project's one definition of a repetition. Direction and side come from the name and
are checked against the joints (a clip whose joints disagree is dropped, and counted).

Real clips are also composed into sequences of 2-3 (joins blended over 0.3 s) so that
before/after/order and "when" questions have real motion in them too.

`bandai_ds1` is never read here: it is the evaluation set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llamo.evidence import travel
from llamo.kinematics import count_repetitions
from llamo.motion import Motion
from llamo.skeleton import JOINT_INDEX as J

LICENSE = "CC BY-NC 4.0 (Bandai-Namco-Research-Motiondataset-2)"
NAME = re.compile(r"dataset-2_(?P<content>[a-z-]+)_(?P<style>[a-z]+)_(?P<n>\d+)$")
# content -> (action, side, direction, the repetition signal that counts it)
CONTENTS: dict[str, tuple[str, str, str, str]] = {
    "walk": ("walk", "both", "forward", "ankle_gap"),
    "walk-turn-left": ("walk", "both", "turn_left", "ankle_gap"),
    "walk-turn-right": ("walk", "both", "turn_right", "ankle_gap"),
    "run": ("run", "both", "forward", "ankle_gap"),
    "wave-both-hands": ("wave", "both", "none", "wrist_sway"),
    "wave-left-hand": ("wave", "left", "none", "wrist_sway"),
    "wave-right-hand": ("wave", "right", "none", "wrist_sway"),
    "raise-up-both-hands": ("arm_raise", "both", "none", "wrist_height"),
    "raise-up-left-hand": ("arm_raise", "left", "none", "left_wrist_height"),
    "raise-up-right-hand": ("arm_raise", "right", "none", "right_wrist_height"),
}
STYLES = ("active", "elderly", "exhausted", "feminine", "masculine", "normal", "youthful")
# How the style reads as energy; feminine/masculine say nothing about energy, so they read normal.
ENERGY = {
    "active": "energetic",
    "youthful": "energetic",
    "elderly": "slow",
    "exhausted": "tired",
    "feminine": "normal",
    "masculine": "normal",
    "normal": "normal",
}
BLEND_S = 0.3


@dataclass(frozen=True)
class RealClip:
    path: Path
    content: str
    style: str
    number: int

    @property
    def split(self) -> str:
        """Disjoint by take number: every 10th take is test, the 5th of each ten is validation."""
        return "test" if self.number % 10 == 0 else ("val" if self.number % 10 == 5 else "train")


def index_clips(folder: str | Path) -> list[RealClip]:
    """Every converted clip (`.npz`) of the folder whose name parses; sorted, so runs repeat."""
    clips = []
    for path in sorted(Path(folder).glob("dataset-2_*.npz")):
        m = NAME.match(path.stem)
        if m and m["content"] in CONTENTS and m["style"] in STYLES:
            clips.append(RealClip(path, m["content"], m["style"], int(m["n"])))
    return clips


def side_from_joints(motion: Motion) -> str:
    """Which hand goes up: the truth the name is checked against (both within 25 cm)."""
    top = (
        motion.joints[:, [J["left_wrist"], J["right_wrist"]], 1].max(axis=0)
        - motion.joints[:, J["pelvis"], 1].min()
    )
    if abs(top[0] - top[1]) < 0.25:
        return "both"
    return "left" if top[0] > top[1] else "right"


def label_clip(clip: RealClip, motion: Motion) -> dict | None:
    """The clip's segment dict (frames), or None when the joints contradict the name."""
    action, side, direction, signal = CONTENTS[clip.content]
    if action in ("wave", "arm_raise") and side_from_joints(motion) != side:
        return None
    reps = count_repetitions(motion, signal=signal)
    if reps.count == 0:
        return None
    return {
        "action": action,
        "start": 0,
        "end": motion.num_frames,
        "reps": int(reps.count),
        "side": side,
        "direction": direction,
        "tempo": 1.0,
        "amplitude": 1.0,
        "style": clip.style,
        "energy": ENERGY[clip.style],
        "rep_peaks": [int(p) for p in reps.peak_frames],
        "source": LICENSE,
    }


def reversed_walk(motion: Motion, seg: dict) -> tuple[Motion, dict] | None:
    """A forward walk played backwards: a person walking backwards while facing forward.

    ds2 has no backward walking, and users film it (gait retraining, warm-ups). The frames run in
    reverse, so the feet still touch down and lift off; the label says "backward", and the clip is
    kept only when the joints agree (the pelvis travels behind the initial facing)."""
    if seg["action"] != "walk" or seg["direction"] != "forward":
        return None
    joints = motion.joints[::-1].copy()
    out = Motion.from_joints(joints, motion.fps)
    if travel(out.joints.astype(np.float64), float(out.fps)).direction != "backward":
        return None
    last = motion.num_frames - 1
    rev = dict(seg, direction="backward", rep_peaks=sorted(last - p for p in seg["rep_peaks"]))
    return out, rev


def spans_from_peaks(peaks: list[int], num_frames: int) -> list[list[int]]:
    """Each repetition's frames: from midway after the previous peak to midway before the next
    (the ends extend by half the median gap), for the encoder's phase and density targets."""
    if not peaks:
        return []
    half = int(np.median(np.diff(peaks)) // 2) if len(peaks) > 1 else max(1, num_frames // 4)
    cuts = [max(0, peaks[0] - half)]
    cuts += [(a + b) // 2 for a, b in zip(peaks, peaks[1:], strict=False)]
    cuts.append(min(num_frames, peaks[-1] + half + 1))
    return [[cuts[i], cuts[i + 1]] for i in range(len(peaks))]


def _align(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """Move `nxt` on the floor so that its first pelvis position is `prev`'s last one."""
    shift = prev[-1, J["pelvis"]] - nxt[0, J["pelvis"]]
    shift[1] = 0.0
    return nxt + shift


def compose(parts: list[tuple[Motion, dict]], fps: float = 20.0) -> Motion:
    """Clips end to end, each join cross-faded over `BLEND_S`; segment frames follow the shifts."""
    joints = parts[0][0].joints.astype(np.float32)
    segments = [dict(parts[0][1])]
    blend = max(1, int(round(BLEND_S * fps)))
    for motion, seg in parts[1:]:
        nxt = _align(joints, motion.joints.astype(np.float32))
        k = min(blend, len(joints) // 2, len(nxt) // 2)
        w = np.linspace(0.0, 1.0, k, dtype=np.float32)[:, None, None]
        mixed = joints[len(joints) - k :] * (1 - w) + nxt[:k] * w
        offset = len(joints) - k
        joints = np.concatenate([joints[: len(joints) - k], mixed, nxt[k:]])
        s = dict(seg)
        s["start"], s["end"] = offset, offset + len(nxt)
        s["rep_peaks"] = [p + offset for p in seg["rep_peaks"]]
        segments.append(s)
    for a, b in zip(segments, segments[1:], strict=False):  # a segment ends where the next starts
        a["end"] = b["start"]
    out = Motion.from_joints(joints, fps)
    out.meta["labels"] = {
        "segments": [{k: v for k, v in s.items() if k != "rep_peaks"} for s in segments],
        "rep_peaks": [p for s in segments for p in s["rep_peaks"]],
        "rep_spans": [],
        "source": LICENSE,
    }
    out.meta["labels"]["rep_spans"] = spans_from_peaks(out.meta["labels"]["rep_peaks"], len(joints))
    out.meta["real"] = {"parts": len(parts)}
    return out
