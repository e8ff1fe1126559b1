"""Training on a tiny random backbone: encoder pretraining learns, the LLM stages lower the loss,
checkpoints save, and an interrupted run resumes where it stopped."""

import hashlib
import json

import numpy as np
import pytest
import torch

from llamo.conversation import Conversation, Turn, write_jsonl
from llamo.data.instructions import InstructionData
from llamo.data.synthetic import write_synthetic
from llamo.data.targets import frame_targets
from llamo.model.summary import MotionHeads
from llamo.testing import tiny_backbone
from llamo.train.pretrain import aux_loss, make_aux_batch
from llamo.train.trainer import TrainConfig, build_model, train


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_synthetic(root / "train", n=12, seed=0, split="train", max_turns=1)
    write_jsonl(
        root / "chat.jsonl",
        [Conversation(id="c0", turns=[Turn("user", "Hi?"), Turn("assistant", "Hello!")])],
    )
    return root


def _cfg(tiny_data, out, **kw):
    base = dict(
        data=str(tiny_data / "train" / "data.jsonl"),
        out=str(out),
        text_data=str(tiny_data / "chat.jsonl"),
        d_model=32,
        encoder_layers=1,
        num_tokens=4,
        pretrain_steps=3,
        pretrain_batch_size=4,
        align_steps=2,
        instruct_steps=3,
        batch_size=2,
        save_every=1,
        log_every=1,
        device="cpu",
        system_prompt="S.",
    )
    base.update(kw)
    return TrainConfig(**base)


def test_frame_targets_density_sums_to_the_count(tiny_data):
    data = InstructionData(tiny_data / "train" / "data.jsonl")
    for i in range(len(data)):
        m = data.motion(i)
        t = frame_targets(m)
        total = sum(s["reps"] for s in m.meta["labels"]["segments"])
        assert t["density"].sum() == pytest.approx(total, abs=1e-4)
        assert len(t["action"]) == m.num_frames


def test_aux_pretraining_reduces_its_loss(tiny_data):
    data = InstructionData(tiny_data / "train" / "data.jsonl")
    cfg = _cfg(tiny_data, tiny_data / "unused")
    model = build_model(cfg, data, backbone=tiny_backbone())
    torch.manual_seed(0)
    heads = MotionHeads(cfg.d_model)
    enc = model.motion_encoder
    batch = make_aux_batch(
        model, [data.motion(i) for i in range(4)], max_frames=80, rng=np.random.default_rng(0)
    )
    opt = torch.optim.Adam(list(enc.parameters()) + list(heads.parameters()), lr=3e-3)
    losses = []
    for _ in range(12):
        h = enc(batch["features"], batch["mask"])
        loss, _ = aux_loss(heads, h, enc.downsample_mask(batch["mask"]), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.7 * losses[0]


@pytest.mark.slow
def test_llm_stage_lowers_the_loss(tiny_data, tmp_path):
    from accelerate import Accelerator

    from llamo.train.trainer import run_llm_stage

    data = InstructionData(tiny_data / "train" / "data.jsonl")
    cfg = _cfg(tiny_data, tmp_path, align_steps=8, batch_size=2, lr_align=3e-3, warmup=1, save_every=100)
    model = build_model(cfg, data, backbone=tiny_backbone())
    convs, motions = data.batch(range(2))

    def loss_now():
        model.eval()
        with torch.no_grad():
            return float(model(**model.collate(convs, motions)).loss)

    before = loss_now()
    run_llm_stage(model, "align", cfg, data, None, None, Accelerator(cpu=True), tmp_path, {})
    assert loss_now() < before


@pytest.mark.slow
def test_train_saves_and_resumes(tiny_data, tmp_path):
    out = tmp_path / "model"
    # interrupted: the instruct stage stops after its first step (a zero-minute budget)
    first = train(_cfg(tiny_data, out, max_minutes={"instruct": 0.0}), backbone=tiny_backbone())
    assert first["history"]["instruct"]["steps"] == 1
    info = json.loads((out / "state" / "info.json").read_text())
    assert (info["stage"], info["step"]) == ("instruct", 1)
    # resumed: continues the instruct stage from step 1 to its end, pretraining is not redone
    second = train(_cfg(tiny_data, out, resume=True), backbone=tiny_backbone())
    assert second["stages"] == ["instruct"]
    assert second["history"]["instruct"]["steps"] == 3
    assert "pretrain" in second["history"]  # carried over from the first run
    from llamo.model import Llamo

    model = Llamo.from_pretrained(out, backbone=tiny_backbone())
    assert model.lora_state == "adapter"
    assert np.isfinite(second["history"]["instruct"]["final_loss"])

    # packaged for shipping: fp16 modules and the adapter load back to (nearly) the same model
    from llamo.cli import main

    assert main(["package", str(out), "-o", str(tmp_path / "ckpt"), "--command", "pytest"]) == 0
    provenance = json.loads((tmp_path / "ckpt" / "provenance.json").read_text())
    assert provenance["command"] == "pytest" and provenance["steps"]["instruct"] == 3
    card = (tmp_path / "ckpt" / "README.md").read_text()  # the model card states the terms
    assert card.startswith("---\nlicense: other\n") and "not stated" in card and "`pytest`" in card
    assert not (tmp_path / "ckpt" / "adapter" / "README.md").exists()  # PEFT's template is gone
    # the same run packaged again gives the same file, so the same model sha in the store
    for i in range(3):
        assert main(["package", str(out), "-o", str(tmp_path / f"again{i}")]) == 0
    sums = {hashlib.sha256((tmp_path / d / "llamo_modules.safetensors").read_bytes()).hexdigest()
            for d in ("ckpt", "again0", "again1", "again2")}  # fmt: skip
    assert len(sums) == 1
    shipped = Llamo.from_pretrained(tmp_path / "ckpt", backbone=tiny_backbone())
    data = InstructionData(tiny_data / "train" / "data.jsonl")
    batch = model.collate(*data.batch([0, 1]), generation=True)
    with torch.no_grad():
        a, b = model.eval()(**batch).logits, shipped.eval()(**batch).logits
    assert torch.allclose(a, b, atol=2e-2) and not torch.equal(a, torch.zeros_like(a))

    # continued from the shipped package (how an annotation export trains the next model)
    nxt = train(_cfg(tiny_data, tmp_path / "next", init=str(tmp_path / "ckpt"), stage="instruct"),
                backbone=tiny_backbone())  # fmt: skip
    assert nxt["stages"] == ["instruct"] and "pretrain" not in nxt["history"]
    assert nxt["history"]["instruct"]["steps"] == 3 and np.isfinite(nxt["history"]["instruct"]["final_loss"])
    assert Llamo.from_pretrained(tmp_path / "next", backbone=tiny_backbone()).lora_state == "adapter"


def test_train_command_rejects_bad_budget(tiny_data, tmp_path, capsys):
    from llamo.cli import main

    code = main(
        [
            "train",
            "--data",
            str(tiny_data / "train" / "data.jsonl"),
            "-o",
            str(tmp_path),
            "--max-minutes",
            "x",
        ]
    )
    assert code == 2
    assert "STAGE=MINUTES" in capsys.readouterr().err


def test_evaluate_scores_the_summary_tokens_against_the_labels(tiny_data):
    """An untrained model's summary rows are scored, and hand-made rows score as they should."""
    from llamo.eval import _score_summary, evaluate, markdown

    data = InstructionData(tiny_data / "train" / "data.jsonl", limit=3)
    model = build_model(_cfg(tiny_data, tiny_data / "unused"), data, backbone=tiny_backbone())
    assert model.config.summary_tokens == 3  # the trainer's default
    report = evaluate(model, data, max_new_tokens=2)
    heads = report["summary_tokens"]
    assert heads["clips"] == 3 and 0.0 <= heads["sequence_exact"] <= 1.0
    assert "Summary tokens against the labels (3 clips)" in markdown({"synthetic": report})
    segments = [{"action": "squat", "reps": 4}, {"action": "wave", "reps": 6}]
    into = {"sequence": [], "count_exact": [], "count_obo": []}
    _score_summary([{"action": "squat", "count": 4.2}, {"action": "wave", "count": 4.6}], segments, into)
    _score_summary([{"action": "wave", "count": 6.0}], segments, into)
    assert into["sequence"] == [True, False]
    assert into["count_exact"] == [True, False, False, True]
    assert into["count_obo"] == [True, True, False, True]  # 5 for 6 is within one


def _module_state(model, name: str) -> dict:
    return {k: v.clone() for k, v in getattr(model, name).state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("train_encoder", [False, True])
def test_heads_stage_retrains_the_heads_of_a_trained_model(tiny_data, tmp_path, train_encoder):
    from llamo.model import Llamo
    from llamo.testing import tiny_checkpoint

    init = tiny_checkpoint(tmp_path / "init") / "ckpt"
    before = Llamo.from_pretrained(init)
    out = tmp_path / "heads"
    cfg = _cfg(tiny_data, out, stage="heads", init=str(init), pretrain_steps=3, train_encoder=train_encoder)
    summary = train(cfg)
    assert summary["stages"] == [] and summary["history"]["heads"]["steps"] == 3
    after = Llamo.from_pretrained(out)
    assert not _same(_module_state(before, "motion_heads"), _module_state(after, "motion_heads"))
    # The Cross Talker's input stays as it was unless the encoder is asked to train too.
    assert (
        _same(_module_state(before, "motion_encoder"), _module_state(after, "motion_encoder"))
        != train_encoder
    )
    assert _same(_module_state(before, "cross_talker"), _module_state(after, "cross_talker"))


def test_heads_stage_needs_a_trained_model(tiny_data, tmp_path):
    from llamo.errors import LlamoError

    with pytest.raises(LlamoError, match="--init"):
        train(_cfg(tiny_data, tmp_path / "x", stage="heads"), backbone=tiny_backbone())


def test_the_model_card_states_the_weights_terms():
    from llamo.train.model_card import model_card

    nc = model_card(
        {"license": "cc-by-nc-4.0", "steps": {"instruct": 300}, "seed": 17}, {"backbone": "default"}
    )
    assert "license: cc-by-nc-4.0\nbase_model: HuggingFaceTB/SmolLM2-135M-Instruct\n" in nc
    assert "non-commercial use only" in nc and "instruct 300 steps" in nc
    free = model_card({"license": "apache-2.0"}, {"backbone": "org/some-lm"})
    assert "base_model: org/some-lm" in free and "Apache-2.0" in free and "use only" not in free


def test_the_shipped_checkpoint_card_agrees_with_its_provenance():
    from pathlib import Path

    ckpt = Path(__file__).resolve().parents[1] / "assets" / "checkpoint"
    licence = json.loads((ckpt / "provenance.json").read_text())["license"]
    card = (ckpt / "README.md").read_text()
    assert card.startswith(f"---\nlicense: {licence}\n") and licence == "cc-by-nc-4.0"
    assert "non-commercial" in card and not (ckpt / "adapter" / "README.md").exists()


def test_the_synthetic_checkpoint_card_states_its_terms():
    from pathlib import Path

    ckpt = Path(__file__).resolve().parents[1] / "assets" / "checkpoint_synthetic"
    card = (ckpt / "README.md").read_text()
    assert card.startswith("---\nlicense: apache-2.0\n") and "Apache-2.0" in card
    assert not (ckpt / "adapter" / "README.md").exists()  # no PEFT template saying "More Information Needed"
