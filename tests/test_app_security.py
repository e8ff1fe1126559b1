"""Issue 17.3: authorization on the server. Every event of the page is called by its fn_index, as
a hostile client would (hidden tabs and private API names protect nothing), by an annotator
signed in with a password and by an anonymous visitor of a Space: the reviewer-only ones refuse
with one sentence, and no annotator name, data dir, home or checkpoint path comes back. The CLI
refuses to serve an unprotected app beyond localhost."""

import json
import os
import uuid
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import httpx  # noqa: E402
import pytest  # noqa: E402

from annotations.export_query import ExportFilters  # noqa: E402
from annotations.store import Store  # noqa: E402
from app import AppConfig, create_app  # noqa: E402
from app.identity import Identity  # noqa: E402
from app.session import Session, Settings  # noqa: E402
from app.ui import launch_kwargs  # noqa: E402
from llamo.errors import LlamoError  # noqa: E402

SECRET = "zoe-secret-annotator"
REVIEWER_ONLY = {"review_list", "review_pick", "review_act", "export"}  # reopen: reviewers or the owner
EVENT_DATA = {"index": [0, 0], "value": "x"}  # enough for SelectData, LikeData and EditData


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny model, as if loaded from a checkpoint folder on the server."""
    from llamo.testing import tiny_model

    model = tiny_model()
    ckpt = tmp_path_factory.mktemp("server") / "checkpoints" / "my-ckpt"
    ckpt.mkdir(parents=True)
    real = model.describe()
    model.describe = lambda: {**real, "checkpoint": str(ckpt), "backbone": str(ckpt.parent / "backbone")}
    return model, ckpt


def seed(core, clip: Path) -> None:
    """A stored correction by an annotator whose name only reviewers may read."""
    s = Session()
    who = Identity(SECRET, "annotator", "password")
    core.open_file(s, clip, source="import")
    list(core.ask(s, "What is the person doing?", Settings(max_new_tokens=4), who))
    core.correct(s, 0, "Squats.", who)
    s.close()


def serve(tiny, tmp_path, cfg):
    model, _ = tiny
    from llamo.testing import random_motion

    data = tmp_path / "data"
    demo = create_app(model, Store.open(data, announce=False), cfg)
    seed(demo.llamo_core, random_motion(60, seed=1).save(tmp_path / "clip.npz"))
    _, url, _ = demo.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True,
        **launch_kwargs(demo.llamo_core),
    )  # fmt: skip
    return demo, url, data


def call(http: httpx.Client, url: str, fn_index: int, data: list, session: str) -> dict:
    """One event through the queue, as the browser sends it: its final message."""
    body = {"data": data, "fn_index": fn_index, "session_hash": session,
            "event_data": EVENT_DATA, "trigger_id": None}  # fmt: skip
    r = http.post(url + "gradio_api/queue/join", json=body)
    if r.status_code != 200:
        return {"msg": "refused", "status": r.status_code, "text": r.text}
    with http.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session}) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") in ("process_completed", "unexpected_error"):
                    return msg
    raise AssertionError(f"fn {fn_index}: no final message")


def sweep(demo, url: str, http: httpx.Client) -> dict[int, tuple[str, dict]]:
    """Every event of the page, by fn_index, with the page's initial values as inputs (what a
    fresh tab sends), in one session."""
    session = uuid.uuid4().hex[:10]
    values = {c["id"]: c.get("props", {}).get("value") for c in http.get(url + "config").json()["components"]}
    return {
        i: (fn.name, call(http, url, i, [values.get(b._id) for b in fn.inputs], session))
        for i, fn in demo.fns.items()
    }


def assert_refused_and_nothing_leaks(results, forbidden: list[str]) -> None:
    names = {name for name, _ in results.values()}
    assert names >= REVIEWER_ONLY, REVIEWER_ONLY - names  # each of them was called
    for i, (name, msg) in results.items():
        text = json.dumps(msg)
        for secret in forbidden:
            assert secret not in text, (i, name, secret, text[:300])
        if name in REVIEWER_ONLY:
            assert msg.get("success") is False, (i, name, text[:300])
            assert msg["output"]["error"] == "Only reviewers can do this.", (i, name)


def login(url: str, user: str, password: str) -> httpx.Client:
    http = httpx.Client(timeout=60)
    r = http.post(url + "login", data={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return http


@pytest.mark.slow  # over 5 s (real app round trips)
def test_every_endpoint_by_fn_index_as_an_annotator(tiny, tmp_path):
    cfg = AppConfig(users={"ana": "a-pw", "rui": "r-pw"}, reviewers=frozenset({"rui"}))
    demo, url, data = serve(tiny, tmp_path, cfg)
    try:
        results = sweep(demo, url, login(url, "ana", "a-pw"))
        assert_refused_and_nothing_leaks(results, [SECRET, str(data), str(Path.home()), str(tiny[1])])
        stats = [m for name, m in results.values() if name == "stats"]
        assert stats and all(m["output"]["data"] == [""] for m in stats)  # the tab: empty, no error
        (reopen,) = [i for i, fn in demo.fns.items() if fn.name == "reopen"]
        zoes = demo.llamo_core.store.list_turns(annotator=SECRET)[0].conversation_id
        data = [zoes] + [None] * (len(demo.fns[reopen].inputs) - 1)
        msg = call(login(url, "ana", "a-pw"), url, reopen, data, uuid.uuid4().hex[:10])
        assert msg["success"] is False and "only reviewers" in msg["output"]["error"].lower()
        assert SECRET not in json.dumps(msg)
        anon = httpx.post(
            url + "gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"}
        )
        assert anon.status_code in (401, 403)  # not signed in: not even the queue
    finally:
        demo.close()


@pytest.mark.slow  # over 5 s (real app round trips)
def test_every_endpoint_by_fn_index_anonymous_on_a_space(tiny, tmp_path):
    demo, url, data = serve(tiny, tmp_path, AppConfig(on_spaces=True))
    try:
        results = sweep(demo, url, httpx.Client(timeout=60))
        assert_refused_and_nothing_leaks(results, [SECRET, str(data), str(Path.home()), str(tiny[1])])
    finally:
        demo.close()


@pytest.mark.slow  # over 5 s (real app round trips)
def test_no_server_path_in_rows_exports_or_the_model_card(tiny, tmp_path):
    """model_id in the conversation rows, the export counts and the JSONL meta; the model card;
    the stats: the checkpoint's name, never the server's folders."""
    _, ckpt = tiny
    cfg = AppConfig(users={"rui": "r-pw"}, admins=frozenset({"rui"}))  # not only accepted: an admin's
    demo, url, data = serve(tiny, tmp_path, cfg)
    try:
        core = demo.llamo_core
        rui = Identity("rui", "admin", "password")
        conv = core.store.export_rows(ExportFilters(statuses=("corrected",)))
        assert {c.model_id for c in conv} == {"my-ckpt"} and {c.backbone for c in conv} == {"backbone"}
        done = core.export(rui, "llava", status="corrected", out_root=tmp_path / "out")
        shown = [json.dumps(done.counts), json.dumps(core.stats(rui)), json.dumps(core.model_card().info)]
        with zipfile.ZipFile(done.archive) as z:
            shown += [z.read(n).decode(errors="replace") for n in z.namelist()]
        assert "my-ckpt" in shown[0] + "".join(shown[3:])
        for text in shown:
            for secret in (str(data), str(Path.home()), str(ckpt), str(tmp_path)):
                assert secret not in text, (secret, text[:300])
    finally:
        demo.close()


# ---- the CLI: no unprotected app beyond localhost ---------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    """The CLI up to loading the model, which is replaced by a refusal (no download, fast)."""
    for key in ("LLAMO_USERS", "LLAMO_INSECURE_OPEN", "SPACE_ID", "OAUTH_CLIENT_ID", "GRADIO_SERVER_NAME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LLAMO_DATA_DIR", str(tmp_path / "data"))

    def no_model(**_):
        raise LlamoError("no model in this test.")

    monkeypatch.setattr("llamo.model.load_default", no_model)


def test_cli_refuses_an_open_host_without_sign_in(cli_env, capsys):
    from app.__main__ import main

    assert main(["--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "--host 0.0.0.0 without sign-in would let anyone on the network" in err
    assert "--insecure-open" in err and "no model in this test" not in err  # refused before loading
    assert not (Path(os.environ["LLAMO_DATA_DIR"]) / "annotations.sqlite3").exists()  # nor the store


def test_cli_open_host_with_insecure_open_warns_and_local_or_users_do_not(cli_env, capsys):
    from app.__main__ import main

    assert main(["--host", "0.0.0.0", "--insecure-open"]) == 2  # got as far as the model
    err = capsys.readouterr().err
    assert "WARNING: serving on 0.0.0.0 with no sign-in (--insecure-open)" in err
    assert "no model in this test" in err
    for argv in (["--host", "127.0.0.1"], ["--host", "localhost"], ["--host", "0.0.0.0", "--users", "a:b"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "WARNING" not in err and "without sign-in" not in err and "no model in this test" in err
