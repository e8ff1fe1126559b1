"""Exports in TRL's formats (and LLaVA's), and the Hugging Face `datasets` dataset with its card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_annotations import accepted_store, conversation

from annotations.export import FORMATS, export_dataset
from annotations.store import Store

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
