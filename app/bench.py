"""`python -m app.bench`: time to first token as web users see it, one client vs many at once.

Launches the app in this process on the default model (or --tiny), opens the same clip for every
client through the API, and measures on the client side: from submitting a question to the
first streamed piece of the answer. Prints median and p95 for a single client (sequential
questions) beside the same for N simultaneous clients, plus the server's own model TTFT.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, round(q * (len(values) - 1))))
    return values[k]


def _texts(chat) -> list[str]:
    out = []
    for m in chat or []:
        c = m["content"]
        out.append("".join(b.get("text", "") for b in c) if isinstance(c, list) else str(c))
    return out


def one_question(client, question: str, tokens: int, name: str) -> tuple[float, float, list[str]]:
    """(client TTFT s, total s, final chat texts) for one streamed answer."""
    start = time.perf_counter()
    job = client.submit(question, 0.0, 1.0, tokens, -1, name, api_name="/ask")
    first = None
    seen = 0
    while not job.done():
        outs = job.outputs()
        if first is None and len(outs) > seen:
            for out in outs[seen:]:
                texts = _texts(out[0])
                if texts and texts[-1].strip():
                    first = time.perf_counter() - start
                    break
            seen = len(outs)
        time.sleep(0.005)
    final = job.result()
    total = time.perf_counter() - start
    return (first if first is not None else total), total, _texts(final[0])


def run(clients: int, tokens: int, singles: int, tiny: bool, chat_concurrency: int) -> dict:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from gradio_client import Client, handle_file

    from annotations.store import Store
    from app import AppConfig, create_app
    from app.ui import launch_kwargs

    if tiny:
        from llamo.model.testing import tiny_model

        model = tiny_model()
    else:
        from llamo.model import load_default

        model = load_default()
    data = Path(tempfile.mkdtemp(prefix="llamo-bench-"))
    clip = data / "squat.npz"
    examples = sorted((Path(__file__).resolve().parents[1] / "assets" / "examples").glob("*.npz"))
    if examples:
        clip = examples[0]
    else:
        from llamo.data.synth import synthesize

        synthesize("squat", reps=3, seed=0).save(clip)
    demo = create_app(model, Store.open(data / "store", announce=False),
                      AppConfig(chat_concurrency=chat_concurrency, queue_size=max(64, 2 * clients), min_new_tokens=tokens))  # fmt: skip
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True,
                            **launch_kwargs(demo.llamo_core))  # fmt: skip
    try:
        solo = Client(url, verbose=False)
        solo.predict(handle_file(str(clip)), api_name="/open_motion")
        one_question(solo, "What is the person doing?", tokens, "bench")  # warm-up
        single = [one_question(solo, q, tokens, "bench")[0] for q in
                  ["What is the person doing?", "How many repetitions?", "Which body parts move?"][:singles]]  # fmt: skip

        many: list[Client] = [Client(url, verbose=False) for _ in range(clients)]
        for c in many:
            c.predict(handle_file(str(clip)), api_name="/open_motion")
        results: list[tuple[float, float, list[str]] | Exception] = [None] * clients  # type: ignore[list-item]
        barrier = threading.Barrier(clients)

        def worker(i: int) -> None:
            barrier.wait()
            try:
                results[i] = one_question(many[i], "What is the person doing?", tokens, f"bench{i}")
            except Exception as exc:  # noqa: BLE001 - reported below
                results[i] = exc

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        ok = [r for r in results if not isinstance(r, Exception)]
        server_ttft = [t.timings["ttft_s"] for t in _all_turns(demo)]
        return {
            "single_ttft": single,
            "many_ttft": [r[0] for r in ok],
            "many_total": [r[1] for r in ok],
            "failures": [repr(r) for r in results if isinstance(r, Exception)],
            "wall_s": wall,
            "server_ttft": server_ttft,
            "device": demo.llamo_core.model_card()[0].get("device"),
        }
    finally:
        demo.close()


def _all_turns(demo) -> list:
    store = demo.llamo_core.store
    turns = []
    for row in store.list_turns(limit=1000):
        t = store.get_turn(row.turn_id)
        if t is not None and t.timings.get("ttft_s") is not None:
            turns.append(t)
    return turns


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.bench", description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--tokens", type=int, default=32, help="max new tokens per answer")
    p.add_argument("--singles", type=int, default=3, help="sequential single-client questions")
    p.add_argument("--chat-concurrency", type=int, default=16, help="the app's generation concurrency")
    p.add_argument("--tiny", action="store_true", help="a tiny random model (plumbing only)")
    args = p.parse_args(argv)
    from llamo.benchutil import machine_line

    r = run(args.clients, args.tokens, args.singles, args.tiny, args.chat_concurrency)
    print(machine_line(int(os.environ.get("OMP_NUM_THREADS", "0") or 0)))
    print(f"model device: {r['device']}; answers of up to {args.tokens} tokens; "
          f"generation concurrency {args.chat_concurrency}")  # fmt: skip
    s, m = r["single_ttft"], r["many_ttft"]
    print(f"{'':28s} {'n':>3s} {'median':>8s} {'p95':>8s}")
    print(f"{'TTFT, 1 client (s)':28s} {len(s):3d} {statistics.median(s):8.2f} {_pct(s, 0.95):8.2f}")
    if m:
        print(
            f"{f'TTFT, {args.clients} at once (s)':28s} {len(m):3d} {statistics.median(m):8.2f} {_pct(m, 0.95):8.2f}"
        )
        tot = r["many_total"]
        print(
            f"{'answer done, at once (s)':28s} {len(tot):3d} {statistics.median(tot):8.2f} {_pct(tot, 0.95):8.2f}"
        )
    sv = r["server_ttft"]
    if sv:
        print(
            f"{'model TTFT in server (s)':28s} {len(sv):3d} {statistics.median(sv):8.2f} {_pct(sv, 0.95):8.2f}"
        )
    print(f"{args.clients} clients finished in {r['wall_s']:.1f} s; failures: {len(r['failures'])}")
    for f in r["failures"]:
        print("  ", f)
    return 1 if r["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
