"""`python -m bench.app`: time to first token as web users see it, one client vs many at once.

Launches the app in this process on the default model (or --tiny), opens the same clip for every
client through the API, and measures on the client side: from submitting a question to the
first streamed piece of the answer. Prints median, p95 and minimum for a single client
(sequential questions; the baseline) beside the same for N simultaneous clients, plus the
server's own model TTFT. Hygiene (bench/_util.py): one untimed warm-up question, threads pinned
and printed, both measured in the same process.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench._util import add_out_argument, machine_line, main_for, pin_threads

SINGLE_QUESTIONS = ("What is the person doing?", "How many repetitions?", "Which body parts move?")


def add_arguments(parser) -> None:
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=32, help="max new tokens per answer")
    parser.add_argument("--singles", type=int, default=3, help="sequential single-client questions")
    parser.add_argument("--chat-concurrency", type=int, default=16, help="the app's generation concurrency")
    parser.add_argument("--threads", type=int, default=2, help="torch threads to pin (default 2)")
    parser.add_argument("--tiny", action="store_true", help="a tiny random model (plumbing only)")
    parser.add_argument(
        "--page-loads", type=int, default=5, help="page loads in Chromium per variant (0: skip)"
    )
    add_out_argument(parser)


@dataclass
class AppFigures:
    """Client-side seconds (and the server's own model TTFT) from one run."""

    single_ttft: list[float]
    many_ttft: list[float] = field(default_factory=list)
    many_total: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    server_ttft: list[float] = field(default_factory=list)
    device: str | None = None


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


def _model(tiny: bool):
    if tiny:
        from llamo.testing import tiny_model

        return tiny_model()
    from llamo.model import load_default

    return load_default()


def _clip(data: Path) -> Path:
    """The first project example clip, else a synthetic squat written into `data`."""
    examples = sorted((Path(__file__).resolve().parents[1] / "assets" / "examples").glob("*.npz"))
    if examples:
        return examples[0]
    from llamo.data.synth import synthesize

    clip = data / "squat.npz"
    synthesize("squat", reps=3, seed=0).save(clip)
    return clip


def _at_once(url: str, clip: Path, clients: int, tokens: int, figures: AppFigures) -> None:
    """N clients open the clip, then ask the same question at the same moment (a barrier)."""
    from gradio_client import Client, handle_file

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
    figures.wall_s = time.perf_counter() - t0
    ok = [r for r in results if not isinstance(r, Exception)]
    figures.many_ttft = [r[0] for r in ok]
    figures.many_total = [r[1] for r in ok]
    figures.failures = [repr(r) for r in results if isinstance(r, Exception)]


def measure(args) -> AppFigures:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from gradio_client import Client, handle_file

    from annotations.store import Store
    from app import AppConfig, create_app
    from app.ui import launch_kwargs

    model = _model(args.tiny)
    data = Path(tempfile.mkdtemp(prefix="llamo-bench-"))
    clip = _clip(data)
    config = AppConfig(
        chat_concurrency=args.chat_concurrency,
        queue_size=max(64, 2 * args.clients),
        min_new_tokens=args.tokens,
    )
    demo = create_app(model, Store.open(data / "store", announce=False), config)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True,
                            **launch_kwargs(demo.llamo_core))  # fmt: skip
    try:
        solo = Client(url, verbose=False)
        solo.predict(handle_file(str(clip)), api_name="/open_motion")
        one_question(solo, "What is the person doing?", args.tokens, "bench")  # warm-up
        single = [one_question(solo, q, args.tokens, "bench")[0] for q in SINGLE_QUESTIONS[: args.singles]]
        figures = AppFigures(single_ttft=single, device=demo.llamo_core.model_card()[0].get("device"))
        _at_once(url, clip, args.clients, args.tokens, figures)
        figures.server_ttft = [t.timings["ttft_s"] for t in _all_turns(demo)]
        return figures
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


def _row(label: str, values: list[float]) -> str:
    return (
        f"{label:28s} {len(values):3d} {statistics.median(values):8.2f} {_pct(values, 0.95):8.2f} "
        f"{min(values):8.2f}"
    )


def page_section(args) -> list:
    """Page load in headless Chromium (bench/page.py): this app against the same app served
    with Gradio's defaults (no `app.ui.static_cache`), both launched here, one client, idle."""
    from annotations.store import Store
    from app import AppConfig, create_app
    from app.ui import launch_kwargs
    from bench.page import page_load_figures, print_page_figures

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    data = Path(tempfile.mkdtemp(prefix="llamo-bench-page-"))
    model, store = _model(args.tiny), Store.open(data, announce=False)
    urls, demos = {}, []
    for label, keep in (("Gradio defaults (baseline)", False), ("this app", True)):
        d = create_app(model, store, AppConfig())
        kw = launch_kwargs(d.llamo_core)
        kwargs = kw if keep else {k: v for k, v in kw.items() if k != "app_kwargs"}
        _, url, _ = d.launch(
            prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True, **kwargs
        )
        urls[label] = url
        demos.append(d)
    try:
        results = page_load_figures(urls, args.page_loads)
    finally:
        for d in demos:
            d.close()
    print_page_figures(results)
    return results


def run(args) -> dict:
    threads = pin_threads(args.threads)
    print(machine_line(threads))
    pages = page_section(args) if args.page_loads > 0 else []
    r = measure(args)
    print(machine_line(threads))
    print(f"model device: {r.device}; answers of up to {args.tokens} tokens; "
          f"generation concurrency {args.chat_concurrency}")  # fmt: skip
    print(f"{'':28s} {'n':>3s} {'median':>8s} {'p95':>8s} {'min':>8s}")
    print(_row("TTFT, 1 client (s)", r.single_ttft))
    if r.many_ttft:
        print(_row(f"TTFT, {args.clients} at once (s)", r.many_ttft))
        print(_row("answer done, at once (s)", r.many_total))
    if r.server_ttft:
        print(_row("model TTFT in server (s)", r.server_ttft))
    print(f"{args.clients} clients finished in {r.wall_s:.1f} s; failures: {len(r.failures)}")
    for f in r.failures:
        print("  ", f)
    return {"machine": machine_line(threads), **asdict(r), "page_load": [asdict(p) for p in pages]}


def main(argv: list[str] | None = None) -> int:
    return main_for("bench.app", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
