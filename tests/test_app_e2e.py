"""End to end through gradio_client on the real default model (SmolLM2-135M backbone): the squat
video -> views -> two streamed turns -> stop -> regenerate -> correction -> export; and ten
clients at once on the same clip, every answer complete and every correction stored."""

import json
import os
import threading
import time
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402
from conftest import SLOW_MACHINE  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

pytestmark = pytest.mark.slow
GREEDY = (0.0, 1.0, 24, -1)  # temperature, top_p, max new tokens, seed


def file_path(value) -> str:
    """A file output as gradio_client gives it: a path, or (in an update) nested dicts."""
    if isinstance(value, str):
        return value
    for key in ("value", "video", "path"):
        if isinstance(value, dict) and value.get(key):
            return file_path(value[key])
    raise AssertionError(f"no file in {value!r}")


def texts(chat) -> list[str]:
    return ["".join(b.get("text", "") for b in m["content"]) for m in chat]


def test_squat_video_chat_correct_export(served, shared_data):
    import av

    demo, url = served
    client = Client(url, verbose=False, httpx_kwargs=SLOW_MACHINE)
    out = client.predict(handle_file(str(shared_data / "videos" / "pose_squats.mp4")),
                         api_name="/open_video")  # fmt: skip
    summary, overlay, skeleton, glb, _, kinematics = out[:6]
    summary = summary.replace("\\", "")  # markdown escapes
    assert "pose_squats.mp4" in summary and "person in 100% of frames" in summary
    assert "Repetitions found" in summary
    overlay_path = file_path(overlay)
    with av.open(overlay_path) as f:
        assert f.streams.video[0].codec_context.name == "h264"  # plays in browsers
    assert Path(glb).read_bytes()[:4] == b"glTF"
    assert json.loads(skeleton["plot"])["layout"]["sliders"][0]["steps"]
    assert json.loads(kinematics["plot"])["data"]

    counts = []
    for q in ("What is the person doing?", "How many squats do they do?"):
        job = client.submit(q, *GREEDY, "ana", api_name="/ask")
        chat, notes = texts(job.result()[0]), job.result()[-2]  # the small print is beside the chat
        counts.append(len(job.outputs()))
    assert len(chat) == 4 and all(c > 3 for c in counts)
    assert "first token" in notes and "tok/s" in notes and "looked at" in notes

    # Stop: a long answer cut short keeps what was written, marked as stopped
    job = client.submit("Describe the whole movement in detail.", 0.0, 1.0, 512, -1, "ana", api_name="/ask")
    while len(job.outputs()) < 3 and not job.done():
        time.sleep(0.01)
    client.predict(api_name="/stop")
    assert "stopped" in job.result()[-2].split("**3.**")[-1]

    job = client.submit(0.8, 1.0, 24, 3, "ana", api_name="/regenerate")
    assert "regenerated ×1" in job.result()[-2].split("**3.**")[-1]
    chat, _, status, _ = client.predict(2, "She describes squats: down and up, three times.", 2, ["other"], "ana",
                                  api_name="/correct")  # fmt: skip
    assert "Saved correction" in status

    store = demo.llamo_core.store
    rows = store.list_turns(status="corrected")
    assert len(rows) == 1
    cands = store.candidates(rows[0].turn_id)
    assert [c.partial for c in cands][:1] == [True] and cands[-1].regenerated
    archive, summary_counts, _ = client.predict("dpo", "corrected", "", "ana", api_name="/export")
    row = json.loads(zipfile.ZipFile(archive).read("data.jsonl").decode().splitlines()[0])
    assert row["chosen"][-1]["content"] == "She describes squats: down and up, three times."
    rejected = json.dumps(row["rejected"], ensure_ascii=False)
    assert any(c.text.strip()[:15] in rejected for c in cands if c.text.strip())  # a model candidate


def test_ten_clients_at_once(served, tmp_path):
    from llamo.data.synth import synthesize

    demo, url = served
    clip = synthesize("squat", reps=3, seed=0).save(tmp_path / "squat.npz")
    clients = [Client(url, verbose=False, httpx_kwargs=SLOW_MACHINE) for _ in range(10)]
    for c in clients:
        c.predict(handle_file(str(clip)), api_name="/open_motion")
    results: list = [None] * len(clients)
    barrier = threading.Barrier(len(clients))

    def work(i: int) -> None:
        barrier.wait()
        try:
            out = clients[i].predict(
                "What is the person doing?", 0.0, 1.0, 16, -1, f"user{i}", api_name="/ask"
            )
            chat = [*texts(out[0]), out[-2]]  # the answers, then their small print
            _, _, status, _ = clients[i].predict(
                0, f"Squats, says user {i}.", 3, [], f"user{i}", api_name="/correct"
            )
            results[i] = (chat, status)
        except Exception as exc:  # noqa: BLE001
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    failures = [r for r in results if not isinstance(r, tuple)]
    assert not failures, failures
    for chat, status in results:
        assert "first token" in chat[-1] and "Saved correction" in status
    stored = {r.correction for r in demo.llamo_core.store.list_turns(status="corrected", limit=100)}
    assert {f"Squats, says user {i}." for i in range(10)} <= stored
