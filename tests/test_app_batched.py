"""The app on the batched scheduler (issue 19.1): `AppConfig.batched` gives the core one
`llamo.serving.Scheduler`, and every tab's answer goes through it. Greedy answers are the same
as one by one, answers of tabs asked at once share batched steps, Stop and regenerate work
through it, ZeroGPU keeps one by one, and closing the core stops the scheduler."""

import os
import threading
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402

from annotations.store import Store  # noqa: E402
from app.config import AppConfig  # noqa: E402
from app.core import LlamoApp  # noqa: E402
from app.identity import Identity  # noqa: E402
from app.session import Session, Settings  # noqa: E402
from llamo.errors import LlamoError  # noqa: E402

CLIP = Path(__file__).resolve().parents[1] / "assets" / "examples" / "squat.npz"
ANA = Identity("ana", "annotator", "typed")
SHORT = Settings(max_new_tokens=12, min_new_tokens=12)
QUESTIONS = ("What is the person doing?", "How many repetitions?", "Which limb moves most?")


@pytest.fixture(scope="module")
def tiny():
    from llamo.testing import tiny_model

    return tiny_model()


def core_for(tiny, path: Path, batched: bool) -> LlamoApp:
    if not CLIP.is_file():
        pytest.skip(f"{CLIP} is not in this checkout")
    return LlamoApp(tiny, Store.open(path, announce=False), AppConfig(batched=batched))


def tabs(core: LlamoApp, n: int) -> list[Session]:
    sessions = [Session() for _ in range(n)]
    for s in sessions:
        core.open_file(s, CLIP)
    return sessions


def answers_at_once(core: LlamoApp, sessions: list[Session], question: str) -> list[str]:
    barrier = threading.Barrier(len(sessions))

    def tab(s: Session) -> None:
        barrier.wait()
        list(core.ask(s, question, SHORT, ANA))

    threads = [threading.Thread(target=tab, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [s.turns[-1].answer for s in sessions]


def test_batched_tabs_answer_as_one_by_one_and_share_steps(tiny, tmp_path):
    plain, batched = core_for(tiny, tmp_path / "a", False), core_for(tiny, tmp_path / "b", True)
    assert plain.scheduler is None and batched.scheduler is not None
    try:
        one, many = tabs(plain, 3), tabs(batched, 3)
        for q in QUESTIONS[:2]:  # the second turn continues each tab's own KV cache
            assert answers_at_once(batched, many, q) == answers_at_once(plain, one, q)
        sched = batched.scheduler
        assert sched.steps > 0 and sched.rows_stepped > sched.steps  # some steps carried several tabs
        turn = many[0].turns[-1]
        assert turn.turn_id is not None and len(turn.candidate_ids) == 1 and turn.timings["new_tokens"] == 12
    finally:
        batched.close()


def test_stop_and_regenerate_through_the_scheduler(tiny, tmp_path):
    core = core_for(tiny, tmp_path, True)
    try:
        (s,) = tabs(core, 1)
        long = Settings(max_new_tokens=400, min_new_tokens=400)
        for seen, _turn in enumerate(core.ask(s, QUESTIONS[0], long, ANA)):
            if seen == 2:
                assert core.stop(s, wait_s=0) == "stopping"  # the answer is still being written
        turn = s.turns[-1]
        assert turn.stopped and turn.partial and 0 < turn.timings["new_tokens"] < 400
        list(core.regenerate(s, SHORT, ANA))
        assert len(turn.candidate_ids) == 2 and not turn.stopped and turn.timings["new_tokens"] == 12
        assert core.stop(s) == "idle"
    finally:
        core.close()
    with pytest.raises(LlamoError, match="closed"):
        list(core.ask(s, QUESTIONS[1], SHORT, ANA))


def test_zerogpu_answers_one_by_one(tiny, tmp_path, monkeypatch):
    """ZeroGPU runs each GPU call in another process: no long-lived model thread there."""
    import app.core

    monkeypatch.setattr(app.core, "ON_ZEROGPU", True)
    assert core_for(tiny, tmp_path, True).scheduler is None
