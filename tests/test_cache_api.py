"""The transformers cache API in its current form: a chat (two turns, a regenerate), batched
generation, a LoRA checkpoint's load and the batched scheduler raise no FutureWarning or
DeprecationWarning and log no deprecation through transformers' logger (which reports the old
`past_key_values` output name once per process, so its once-cache is cleared first)."""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager

import pytest

from llamo.chat import ChatSession
from llamo.conversation import Conversation, Turn
from llamo.testing import random_walk, tiny_checkpoint, tiny_model


@contextmanager
def no_deprecations():
    """Deprecation warnings become errors; transformers' logged ones are collected and checked."""
    from transformers.utils import logging as hf_logging

    hf_logging.warning_once.cache_clear()
    logged: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            logged.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            warnings.simplefilter("error", DeprecationWarning)
            yield
    finally:
        logger.removeHandler(handler)
    assert not [m for m in logged if "deprecat" in m.lower()], logged


def _two_turns(model):
    session = ChatSession(model, random_walk(60))
    for question in ("What is the person doing?", "And then?"):
        assert list(session.ask(question, max_new_tokens=6))
    assert list(session.regenerate(max_new_tokens=6))
    first, second = (t.timings["input_tokens"] for t in session.turns)
    assert second < first  # only the new turn was prefilled: the cache carried over
    return session


def test_chat_uses_the_current_cache_api():
    model = tiny_model()
    with no_deprecations():
        _two_turns(model)
        convs = [Conversation("0", [Turn("user", "What is it?")]), Conversation("1", [Turn("user", "Hi")])]
        assert len(model.generate_batch(convs, [random_walk(40), None], max_new_tokens=5)) == 2


def test_generation_lora_and_scheduler_use_the_current_api(tmp_path):
    from llamo.model import Llamo
    from llamo.serving import Scheduler

    tiny_checkpoint(tmp_path)
    with no_deprecations():
        model = Llamo.from_pretrained(tmp_path / "ckpt")
        _two_turns(model)
        model.set_stage("instruct")  # a fresh LoRA adapter (peft), as training does
        model.eval()
        sched = Scheduler(model)
        try:
            session = ChatSession(model, random_walk(40))
            for question in ("What?", "Why?"):
                assert list(sched.ask(session, question, max_new_tokens=5))
        finally:
            sched.close()


@pytest.mark.slow
def test_real_backbone_chat_has_no_deprecation_warnings():
    """The default backbone (SmolLM2-135M-Instruct) and the shipped checkpoint, as the app runs them."""
    from llamo.model import load_default

    with no_deprecations():
        model = load_default(device="cpu")
        _two_turns(model)
