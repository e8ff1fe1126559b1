"""`python -m bench.page_ab --before DIR [--after DIR]`: page load of two checkouts of this
project side by side, to measure a change to the page (bench/page.py's time to interactive).

Each checkout's app (a tiny random model: the page does not depend on the weights) is served
from its own process on its own port, so each runs its own code; one headless Chromium then
loads them in turn, interleaved load by load. `--before` is typically a `git worktree add` of
the older commit; `--after` defaults to this checkout.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from bench._util import add_out_argument, machine_line, main_for, pin_threads

HERE = Path(__file__).resolve().parents[1]
# run inside each checkout (argv: port); prints "ready" once the app listens
SERVE = """
import os, sys, tempfile, time
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
from pathlib import Path
from annotations.store import Store
from app import AppConfig, create_app
from app.ui import launch_kwargs
from llamo.testing import tiny_model
d = create_app(tiny_model(), Store.open(Path(tempfile.mkdtemp()), announce=False), AppConfig())
d.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=int(sys.argv[1]), ssr_mode=False,
         quiet=True, **launch_kwargs(d.llamo_core))
print("ready", flush=True)
while True:
    time.sleep(60)
"""


def add_arguments(parser) -> None:
    parser.add_argument("--before", required=True, help="the older checkout (a git worktree)")
    parser.add_argument("--after", default=str(HERE), help="the newer checkout (default: this one)")
    parser.add_argument("--loads", type=int, default=10, help="cold + warm loads per checkout (default 10)")
    parser.add_argument("--port", type=int, default=7871, help="first of the two ports (default 7871)")
    add_out_argument(parser)


def _serve(root: str, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(port)], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError(f"the app in {root} did not start")
    return proc


def run(args) -> dict:
    from bench.page import page_load_figures, print_page_figures

    threads = pin_threads(2)
    print(machine_line(threads))
    roots = {"before": args.before, "after": args.after}
    procs = [_serve(root, args.port + i) for i, root in enumerate(roots.values())]
    try:
        urls = {
            f"{k} ({Path(r).name})": f"http://127.0.0.1:{args.port + i}/"
            for i, (k, r) in enumerate(roots.items())
        }
        results = page_load_figures(urls, args.loads)
    finally:
        for p in procs:
            p.kill()
    print_page_figures(results)
    before, after = results
    ratio = {kind: statistics.median(getattr(after, kind)) / statistics.median(getattr(before, kind))
             for kind in ("cold", "warm")}  # fmt: skip
    print(f"after / before, median: cold {ratio['cold']:.2f}, warm reload {ratio['warm']:.2f}")
    print(machine_line(threads))
    return {"machine": machine_line(threads), "pages": [asdict(r) for r in results], "ratio": ratio}


def main(argv: list[str] | None = None) -> int:
    return main_for("bench.page_ab", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
