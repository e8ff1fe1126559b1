"""The batched scheduler (llamo.serving): the same answers as sessions decoded one by one,
streaming, stop, sampling settings, joins and leaves between steps."""

from __future__ import annotations

import threading

import pytest

from llamo.chat import ChatSession
from llamo.serving import Scheduler
from llamo.testing import random_walk, tiny_model

QUESTIONS = ["What is the person doing?", "How many?", "Which arm moves more, left or right?", "Why?"]


def _one_by_one(model, clips, questions, **kw):
    sessions = [ChatSession(model, c) for c in clips]
    for turn in questions:
        for s, q in zip(sessions, turn, strict=True):
            list(s.ask(q, **kw))
    return sessions


def _batched(model, clips, questions, **kw):
    """Each session asks from its own thread, all at once, through one scheduler."""
    sched = Scheduler(model)
    sessions = [ChatSession(model, c) for c in clips]
    deltas = [[] for _ in sessions]
    try:
        for turn in questions:
            barrier = threading.Barrier(len(sessions))

            def worker(i, q, barrier=barrier):
                barrier.wait()
                deltas[i].append("".join(sched.ask(sessions[i], q, **kw)))

            threads = [threading.Thread(target=worker, args=(i, q)) for i, q in enumerate(turn)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        sched.close()
    return sessions, deltas, sched


@pytest.mark.parametrize("mode", ["cross_talker", "all_frames"])
def test_batched_greedy_equals_one_by_one(mode):
    model = tiny_model(mode, k=4, seed=2)
    clips = [random_walk(40 + 20 * i, seed=i) for i in range(4)]
    questions = [QUESTIONS, QUESTIONS[::-1]]  # two turns: the second reuses each session's cache
    lengths = {"max_new_tokens": 10}
    ref = _one_by_one(model, clips, questions, **lengths)
    got, deltas, sched = _batched(model, clips, questions, **lengths)
    for r, g, d in zip(ref, got, deltas, strict=True):
        assert [rec.answer_ids for rec in g._records] == [rec.answer_ids for rec in r._records]
        assert g.kv.fed == r.kv.fed
        assert d == [t.answer for t in g.turns]
        assert [t.timings["new_tokens"] for t in g.turns] == [t.timings["new_tokens"] for t in r.turns]
        assert [t.timings["input_tokens"] for t in g.turns] == [t.timings["input_tokens"] for t in r.turns]
    assert sched.prefilled_together > 0  # some turns that arrived together shared one prefill
    assert sched.rows_stepped > sched.steps  # rows did share forwards


def test_rows_of_different_lengths_join_and_leave():
    """Sessions with different max_new_tokens leave at different steps; a later one joins."""
    model = tiny_model("cross_talker", k=4, seed=3)
    clips = [random_walk(40, seed=i) for i in range(3)]
    ref = [ChatSession(model, c) for c in clips]
    for s, n in zip(ref, (3, 9, 6), strict=True):
        list(s.ask("What?", max_new_tokens=n, min_new_tokens=n))
    sched = Scheduler(model)
    got = [ChatSession(model, c) for c in clips]
    streams = [
        sched.ask(s, "What?", max_new_tokens=n, min_new_tokens=n) for s, n in zip(got, (3, 9, 6), strict=True)
    ]
    try:
        first = next(streams[0], None)  # the first joins alone ...
        texts = [(first or "") + "".join(streams[0])] + [
            "".join(s) for s in streams[1:]
        ]  # ... the rest join later
    finally:
        sched.close()
    assert [s._records[0].answer_ids for s in got] == [s._records[0].answer_ids for s in ref]
    assert texts == [s.last_turn.answer for s in ref]


def test_stop_sampling_settings_and_regenerate():
    model = tiny_model("cross_talker", k=4, seed=4)
    sched = Scheduler(model)
    try:
        a, b = ChatSession(model, random_walk(40, seed=1)), ChatSession(model, random_walk(40, seed=2))
        stop = threading.Event()
        stream = sched.ask(a, "Talk.", max_new_tokens=50, min_new_tokens=50, stop=stop)
        other = sched.ask(b, "Talk.", temperature=0.9, top_p=0.8, seed=7, max_new_tokens=8, min_new_tokens=8)
        next(stream)
        stop.set()
        list(stream)
        assert a.last_turn.partial and a.last_turn.timings["new_tokens"] < 50
        sampled = "".join(other)
        ref = ChatSession(model, random_walk(40, seed=2))
        assert sampled == "".join(
            ref.ask("Talk.", temperature=0.9, top_p=0.8, seed=7, max_new_tokens=8, min_new_tokens=8)
        )
        greedy = a._records[-1].answer_ids
        list(sched.regenerate(a, max_new_tokens=5, min_new_tokens=5))
        n = min(5, len(greedy))  # greedy again: the same start as the stopped answer
        assert len(a.turns) == 1 and a._records[-1].answer_ids[:n] == greedy[:n]
        closed = sched.ask(b, "More?", max_new_tokens=30, min_new_tokens=30)
        next(closed)
        closed.close()  # the caller went away: the turn ends, partial, and is saved
        assert b.last_turn.partial and b.last_turn.timings["new_tokens"] < 30
    finally:
        sched.close()


def test_an_error_reaches_its_caller_and_the_others_go_on():
    from llamo.errors import LlamoError

    model = tiny_model("cross_talker", k=4, seed=5, max_positions=96)
    sched = Scheduler(model)
    try:
        ok, bad = ChatSession(model, random_walk(40, seed=1)), ChatSession(model, random_walk(40, seed=2))
        with pytest.raises(LlamoError, match="context"):
            list(sched.ask(bad, "why " * 60, max_new_tokens=8))
        ref = ChatSession(model, random_walk(40, seed=1))
        assert "".join(sched.ask(ok, "What?", max_new_tokens=6)) == "".join(
            ref.ask("What?", max_new_tokens=6)
        )
    finally:
        sched.close()
    with pytest.raises(LlamoError, match="closed"):
        list(sched.ask(ok, "again?"))


@pytest.mark.slow
def test_default_backbone_batched_greedy_is_token_identical():
    """The real default model, 4 sessions with different clips and questions, two turns each,
    natural lengths (rows leave at different steps): the same token ids as one by one."""
    from llamo.data.synth import synthesize
    from llamo.model import load_default

    model = load_default(device="cpu")
    clips = [
        synthesize(a, reps=2 + i % 2, seed=i)
        for i, a in enumerate(("squat", "jumping_jack", "lunge", "squat"))
    ]
    questions = [QUESTIONS, QUESTIONS[1:] + QUESTIONS[:1]]
    ref = _one_by_one(model, clips, questions, max_new_tokens=40)
    got, _, sched = _batched(model, clips, questions, max_new_tokens=40)
    for r, g in zip(ref, got, strict=True):
        assert [rec.answer_ids for rec in g._records] == [rec.answer_ids for rec in r._records]
        assert g.kv.fed == r.kv.fed
    assert sched.rows_stepped > sched.steps
    assert sched.prefilled_together > 0  # prefills shared a forward, and the answers stayed the same


def test_bench_serving_prints_both_ways(tmp_path, capsys):
    import json

    from bench.serving import main

    out = tmp_path / "serving.json"
    argv = ["--tiny", "--clients", "1,2", "--turns", "2", "--tokens", "3", "--think-s", "0.05", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "one-by-one" in text and "batched" in text and "ratio" in text and "threads pinned" in text
    assert "barrier: 2 questions" in text and "staggered: 2 questions" in text
    figures = json.loads(out.read_text())
    for arrival in ("barrier", "staggered"):
        runs = figures["runs"][arrival]["2"]
        assert runs["batched"]["tokens"] == runs["one-by-one"]["tokens"] == 2 * 2 * 3
        assert len(runs["batched"]["ttft"]) == 4
    assert any("tokens/s at 2 clients" in line for line in text.splitlines())


def test_staggered_clients_pause_and_ask_in_order():
    """Each staggered client asks its questions in order, after a pause, at its own pace."""
    import threading

    from bench.serving import QUESTIONS, staggered

    asked, lock = [], threading.Lock()

    def client(i, question):
        with lock:
            asked.append((i, question))

    wall = staggered(3, 2, client, think_s=0.05, seed=1)
    assert sorted(asked) == sorted((i, q) for i in range(3) for q in QUESTIONS[:2])
    for i in range(3):
        assert [q for j, q in asked if j == i] == list(QUESTIONS[:2])
    assert 0.0 < wall < 5.0


def test_a_prefill_shared_by_a_new_and_a_continuing_conversation():
    """One session with a cached turn and one with none, prefilled in one forward (the new one
    is all padding in the cache part): the same tokens as each decoded on its own."""
    from llamo.serving.prefill import prefill_together
    from llamo.serving.turn import Sampling

    model = tiny_model("cross_talker", k=4, seed=3)
    clips = [random_walk(50, seed=7), random_walk(70, seed=8)]
    ref = _one_by_one(model, clips, [["Hi?", "Why?"]], max_new_tokens=6)
    list(ref[0].ask("And then?", max_new_tokens=6))  # session 0 goes on; session 1 starts anew
    fresh = ChatSession(model, clips[1])
    got = [ChatSession(model, clips[0]), fresh]
    list(got[0].ask("Hi?", max_new_tokens=6))
    dec = [got[0].begin("And then?", False, Sampling(max_new_tokens=6), defer_prefill=True),
           fresh.begin("Why?", False, Sampling(max_new_tokens=6), defer_prefill=True)]  # fmt: skip
    out = prefill_together(model, got)
    for session, d, p, want in zip(got, dec, out, [ref[0], ref[1]], strict=True):
        d.logits = p.logits
        while not d.done:
            d.step(d.logits)
            if not d.done:
                d.logits = session._forward_one(d.token)
        session.end(d)
        assert session._records[-1].answer_ids == want._records[-1].answer_ids
        assert session.kv.fed == want.kv.fed


def test_batch_cache_rows_survive_joins_leaves_and_steps():
    """Rows read back after `extended`, `keep` (the longest row leaving trims the padding) and
    appended steps are the session caches they came from, plus what each step wrote."""
    import torch
    from transformers import DynamicCache

    from llamo.serving.batch_cache import BatchCache

    gen = torch.Generator().manual_seed(0)

    def cache(n):
        return DynamicCache(ddp_cache_data=[(torch.randn(1, 2, n, 4, generator=gen),) * 2 for _ in range(3)])

    caches = [cache(n) for n in (5, 9, 3)]
    batch = BatchCache(caches[:2], room=2).extended([caches[2]], room=2)
    step = [torch.randn(3, 2, 1, 4, generator=gen) for _ in range(3)]
    for li, layer in enumerate(batch.cache.layers):  # one decode step's keys and values, as a forward does
        layer.update(step[li], step[li])
    batch.advance({"attention_mask": torch.cat([batch.mask, torch.ones(3, 1, dtype=torch.long)], 1)})
    batch.keep([0, 2])  # the longest row (9) leaves: its padding columns go
    assert batch.mask.shape == (2, 6) and batch.lengths == [6, 4]
    assert batch.mask.tolist() == [[1] * 6, [0, 0, 1, 1, 1, 1]]
    for row, (src, i) in enumerate(((caches[0], 0), (caches[2], 2))):
        got = batch.row(row)
        for li, layer in enumerate(src.layers):
            want = torch.cat([layer.keys, step[li][i : i + 1]], -2)
            assert torch.equal(got.layers[li].keys, want) and torch.equal(got.layers[li].values, want)
    assert torch.equal(batch.cache.layers[0].keys[1, :, :2], torch.zeros(2, 2, 4))  # padding is zeros
