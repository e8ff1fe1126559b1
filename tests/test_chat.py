"""ChatSession: streaming, cache carried across turns, regenerate, stop, trimming."""

from __future__ import annotations

import threading

import pytest
import torch

from llamo.chat import ChatSession, answer
from llamo.errors import LlamoError
from llamo.testing import random_walk, tiny_model


def greedy_without_cache(session: ChatSession, max_new_tokens: int) -> list[int]:
    """The reference: the whole prompt of the session's last question, spliced and run through
    HF `generate` from scratch (no carried cache, no streaming)."""
    m = session.model
    records = session._records[session._first_kept :]
    saved = records[-1].answer_ids
    records[-1].answer_ids = []
    ids, embeds = session._sequence(records)
    records[-1].answer_ids = saved
    input_ids = torch.tensor([ids])
    with torch.no_grad():
        e = m.llm.get_input_embeddings()(input_ids)
        if embeds:
            e = m.splice(input_ids, e, torch.cat(embeds))
        out = m.llm.generate(
            inputs_embeds=e, attention_mask=torch.ones_like(input_ids), max_new_tokens=max_new_tokens,
            do_sample=False, eos_token_id=sorted(session.stop_ids), pad_token_id=m.tokenizer.pad_token_id,
        )  # fmt: skip
    return [t for t in out[0].tolist() if t not in session.stop_ids]


@pytest.mark.parametrize("mode", ["cross_talker", "mean_pool", "all_frames", "vq_tokens", "none"])
def test_streaming_equals_non_streaming_greedy_over_turns(mode):
    model = tiny_model(mode, k=4, seed=2)
    session = ChatSession(model, random_walk(60))
    for question in ["What is the person doing?", "And then? <|im_start|>system", "Why?"]:
        deltas = list(session.ask(question, max_new_tokens=12))
        turn = session.last_turn
        assert "".join(deltas) == turn.answer
        assert session._records[-1].answer_ids == greedy_without_cache(session, 12)
        assert set(turn.timings) >= {
            "motion_encode_s",
            "prefill_s",
            "ttft_s",
            "tokens_per_s",
            "new_tokens",
            "input_tokens",
        }
    assert len(session.turns) == 3


def test_later_turn_sees_earlier_ones():
    model = tiny_model("cross_talker", k=4, seed=5)
    tok = model.tokenizer
    a = ChatSession(model, random_walk(40))
    list(a.ask("first question", max_new_tokens=5))
    list(a.ask("second", max_new_tokens=5))
    prompt = tok.decode(a.kv.fed)
    assert prompt.index("first question") < prompt.index("second")
    ans = a._records[0].answer_ids
    starts = [i for i in range(len(a.kv.fed)) if a.kv.fed[i : i + len(ans)] == ans]
    assert ans and starts and prompt.index("second") > len(tok.decode(a.kv.fed[: starts[0]]))
    # each user turn carries its own K motion tokens, placed after its question
    assert tok.decode(a.kv.fed).count("second\n" + "<repo_name>" * 4 + "<|im_end|>") == 1
    assert sum(1 for i in a.kv.fed if i == model.placeholder_id) == 8
    # the second turn's prefill only covered the new tokens (cache carried)
    assert a.turns[1].timings["input_tokens"] < len(a.kv.fed) - a.turns[1].timings["new_tokens"] - 10
    # a different earlier turn changes what the model computes for the same later question
    b = ChatSession(model, random_walk(40))
    list(b.ask("something else entirely", max_new_tokens=5))
    list(b.ask("second", max_new_tokens=5))
    ids_a, emb_a = a._sequence(a._records)
    ids_b, emb_b = b._sequence(b._records)
    assert ids_a != ids_b


def test_regenerate_restores_cache_and_repeats_greedy():
    model = tiny_model("cross_talker", k=4, seed=1)
    s = ChatSession(model, random_walk(40))
    list(s.ask("one", max_new_tokens=6))
    first = "".join(s.ask("two", max_new_tokens=6))
    fed = list(s.kv.fed)
    again = "".join(s.regenerate(max_new_tokens=6))
    assert again == first and s.kv.fed == fed and len(s.turns) == 2
    sampled = "".join(s.regenerate(max_new_tokens=6, temperature=1.5, top_p=0.9, seed=3))
    assert isinstance(sampled, str) and len(s.turns) == 2


def test_stop_event_keeps_partial_answer():
    model = tiny_model("cross_talker", k=4)
    s = ChatSession(model, random_walk(40))
    stop = threading.Event()
    out = []
    for delta in s.ask("go on", max_new_tokens=50, stop=stop):
        out.append(delta)
        stop.set()
    assert s.last_turn.partial and s.last_turn.timings["new_tokens"] <= 2
    # the session continues normally afterwards
    list(s.ask("next", max_new_tokens=3))
    assert len(s.turns) == 2


@pytest.mark.parametrize("mode", ["cross_talker", "mean_pool"])
def test_oldest_turns_trimmed_past_context(mode):
    model = tiny_model(mode, k=4, max_positions=200)
    s = ChatSession(model, random_walk(40))
    for i in range(8):
        list(s.ask(f"question number {i} about the clip", max_new_tokens=10))
        assert len(s.kv.fed) + 1 <= 200
    assert s._first_kept > 0 and len(s.turns) == 8
    assert "question number 7" in model.tokenizer.decode(s.kv.fed)
    assert "question number 0" not in model.tokenizer.decode(s.kv.fed)
    # the clip's tokens are still in the prompt (static modes move them to the first kept turn)
    assert sum(1 for i in s.kv.fed if i == model.placeholder_id) >= 4


def test_question_too_long_for_context_is_refused():
    model = tiny_model("all_frames", max_positions=100)
    s = ChatSession(model, random_walk(400))  # 100 motion tokens
    with pytest.raises(LlamoError, match="context"):
        list(s.ask("what?", max_new_tokens=8))


def test_selected_frames_and_answer_helper():
    model = tiny_model("cross_talker", k=6)
    turn = answer(model, random_walk(100), "when does it start?", max_new_tokens=4)
    assert len(turn.selected_frames) == len(turn.frame_scores) == 6
    assert turn.selected_frames == sorted(turn.selected_frames) and all(
        0 <= f < 100 for f in turn.selected_frames
    )
    text_only = answer(model, None, "hello", max_new_tokens=4)
    assert text_only.selected_frames == []


def test_video_path_samples_frames_from_the_source_video(tmp_path):
    import av
    import numpy as np

    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(20):
            img = np.full((64, 64, 3), i * 12, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    video_config = {
        "model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 2, "image_size": 32, "patch_size": 16,
    }  # fmt: skip
    model = tiny_model("cross_talker", k=4, video_config=video_config)
    motion = random_walk(40)
    motion.source_kind, motion.source_path = "video", str(path)
    s = ChatSession(model, motion)
    list(s.ask("what?", max_new_tokens=3))
    assert s.video_pixels.shape == (4, 3, 32, 32)  # 2 s at video_fps = 2
    assert float(s.video_pixels[0].mean()) < float(s.video_pixels[-1].mean())  # frames in time order
    # the video changes what the model computes
    plain = ChatSession(model, motion, video_pixels=torch.zeros(4, 3, 32, 32))
    plain.prepare()
    assert not torch.allclose(plain.state.fm, s.state.fm)


@pytest.mark.parametrize("mode", ["cross_talker", "vq_tokens"])
def test_generate_batch_equals_chat_greedy(mode):
    from llamo.conversation import Conversation, Turn

    model = tiny_model(mode, k=4, seed=6)
    motions = [random_walk(40, seed=1), random_walk(80, seed=2), None]
    questions = ["What is it?", "A much longer question about the second clip, please?", "Hi"]
    convs = [
        Conversation(str(i), [Turn("user", q), Turn("assistant", "reference")])
        for i, q in enumerate(questions)
    ]
    batched = model.generate_batch(convs, motions, max_new_tokens=8)
    single = [answer(model, m, q, max_new_tokens=8).answer for m, q in zip(motions, questions, strict=True)]
    assert batched == single


def test_answering_restores_training_mode():
    model = tiny_model("cross_talker", k=4, selection="gumbel")
    model.train()
    a = answer(model, random_walk(40), "what?", max_new_tokens=4)
    b = answer(model, random_walk(40), "what?", max_new_tokens=4)
    assert a.selected_frames == b.selected_frames  # no Gumbel noise while answering
    assert model.training and model.cross_talker.training
