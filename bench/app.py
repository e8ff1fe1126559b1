"""`python -m bench.app`: many web users at once, through the real HTTP app (gradio_client),
with each tab's answer decoded on its own (`AppConfig(batched=False)`) against the batched
scheduler (`AppConfig(batched=True)`: one `llamo.serving.Scheduler` for every tab).

Both apps are launched in this process on the same model (default, or --tiny). Every client has
its own tab with the clip opened, played by a gradio_client in a child process (bench/tabs.py:
browsers are not in the server's process; --in-process-clients for the old way). At 1, 4 and 10
clients (--clients) each tab's conversation is cleared and every client asks --turns questions,
all at the same moment (`barrier`) or each at its own pace with seeded random pauses
(`staggered`; see bench.serving, --arrivals). Measured
on the client side: time to first token (submit to the first streamed text) and turn time;
aggregate tokens/s from the server's own token counts over the run's wall time. The table, the
ratios and the issue-19 targets are `bench.serving.report`'s. Answers are forced to --tokens
tokens (min_new_tokens) so both ways do the same work. Then page load in headless Chromium
(bench/page.py). Hygiene (bench/_util.py): threads pinned and the load average printed before
and after, an untimed warm-up of each app, the two ways alternating per client count.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench._util import add_out_argument, machine_line, main_for, pin_threads
from bench.serving import Run, add_arrival_arguments, arrivals, report
from bench.tabs import Tabs

WAYS = (("one-by-one", False), ("batched", True))  # bench.serving.report's labels


def add_arguments(parser) -> None:
    parser.add_argument("--clients", default="1,4,10", help="client counts (default 1,4,10)")
    parser.add_argument("--turns", type=int, default=3, help="questions per client (default 3)")
    parser.add_argument("--tokens", type=int, default=32, help="tokens per answer (default 32)")
    parser.add_argument("--chat-concurrency", type=int, default=16, help="the app's generation concurrency")
    parser.add_argument("--threads", type=int, default=2, help="torch threads to pin (default 2)")
    parser.add_argument("--tiny", action="store_true", help="a tiny random model (plumbing only)")
    parser.add_argument(
        "--page-loads", type=int, default=5, help="page loads in Chromium per variant (0: skip)"
    )
    parser.add_argument(
        "--in-process-clients", action="store_true",
        help="run the clients in the server's process (before 2026-12-03; they share its interpreter lock)",
    )  # fmt: skip
    add_arrival_arguments(parser)
    add_out_argument(parser)


@dataclass
class Served:
    """One way's app, launched, with its tabs (`bench.tabs.Tabs`, each with the clip open)."""

    way: str
    demo: object
    url: str
    tabs: Tabs | None = None
    failures: list[str] = field(default_factory=list)


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


def _launch(model, data: Path, way: str, batched: bool, args) -> Served:
    from annotations.store import Store
    from app import AppConfig, create_app
    from app.ui import launch_kwargs

    config = AppConfig(chat_concurrency=args.chat_concurrency, queue_size=max(64, 4 * max(_counts(args))),
                       min_new_tokens=args.tokens, batched=batched)  # fmt: skip
    demo = create_app(model, Store.open(data / way, announce=False), config)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", ssr_mode=False, quiet=True,
                            **launch_kwargs(demo.llamo_core))  # fmt: skip
    return Served(way, demo, url)


def _server_tokens(served: Served) -> int:
    """New tokens of every answer the server has stored (its own count, not the client's)."""
    store = served.demo.llamo_core.store
    turns = (store.get_turn(row.turn_id) for row in store.list_turns(limit=100_000))
    return sum(int(t.timings.get("new_tokens", 0)) for t in turns if t is not None)


def run_clients(served: Served, n: int, args, turns: int | None = None, arrival: str = "barrier") -> Run:
    """n tabs, conversations cleared, each asks the questions (in the arrival pattern); client-side seconds."""
    before = _server_tokens(served)
    out = served.tabs.run(n, turns or args.turns, arrival, args.think_s, args.tokens)
    served.failures.extend(out["failures"])
    return Run(served.way, n, ttft=out["ttft"], turn=out["turn"], tokens=_server_tokens(served) - before,
               wall_s=out["wall_s"])  # fmt: skip


def _counts(args) -> list[int]:
    return [int(c) for c in str(args.clients).split(",") if c]


def measure(args, model) -> dict:
    """Both ways at each client count through HTTP; `bench.serving.report`'s table and targets."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    counts = _counts(args)
    data = Path(tempfile.mkdtemp(prefix="llamo-bench-"))
    clip = _clip(data)
    ways = [_launch(model, data, way, batched, args) for way, batched in WAYS]
    try:
        for served in ways:
            served.tabs = Tabs(served.url, str(clip), in_process=args.in_process_clients)
            served.tabs.open(max(counts))
            run_clients(served, min(2, max(counts)), args, turns=1)  # warm-up, untimed
        runs: dict[str, dict[int, dict[str, Run]]] = {a: {n: {} for n in counts} for a in arrivals(args)}
        for arrival, by_n in runs.items():
            for n in counts:
                for served in ways:
                    by_n[n][served.way] = run_clients(served, n, args, arrival=arrival)
    finally:
        for served in ways:
            if served.tabs is not None:
                served.tabs.close()
            served.demo.close()
    figures = report(runs, counts, args)
    failures = [f"{s.way}, {f}" for s in ways for f in s.failures]
    print(f"failures: {len(failures)}")
    for f in failures:
        print("  ", f)
    device = ways[0].demo.llamo_core.model_card().info.get("device")
    return {**figures, "device": device, "failures": failures}


def page_section(args, model) -> list:
    """Page load in headless Chromium (bench/page.py): this app against the same app served
    with Gradio's defaults (no `app.ui.static_cache`), both launched here, one client, idle."""
    from annotations.store import Store
    from app import AppConfig, create_app
    from app.ui import launch_kwargs
    from bench.page import page_load_figures, print_page_figures

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    data = Path(tempfile.mkdtemp(prefix="llamo-bench-page-"))
    store = Store.open(data, announce=False)
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
    # uploads in a folder of our own: /tmp/gradio is shared with every other Gradio process here,
    # and another one's cache cleanup deleted an example clip (same content, same path) mid-run
    os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="llamo-bench-gradio-"))
    threads = pin_threads(args.threads)
    print(machine_line(threads))
    model = _model(args.tiny)
    r = measure(args, model)
    print(machine_line(threads))
    pages = page_section(args, model) if args.page_loads > 0 else []
    print(machine_line(threads))
    unmet = r.pop("checks")
    return {
        "machine": machine_line(threads),
        **r,
        "unmet_targets": unmet,
        "page_load": [asdict(p) for p in pages],
    }


def main(argv: list[str] | None = None) -> int:
    return main_for("bench.app", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
