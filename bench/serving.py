"""`python -m bench.serving`: many chat sessions at once, each decoded on its own (today: one
thread per client calling `ChatSession.ask`, as the app's generation threads do) against the
batched scheduler (`llamo.serving.Scheduler`: the same threads call `Scheduler.ask`).

For 1, 4 and 10 clients (--clients): every client has its own clip (encoded beforehand, as the
app does when a clip is opened) and asks --turns questions, in two arrival patterns (--arrivals):
`barrier`, all clients start each question at the same moment (the worst burst: throughput is
judged here), and `staggered`, each client runs its own conversation with a seeded random pause
before each question (people reading and typing; the same pauses for both ways). Prints p50/p95
time to first token, p50/p95 turn time and aggregate tokens/s for both ways, and their ratios. Answers are forced to --tokens tokens (min_new_tokens) so both ways do
the same work. Hygiene (bench/_util.py): threads pinned and printed, an untimed warm-up of each
way, both ways timed in the same process, alternating per client count.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field

from bench._util import add_out_argument, machine_line, main_for, pin_threads

QUESTIONS = ("What is the person doing?", "How many repetitions do they do?", "Which body parts move most?")
TARGETS = {"tokens_per_s_ratio_10": 3.0, "ttft_p95_10_over_1": 2.0}


def add_arguments(parser) -> None:
    parser.add_argument("--clients", default="1,4,10", help="client counts (default 1,4,10)")
    parser.add_argument("--tokens", type=int, default=32, help="tokens per answer (default 32)")
    parser.add_argument("--turns", type=int, default=3, help="questions per client (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads to pin (default 2)")
    parser.add_argument("--tiny", action="store_true", help="a tiny random model (plumbing only)")
    add_arrival_arguments(parser)
    add_out_argument(parser)


@dataclass
class Run:
    """One way at one client count: per-turn client-side seconds, and the whole run."""

    way: str
    clients: int
    ttft: list[float] = field(default_factory=list)
    turn: list[float] = field(default_factory=list)
    tokens: int = 0
    wall_s: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.wall_s if self.wall_s else 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def _sessions(model, clients: int) -> list:
    from llamo.chat import ChatSession
    from llamo.testing import random_walk

    sessions = [ChatSession(model, random_walk(200, seed=10 + i)) for i in range(clients)]  # 10 s clips
    for s in sessions:
        s.prepare()
    return sessions


def run_clients(model, way: str, clients: int, args, scheduler=None, arrival: str = "barrier") -> Run:
    """Every client asks each question (in the arrival pattern); client-side TTFT and turn time."""
    sessions = _sessions(model, clients)
    result = Run(way, clients)
    lock = threading.Lock()
    kw = {"max_new_tokens": args.tokens, "min_new_tokens": args.tokens}

    def client(i: int, question: str) -> None:
        start = time.perf_counter()
        stream = scheduler.ask(sessions[i], question, **kw) if scheduler else sessions[i].ask(question, **kw)
        first = None
        for _ in stream:
            first = first or time.perf_counter()
        end = time.perf_counter()
        with lock:
            result.ttft.append((first or end) - start)
            result.turn.append(end - start)
            result.tokens += sessions[i].last_turn.timings["new_tokens"]

    result.wall_s = drive(clients, args.turns, client, arrival, args.think_s)
    return result


ARRIVALS = ("barrier", "staggered")


def add_arrival_arguments(parser) -> None:
    parser.add_argument(
        "--arrivals", default="barrier,staggered",
        help="barrier: every client asks at the same moment (the worst burst); staggered: each client "
        "runs its own conversation with a random pause before each question (default both)",
    )  # fmt: skip
    parser.add_argument("--think-s", type=float, default=2.0, help="mean pause of a staggered client (s)")


def arrivals(args) -> list[str]:
    chosen = [a for a in str(args.arrivals).split(",") if a]
    unknown = set(chosen) - set(ARRIVALS)
    if unknown:
        raise SystemExit(f"--arrivals: unknown {sorted(unknown)}; choose from {ARRIVALS}")
    return chosen


def drive(
    clients: int, turns: int, client, arrival: str = "barrier", think_s: float = 2.0, seed: int = 0
) -> float:
    """Run every client's questions in the chosen arrival pattern; the wall seconds of all of it."""
    if arrival == "staggered":
        return staggered(clients, turns, client, think_s, seed)
    return all_at_once(clients, turns, client)


def staggered(clients: int, turns: int, client, think_s: float, seed: int = 0) -> float:
    """Each client in its own thread asks its questions one after another, pausing a seeded
    uniform 0..2*think_s before each (people read, then type): concurrent users, not a burst.
    The wall seconds of all of it, pauses included."""
    import random

    rng = random.Random(seed)
    pauses = [[rng.uniform(0.0, 2.0 * think_s) for _ in range(turns)] for _ in range(clients)]

    def conversation(i: int) -> None:
        for question, pause in zip(QUESTIONS[:turns], pauses[i], strict=True):
            time.sleep(pause)
            client(i, question)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=conversation, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def all_at_once(clients: int, turns: int, client) -> float:
    """For each of `turns` questions, `client(i, question)` in one thread per client, released
    together (a barrier); the wall seconds of all of it."""
    t0 = time.perf_counter()
    for question in QUESTIONS[:turns]:
        barrier = threading.Barrier(clients)
        threads = [
            threading.Thread(target=_released, args=(barrier, client, i, question)) for i in range(clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return time.perf_counter() - t0


def _released(barrier: threading.Barrier, client, i: int, question: str) -> None:
    barrier.wait()
    client(i, question)


def _row(r: Run) -> str:
    return (
        f"{r.clients:>7}  {r.way:<10} {pct(r.ttft, 0.5):>8.2f} {pct(r.ttft, 0.95):>8.2f} "
        f"{pct(r.turn, 0.5):>8.2f} {pct(r.turn, 0.95):>8.2f} {r.tokens_per_s:>9.1f} {len(r.turn):>4}"
    )


def compare(model, args) -> dict:
    """Both ways at each client count and arrival pattern; the tables, ratios and targets."""
    from llamo.serving import Scheduler

    counts = [int(c) for c in str(args.clients).split(",") if c]
    scheduler = Scheduler(model)
    try:
        warm = argparse_like(args, turns=1)
        run_clients(model, "one-by-one", 2, warm)  # warm-up, untimed
        run_clients(model, "batched", 2, warm, scheduler)
        runs: dict[str, dict[int, dict[str, Run]]] = {}
        for arrival in arrivals(args):
            runs[arrival] = {
                n: {
                    "one-by-one": run_clients(model, "one-by-one", n, args, arrival=arrival),
                    "batched": run_clients(model, "batched", n, args, scheduler, arrival=arrival),
                }
                for n in counts
            }
    finally:
        scheduler.close()
    return report(runs, counts, args)


def report(runs: dict[str, dict[int, dict[str, Run]]], counts: list[int], args) -> dict:
    """One table per arrival pattern (both ways at each client count, their ratios), then the
    targets (also `python -m bench.app`, the same comparison through the web app)."""
    for arrival, by_n in runs.items():
        how = "all at once" if arrival == "barrier" else f"own pace, pause 0-{2 * args.think_s:g} s"
        print(
            f"\n{arrival}: {args.turns} questions per client ({how}), {args.tokens} tokens each (client side, s)"
        )
        print(f"{'clients':>7}  {'way':<10} {'TTFT p50':>8} {'TTFT p95':>8} {'turn p50':>8} {'turn p95':>8} "
              f"{'tokens/s':>9} {'n':>4}")  # fmt: skip
        for n in counts:
            base, ours = by_n[n]["one-by-one"], by_n[n]["batched"]
            print(_row(base))
            print(_row(ours))
            print(f"{'':>7}  {'ratio':<10} {pct(base.ttft, .5) / pct(ours.ttft, .5):>7.2f}x "
                  f"{pct(base.ttft, .95) / pct(ours.ttft, .95):>7.2f}x {pct(base.turn, .5) / pct(ours.turn, .5):>7.2f}x "
                  f"{pct(base.turn, .95) / pct(ours.turn, .95):>7.2f}x {ours.tokens_per_s / base.tokens_per_s:>8.2f}x"
                  "  (one-by-one / batched; tokens/s batched / one-by-one)")  # fmt: skip
    out = {a: {n: {w: {**asdict(r), "tokens_per_s": r.tokens_per_s} for w, r in v.items()} for n, v in by_n.items()}
           for a, by_n in runs.items()}  # fmt: skip
    return {"runs": out, "checks": _checks(runs, counts)}


def _checks(runs: dict, counts: list[int]) -> list[str]:
    """The issue's targets, printed as met / NOT met; returns the unmet ones. Throughput is
    judged in the burst (every client busy); time to first token in each pattern."""
    lo, hi = min(counts), max(counts)
    checks = []
    for arrival, by_n in runs.items():
        b_lo, b_hi = by_n[lo]["batched"], by_n[hi]["batched"]
        u_lo, u_hi = by_n[lo]["one-by-one"], by_n[hi]["one-by-one"]
        if arrival == "barrier":
            checks.append((f"{arrival}: tokens/s at {hi} clients, batched / one-by-one >= 3",
                           b_hi.tokens_per_s / u_hi.tokens_per_s, 3.0, ">="))  # fmt: skip
        checks += [
            (f"{arrival}: TTFT p95 at {hi} clients / at {lo} (batched) <= 2",
             pct(b_hi.ttft, 0.95) / pct(b_lo.ttft, 0.95), 2.0, "<="),
            (f"{arrival}: TTFT p50 at {lo} client, batched / one-by-one <= 1.1",
             pct(b_lo.ttft, 0.5) / pct(u_lo.ttft, 0.5), 1.1, "<="),
        ]  # fmt: skip
    unmet = []
    for label, value, target, op in checks:
        ok = value >= target if op == ">=" else value <= target
        print(f"{label}: {value:.2f} ({'met' if ok else 'NOT met'})")
        if not ok:
            unmet.append(f"{label}: {value:.2f}")
    return unmet


def argparse_like(args, **changes):
    import argparse

    return argparse.Namespace(**{**vars(args), **changes})


def run(args) -> dict:
    threads = pin_threads(args.threads)
    print(machine_line(threads))
    if args.tiny:
        from llamo.testing import tiny_model

        model = tiny_model()
    else:
        from llamo.model import load_default

        model = load_default()
    report = compare(model, args)
    print(machine_line(threads))
    return {"machine": machine_line(threads), **report, "unmet_targets": report.pop("checks")}


def main(argv: list[str] | None = None) -> int:
    return main_for("bench.serving", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
