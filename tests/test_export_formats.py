"""Exports in TRL's formats (and LLaVA's), and the Hugging Face `datasets` dataset with its card."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
import pytest
from test_annotations import accepted_store, conversation, motion

from annotations.__main__ import main
from annotations.export import FORMATS, export_dataset
from annotations.push import FEATURES, push_dataset
from annotations.store import Store
from llamo.errors import LlamoError

USER, ASSISTANT = "user", "assistant"


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "data", announce=False)
    yield s
    s.close()


def filled(store):
    """Ana's accepted fix of turn 0 (the model answered twice), Bea's unreviewed fix, Rui's rejection."""
    clip, ana, rui, conv, (t0, t1) = accepted_store(store)
    store.add_candidate(t0, "Five squats.", regenerated=True)
    _, bea, conv2, (u0, u1) = conversation(store, seed=1, who="bea")
    store.add_correction(u0, "Bea's answer.", annotator=bea)
    fix = store.add_correction(u1, "Bea two.", annotator=bea)
    store.review(fix, rui, accept=False)
    return conv, conv2


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "data.jsonl").read_text(encoding="utf-8").splitlines()]


def roles(messages: list[dict]) -> list[str]:
    assert all(set(m) == {"role", "content"} and isinstance(m["content"], str) for m in messages)
    return [m["role"] for m in messages]


def export(store, tmp_path, fmt) -> list[dict]:
    export_dataset(store, tmp_path / fmt, fmt, status=["accepted", "corrected"])
    out = rows(tmp_path / fmt)
    assert out and all((tmp_path / fmt / r["motion"]).is_file() for r in out)
    return out


def test_every_format_is_known():
    assert FORMATS == ("llava", "messages", "prompt-completion", "dpo", "kto")


def test_llava_and_messages_rows(store, tmp_path):
    filled(store)
    for r in export(store, tmp_path, "llava"):
        assert set(r) == {"id", "motion", "conversations", "meta"}
        assert [m["from"] for m in r["conversations"]] == ["human", "gpt"] * 2
        assert r["conversations"][0]["value"].startswith("<motion>\n")
    for r in export(store, tmp_path, "messages"):
        assert set(r) == {"id", "motion", "messages", "meta"}
        assert [m["role"] for m in r["messages"]] == [USER, ASSISTANT] * 2
        assert all(set(m) == {"role", "content", "train"} for m in r["messages"] if m["role"] == ASSISTANT)


def test_prompt_completion_rows(store, tmp_path):
    conv, conv2 = filled(store)
    out = export(store, tmp_path, "prompt-completion")
    assert [r["id"] for r in out] == [f"{conv.uid}-0", f"{conv2.uid}-0"]
    for r in out:
        assert set(r) == {"id", "motion", "prompt", "completion", "meta"}
        assert roles(r["prompt"]) == [USER] and roles(r["completion"]) == [ASSISTANT]
        assert r["prompt"][0]["content"].startswith("<motion>\n")
    assert [r["completion"][0]["content"] for r in out] == ["Four squats.", "Bea's answer."]


def test_dpo_rows_have_an_explicit_prompt(store, tmp_path):
    conv, conv2 = filled(store)
    out = export(store, tmp_path, "dpo")
    for r in out:
        assert set(r) == {"id", "motion", "prompt", "chosen", "rejected", "meta"}
        assert roles(r["prompt"]) == [USER]
        assert roles(r["chosen"]) == roles(r["rejected"]) == [ASSISTANT]
        assert r["chosen"] != r["rejected"]
    assert [(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in out] == [
        ("Four squats.", "model answer to How many squats?"),
        ("Four squats.", "Five squats."),
        ("Bea's answer.", "model answer to How many squats?"),
    ]


def test_kto_rows_label_accepted_true_and_replaced_model_answers_false(store, tmp_path):
    conv, _ = filled(store)
    out = export(store, tmp_path, "kto")
    for r in out:
        assert set(r) == {"id", "motion", "prompt", "completion", "label", "meta"}
        assert roles(r["prompt"]) == [USER] and roles(r["completion"]) == [ASSISTANT]
        assert isinstance(r["label"], bool)
    mine = [(r["completion"][0]["content"], r["label"]) for r in out if r["id"].startswith(conv.uid)]
    assert mine == [
        ("Four squats.", True),
        ("model answer to How many squats?", False),
        ("Five squats.", False),
    ]
    assert len({r["id"] for r in out}) == len(out)
    assert json.loads((tmp_path / "kto" / "dataset_info.json").read_text())["train_with"] is None


def test_later_turns_carry_the_dialogue_before_them(store, tmp_path):
    clip, ana, rui, conv, (t0, t1) = accepted_store(store)
    store.review(store.add_correction(t1, "The left knee.", annotator=ana), rui, accept=True)
    pc = export(store, tmp_path, "prompt-completion")
    assert [roles(r["prompt"]) for r in pc] == [[USER], [USER, ASSISTANT, USER]]
    assert (
        pc[1]["prompt"][1]["content"] == "Four squats."
        and pc[1]["completion"][0]["content"] == "The left knee."
    )
    kto = export(store, tmp_path, "kto")
    assert [r["label"] for r in kto] == [True, False, True, False]


# --- the Hugging Face dataset ----------------------------------------------------------------


def test_push_to_dir_round_trips_motions_and_every_response(store, tmp_path):
    conv, conv2 = filled(store)
    summary = push_dataset(store, "org/motion-qa", out=tmp_path / "hf")
    assert (summary.rows, summary.conversations, summary.clips, summary.license) == (4, 2, 2, "other")
    ds = datasets.load_from_disk(str(tmp_path / "hf"))
    assert ds.features["motion"] == datasets.Array3D(shape=(None, 22, 3), dtype="float32")
    assert set(ds.column_names) == set(FEATURES)
    got = ds.with_format("numpy")
    for i, seed in enumerate((0, 0, 1, 1)):
        assert got[i]["motion"].shape == (40, 22, 3) and got[i]["motion"].dtype == np.float32
        np.testing.assert_array_equal(got[i]["motion"], motion(seed).joints)
        assert got[i]["fps"] == 20.0
    by_id = {r["id"]: r for r in ds}
    assert by_id[f"{conv.uid}-0"]["question"] == "How many squats?"
    assert by_id[f"{conv.uid}-0"]["model_answer"] == "Five squats."
    assert by_id[f"{conv.uid}-0"]["responses"] == [
        {"user_id": "ana", "value": "Four squats.", "status": "accepted"}
    ]
    assert by_id[f"{conv2.uid}-0"]["responses"] == [
        {"user_id": "bea", "value": "Bea's answer.", "status": "submitted"}
    ]
    assert by_id[f"{conv2.uid}-1"]["responses"] == [
        {"user_id": "bea", "value": "Bea two.", "status": "rejected"}
    ]
    assert by_id[f"{conv.uid}-1"]["responses"] == [] and by_id[f"{conv.uid}-1"]["status"] == "unreviewed"


def test_push_keeps_each_annotators_latest_response(store, tmp_path):
    clip, ana, rui, conv, (t0, t1) = accepted_store(store)
    bea = store.get_or_create_annotator("bea")
    store.add_correction(t0, "Three squats.", annotator=bea)
    store.add_correction(t0, "Four squats, slowly.", annotator=ana)
    push_dataset(store, out=tmp_path / "hf")
    row = datasets.load_from_disk(str(tmp_path / "hf"))[0]
    assert row["responses"] == [
        {"user_id": "ana", "value": "Four squats, slowly.", "status": "submitted"},
        {"user_id": "bea", "value": "Three squats.", "status": "submitted"},
    ]


def test_saved_parquet_loads_with_load_dataset(store, tmp_path):
    filled(store)
    push_dataset(store, "org/x", out=tmp_path / "hf")
    datasets.load_from_disk(str(tmp_path / "hf")).to_parquet(str(tmp_path / "train.parquet"))
    back = datasets.load_dataset(
        "parquet",
        data_files=str(tmp_path / "train.parquet"),
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    assert back.features["motion"] == FEATURES["motion"]
    np.testing.assert_array_equal(back.with_format("numpy")[0]["motion"], motion(0).joints)


def test_card_names_the_licence_task_and_how_it_was_made(store, tmp_path):
    filled(store)
    push_dataset(store, "org/motion-qa", out=tmp_path / "hf", license="cc-by-4.0")
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    head = card.split("---")[1]
    assert "license: cc-by-4.0" in head and "question-answering" in head and "size_categories" in head
    assert "## How it was made" in card and "# org/motion-qa" in card
    nc = store.add_clip(motion(5), None, "import", meta={"licence": "CC BY-NC 4.0 (Bandai-Namco)"})
    ana = store.get_or_create_annotator("ana")
    turn = store.add_turn(store.start_conversation(nc, ana), "What is the person doing?")
    store.add_candidate(turn, "Dancing.")
    s = push_dataset(store, "org/motion-qa", out=tmp_path / "hf2", license="cc-by-4.0")
    card = (tmp_path / "hf2" / "README.md").read_text(encoding="utf-8")
    assert s.license == "cc-by-nc-4.0" and "license: cc-by-nc-4.0" in card.split("---")[1]
    assert "1 of the 3 clips come from a CC BY-NC source" in card


def test_push_is_private_by_default_and_refuses_bad_targets(store, tmp_path, monkeypatch):
    filled(store)
    calls = []
    monkeypatch.setattr(
        "huggingface_hub.HfApi.create_repo", lambda self, repo, **kw: calls.append(("repo", kw))
    )
    monkeypatch.setattr("huggingface_hub.HfApi.upload_file", lambda self, **kw: calls.append(("card", kw)))
    monkeypatch.setattr(
        "datasets.Dataset.push_to_hub", lambda self, repo, **kw: calls.append(("data", len(self), repo, kw))
    )
    assert push_dataset(store, "org/motion-qa").private is True
    assert [c[0] for c in calls] == ["repo", "card", "data"]
    assert calls[0][1]["private"] is True and calls[2] == ("data", 4, "org/motion-qa", {"private": True})
    assert calls[1][1]["path_in_repo"] == "README.md"
    calls.clear()
    assert main(["--data-dir", str(store.data_dir), "push", "--repo", "org/x", "--public"]) == 0
    assert calls[2][3] == {"private": False}
    with pytest.raises(LlamoError, match="ORG/NAME"):
        push_dataset(store, "no-slash")
    with pytest.raises(LlamoError, match="--repo"):
        push_dataset(store)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(LlamoError, match="not empty"):
        push_dataset(store, out=tmp_path / "full")
