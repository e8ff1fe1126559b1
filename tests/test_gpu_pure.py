"""The ZeroGPU call is pure (issue 19.3): `app.chatting._stream`, the function `spaces.GPU`
wraps, leaves the tab's conversation as it was, gives the same greedy answer when called
twice on it, and hands back a conversation that carries the chat on (state survives between
calls, as it must when the call runs in another process)."""

import torch

from app.chatting import _stream
from llamo.chat import ChatSession
from llamo.serving.snapshot import Answered
from llamo.testing import random_motion, tiny_model

GREEDY = {"temperature": 0.0, "max_new_tokens": 12, "min_new_tokens": 12}


def _fingerprint(chat: ChatSession) -> tuple:
    """Everything a turn changes: turns, prompt records, fed ids, the KV cache's tensors."""
    layers = []
    if chat.kv.cache is not None:
        for layer in chat.kv.cache.layers:
            layers.append((layer.keys.clone(), layer.values.clone()))
    turns = [(t.question, t.answer, t.partial, list(t.selected_frames)) for t in chat.turns]
    records = [(r.question, list(r.answer_ids), r.cache_before) for r in chat._records]
    return turns, records, list(chat.kv.fed), layers, chat._first_kept


def _same(a: tuple, b: tuple) -> bool:
    (ta, ra, fa, la, ka), (tb, rb, fb, lb, kb) = a, b
    tensors = len(la) == len(lb) and all(
        torch.equal(x, y) and torch.equal(v, w) for (x, v), (y, w) in zip(la, lb, strict=True)
    )
    return ta == tb and ra == rb and fa == fb and ka == kb and tensors


def _call(chat, question, regenerate=False):
    items = list(_stream(chat, question, regenerate, dict(GREEDY)))
    assert isinstance(items[-1], Answered) and all(isinstance(i, str) for i in items[:-1])
    return "".join(items[:-1]), items[-1].chat


def test_gpu_call_leaves_its_inputs_unchanged_and_repeats():
    torch.manual_seed(0)
    model = tiny_model()
    chat = ChatSession(model, random_motion(40, seed=1))
    list(chat.ask("What is the person doing?", **GREEDY))  # a conversation with a cache already
    before = _fingerprint(chat)
    first, after_1 = _call(chat, "How many repetitions?")
    assert _same(_fingerprint(chat), before), "the GPU call mutated the tab's conversation"
    second, after_2 = _call(chat, "How many repetitions?")
    assert first == second and first
    assert _same(_fingerprint(after_1), _fingerprint(after_2))
    assert after_1 is not chat and after_1.model is model  # the model is shared, not copied
    _, _ = _call(after_1, "", regenerate=True)
    assert _same(_fingerprint(chat), before)


def test_state_survives_between_calls_as_in_place():
    """Two turns through the pure call, each on the conversation the last one returned, say
    exactly what the same two turns say on one ChatSession in place."""
    torch.manual_seed(0)
    model = tiny_model()
    motion = random_motion(40, seed=2)
    in_place = ChatSession(model, motion)
    expected = ["".join(in_place.ask(q, **GREEDY)) for q in ("What is it?", "And then?")]
    chat = ChatSession(model, motion)
    got = []
    for q in ("What is it?", "And then?"):
        text, chat = _call(chat, q)
        got.append(text)
    assert got == expected
    assert [t.answer for t in chat.turns] == expected
    assert chat.kv.fed == in_place.kv.fed


def test_bench_chat_on_cuda_refuses_in_one_sentence_without_a_gpu(capsys):
    import pytest

    from bench.chat import main

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal is for machines without it")
    rc = main(["--device", "cuda"])
    err = capsys.readouterr()
    text = err.err.strip().splitlines()[-1]
    assert rc != 0 and "Traceback" not in err.err
    assert text == "error: --device cuda needs CUDA, and this machine has no usable GPU; use --device cpu."
