"""Instruction data about real clips: composition, labels checked against the joints, questions.
The Bandai-Namco dataset-2 cache is read in place (see docs/training.md) and skipped when absent."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from llamo.data.real import compose, reversed_walk, side_from_joints, spans_from_peaks
from llamo.data.real_questions import premise_answer, real_questions
from llamo.data.synth import synthesize
from llamo.evidence import measure
from llamo.motion import Motion

DS2 = Path.home() / ".cache/llamo/bandai_ds2/motions"


def _seg(motion, action, **kw):
    labels = motion.meta["labels"]["segments"][0]
    return {**labels, "action": action, "start": 0, "end": motion.num_frames, "style": "normal",
            "energy": "normal", "rep_peaks": list(motion.meta["labels"]["rep_peaks"]), **kw}  # fmt: skip


def test_compose_shifts_segments_and_blends_joins():
    a, b = (
        synthesize("squat", reps=2, seed=1, noise=False),
        synthesize("wave", reps=3, side="left", seed=1, noise=False),
    )
    out = compose([(a, _seg(a, "squat")), (b, _seg(b, "wave"))])
    segs = out.meta["labels"]["segments"]
    k = 6  # 0.3 s at 20 fps
    assert out.num_frames == a.num_frames + b.num_frames - k
    assert segs[0]["end"] == segs[1]["start"] == a.num_frames - k
    assert out.meta["labels"]["rep_peaks"][-1] == b.meta["labels"]["rep_peaks"][-1] + a.num_frames - k
    jump = np.abs(np.diff(out.joints[:, 0], axis=0)).max()  # the pelvis never teleports
    assert jump < 0.2


def test_spans_cover_each_peak():
    spans = spans_from_peaks([10, 30, 50], 70)
    assert all(a <= p < b for (a, b), p in zip(spans, [10, 30, 50], strict=True))
    assert spans[0][0] == 0 and spans[-1][1] == 61


def test_side_from_joints_matches_the_synthetic_truth():
    assert side_from_joints(synthesize("wave", reps=3, side="right", seed=2, noise=False)) == "right"
    assert side_from_joints(synthesize("arm_raise", reps=2, side="both", seed=2, noise=False)) == "both"


def test_false_premise_is_corrected_in_words():
    m = synthesize("wave", reps=3, side="left", seed=3, noise=False)
    text = premise_answer(_seg(m, "wave", reps=3, side="left"), "squats")
    assert text == "I see no squats; the person is waving with the left arm, 3 times."


def test_real_questions_ask_style_and_times_and_no_tempo():
    m = synthesize("wave", reps=4, side="right", seed=4, noise=False)
    rng = np.random.default_rng(0)
    kinds = {
        q.kind if hasattr(q, "kind") else q[0]
        for _ in range(20)
        for q in real_questions([_seg(m, "wave")], rng, "train", 20.0)
    }
    assert {"style", "premise", "when", "action"} <= kinds and "tempo" not in kinds


@pytest.mark.slow
def test_written_data_is_reproducible(tmp_path):
    if not DS2.is_dir():
        pytest.skip(f"the converted Bandai-Namco dataset-2 cache is not at {DS2} (docs/training.md)")
    from llamo.data.real_writer import RealDataConfig, write_real

    cfg = RealDataConfig(split="val", sequences=5)
    a = write_real(DS2, tmp_path / "a", cfg)
    b = write_real(DS2, tmp_path / "b", cfg)
    rows = [json.loads(line) for line in (tmp_path / "a/data.jsonl").read_text().splitlines()]
    assert a["conversations"] == b["conversations"] == len(rows) and a["licence"].startswith("CC BY-NC")
    assert (tmp_path / "a/data.jsonl").read_text().replace("/a/", "/b/") == (
        tmp_path / "b/data.jsonl"
    ).read_text().replace("/a/", "/b/")
    assert all(r["meta"]["split"] == "val" for r in rows)


def test_a_forward_walk_played_backwards_is_labelled_backward():
    walk = synthesize("walk", reps=8, direction="forward", seed=5, noise=False)
    seg = _seg(walk, "walk", direction="forward")
    motion, rev = reversed_walk(walk, seg)
    assert rev["direction"] == "backward" and rev["reps"] == seg["reps"]
    assert measure(motion).travel_direction == "backward"
    assert np.allclose(motion.joints[0], walk.joints[-1])
    last = walk.num_frames - 1
    assert rev["rep_peaks"] == sorted(last - p for p in seg["rep_peaks"])


def test_only_straight_walks_are_reversed():
    wave = synthesize("wave", reps=3, side="left", seed=5, noise=False)
    assert reversed_walk(wave, _seg(wave, "wave")) is None
    turn = synthesize("walk", reps=8, direction="turn_left", seed=5, noise=False)
    assert reversed_walk(turn, _seg(turn, "walk", direction="turn_left")) is None


def test_the_writer_adds_backward_walks_and_unnamed_questions(tmp_path):
    from llamo.conversation import read_jsonl
    from llamo.data.real_writer import RealDataConfig, write_real

    src = tmp_path / "clips"
    src.mkdir()
    synthesize("walk", reps=8, seed=6, noise=False).save(src / "dataset-2_walk_normal_001.npz")
    synthesize("wave", reps=3, side="left", seed=6, noise=False).save(
        src / "dataset-2_wave-left-hand_normal_002.npz"
    )
    cfg = RealDataConfig(sequences=2, reverse_walks=True, unnamed_share=0.5)
    summary = write_real(src, tmp_path / "out", cfg)
    convs = list(read_jsonl(tmp_path / "out/data.jsonl"))
    assert summary["clips"] == 3 and summary["reversed_walks"] == 1
    backward = [c for c in convs if "realrev-" in (c.motion or "") and "segments" in c.meta]
    assert backward and all(c.meta["segments"][0]["direction"] == "backward" for c in backward)
    unnamed = [c for c in convs if c.meta.get("unnamed")]
    assert len(unnamed) == int(0.5 * (len(convs) - len(unnamed)))
    assert all(c.turns[1].text.startswith("I can't name this movement.") for c in unnamed)
    assert all(c.meta["qa"][0]["kind"] == "action" for c in unnamed)


def _standing_source(folder: Path) -> Path:
    """Two standing training takes (numbers 2 and 3 are training takes), named as dataset 2 names them."""
    folder.mkdir()
    synthesize("wave", reps=3, side="left", seed=8, noise=False).save(
        folder / "dataset-2_wave-left-hand_normal_002.npz"
    )
    synthesize("arm_raise", reps=2, side="right", seed=8, noise=False).save(
        folder / "dataset-2_raise-up-right-hand_elderly_003.npz"
    )
    return folder


def test_grafted_kicks_are_labelled_with_the_leg_that_moves(tmp_path):
    from llamo.conversation import read_jsonl
    from llamo.data.graft_data import write_grafts

    summary = write_grafts(_standing_source(tmp_path / "clips"), tmp_path / "out", n=8, seed=3)
    convs = list(read_jsonl(tmp_path / "out/data.jsonl"))
    assert summary["conversations"] == len(convs) > 0 and sum(summary["sides"].values()) == len(convs)
    for conv in convs:
        seg = conv.meta["segments"][0]
        assert seg["action"] == "kick" and conv.meta["graft"]
        motion = Motion.load(conv.motion)
        assert measure(motion).leg_side == seg["side"]  # the joints agree with the label
        assert seg["reps"] == len(motion.meta["labels"]["rep_peaks"])
        # the standing take's own arm stays, so no "I see no waves/raises" premise is asked
        assert not any(q["kind"] in ("no_wave", "no_arm_raise") for q in conv.meta["qa"])


def test_grafts_need_standing_training_takes(tmp_path):
    from llamo.data.graft_data import write_grafts
    from llamo.errors import LlamoError

    src = tmp_path / "clips"
    src.mkdir()
    synthesize("walk", reps=8, seed=6, noise=False).save(src / "dataset-2_walk_normal_001.npz")
    with pytest.raises(LlamoError, match="no standing"):
        write_grafts(src, tmp_path / "out", n=4)


def test_append_keeps_the_mix_and_draws_per_side(tmp_path):
    from llamo.conversation import read_jsonl, write_jsonl
    from llamo.data.graft_data import write_grafts
    from llamo.data.mix import append_rows
    from llamo.errors import LlamoError

    write_grafts(_standing_source(tmp_path / "clips"), tmp_path / "g", n=16, seed=4)
    base = tmp_path / "base.jsonl"
    extra = list(read_jsonl(tmp_path / "g/data.jsonl"))
    write_jsonl(base, extra[:1])
    sides = Counter(c.meta["segments"][0]["side"] for c in extra)
    k = min(sides.values())
    (tmp_path / "mixes").mkdir()
    out = tmp_path / "mixes/out.jsonl"  # another folder: the motion paths must still resolve
    counts = append_rows(base, tmp_path / "g/data.jsonl", out, per_side=k, seed=1)
    rows = list(read_jsonl(out))
    assert counts == {"conversations": 1 + 2 * k, "base": 1, "appended": 2 * k}
    assert rows[0].id == extra[0].id and all(Path(r.motion).is_file() for r in rows)
    assert Counter(r.meta["segments"][0]["side"] for r in rows[1:]) == {"left": k, "right": k}
    again = append_rows(base, tmp_path / "g/data.jsonl", tmp_path / "again.jsonl", per_side=k, seed=1)
    assert again == counts and [r.id for r in read_jsonl(tmp_path / "again.jsonl")] == [r.id for r in rows]
    whole = append_rows(base, tmp_path / "g/data.jsonl", tmp_path / "all.jsonl")
    assert whole["appended"] == len(extra) == len(list(read_jsonl(tmp_path / "all.jsonl"))) - 1
    with pytest.raises(LlamoError, match="fewer than"):
        append_rows(base, tmp_path / "g/data.jsonl", out, per_side=max(sides.values()) + 1)
