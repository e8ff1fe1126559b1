"""`python -m bench.store`: add-correction latency at scale, and export speed.

1. Median / p95 / min time of `Store.add_correction` (one BEGIN IMMEDIATE transaction, commit
   with fsync) with --turns turns in the store, at the chosen `synchronous` level and at NORMAL,
   interleaved with a bare sqlite3 INSERT+COMMIT into a same-sized table (same WAL and
   synchronous) as the baseline.
2. Time to export --conversations conversations over --clips clips as llava (target <= 10 s).

Hygiene (bench/_util.py): untimed warm-up rounds, interleaved candidates and baseline, median
and minimum (and p95) of N repeats, the machine's load printed before and after.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from bench._util import Timing, add_out_argument, interleaved, machine_line, main_for


def add_arguments(parser) -> None:
    parser.add_argument("--turns", type=int, default=100_000, help="turns in the store (default 100000)")
    parser.add_argument("--conversations", type=int, default=10_000, help="conversations (default 10000)")
    parser.add_argument("--clips", type=int, default=500, help="clips (default 500)")
    parser.add_argument(
        "--repeats", type=int, default=300, help="timed add-corrections per candidate (default 300)"
    )
    parser.add_argument("--export-repeats", type=int, default=3, help="timed exports (default 3)")
    parser.add_argument("--dir", help="work directory (default: a temporary one, removed afterwards)")
    add_out_argument(parser)


def _seed(store, turns: int, conversations: int, clips: int, seed: int = 0) -> list[int]:
    """Fill the store quickly (bulk inserts in one transaction); return the turn ids."""
    from annotations.models import Annotator, Candidate, Clip, Conversation, Correction, Review, Turn, utcnow
    from llamo.testing import random_motion

    rng = random.Random(seed)
    now = utcnow()
    clip_rows = []
    for i in range(clips):
        motion_rel = store.media.write(random_motion(60, seed=i), None).motion_path
        clip_rows.append(
            {
                "sha256": f"{i:064x}",
                "motion_path": motion_rel,
                "duration": 3.0,
                "fps": 20.0,
                "num_frames": 60,
                "source": "example",
                "meta": {},
                "created_at": now,
                "media_missing": False,
            }
        )
    per_conv = max(1, turns // conversations)
    with store._write() as s:
        conn = s.connection()
        conn.execute(Clip.__table__.insert(), clip_rows)
        conn.execute(
            Annotator.__table__.insert(),
            [
                {"name": "ana", "role": "annotator", "auth": "none", "created_at": now},
                {"name": "rui", "role": "reviewer", "auth": "none", "created_at": now},
            ],
        )
        conn.execute(
            Conversation.__table__.insert(),
            [
                {
                    "uid": f"c{i:08d}",
                    "clip_id": 1 + i % clips,
                    "annotator_id": 1,
                    "model_id": "bench",
                    "model_sha": "0" * 12,
                    "backbone": "SmolLM2-135M",
                    "settings": {"temperature": 0.0},
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(conversations)
            ],
        )
        turn_rows, cand_rows, fix_rows, review_rows = [], [], [], []
        tid = 0
        for c in range(conversations):
            for p in range(per_conv):
                tid += 1
                corrected = rng.random() < 0.3
                turn_rows.append(
                    {
                        "conversation_id": c + 1,
                        "position": p,
                        "question": f"How many squats in part {p}?",
                        "timings": {"ttft_s": 0.3},
                        "status": "accepted" if corrected else "unreviewed",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                cand_rows.append(
                    {
                        "turn_id": tid,
                        "text": "The person does three squats.",
                        "partial": False,
                        "regenerated": False,
                        "timings": {},
                        "settings": {},
                        "created_at": now,
                    }
                )
                if corrected:
                    fix_rows.append(
                        {
                            "turn_id": tid,
                            "annotator_id": 1,
                            "revision": 1,
                            "rating": 2,
                            "text": "Four squats, the last one shallow.",
                            "tags": ["wrong count"],
                            "created_at": now,
                        }
                    )
                    review_rows.append(
                        {
                            "correction_id": len(fix_rows),
                            "reviewer_id": 2,
                            "accept": True,
                            "note": "",
                            "created_at": now,
                        }
                    )
        conn.execute(Turn.__table__.insert(), turn_rows)
        conn.execute(Candidate.__table__.insert(), cand_rows)
        conn.execute(Correction.__table__.insert(), fix_rows)
        conn.execute(Review.__table__.insert(), review_rows)
    return list(range(1, tid + 1))


def _bare_db(path: Path, rows: int, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, turn_id INTEGER, text TEXT)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t (turn_id, text) VALUES (?, ?)", ((i, "x" * 40) for i in range(rows)))
    conn.execute("COMMIT")
    return conn


def run(args) -> dict:
    from annotations.export import export_dataset
    from annotations.store import Store

    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="annotations-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    figures: dict = {"args": {k: v for k, v in vars(args).items() if k not in ("command",)}}
    print(machine_line(1))
    try:
        start = time.perf_counter()
        store = Store.open(work / "store", announce=False)
        turn_ids = _seed(store, args.turns, args.conversations, args.clips)
        print(
            f"seeded {len(turn_ids):,} turns, {args.conversations:,} conversations, {args.clips:,} clips "
            f"in {time.perf_counter() - start:.1f} s ({store.where()})"
        )
        os.environ["LLAMO_SQLITE_SYNCHRONOUS"], chosen = "NORMAL", store.synchronous
        normal_store = Store.open(work / "store", announce=False)
        os.environ.pop("LLAMO_SQLITE_SYNCHRONOUS")
        people = {"ana": store.get_or_create_annotator("ana")}
        rng = random.Random(1)
        bare = {
            level: _bare_db(work / f"bare-{level}.sqlite3", len(turn_ids), level)
            for level in {chosen, "NORMAL"}
        }

        def add(st):
            return lambda: st.add_correction(
                rng.choice(turn_ids),
                "A corrected answer: four squats.",
                annotator=people["ana"],
                rating=3,
                tags=["wrong count"],
            )

        def insert(conn):
            def fn():
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO t (turn_id, text) VALUES (?, ?)",
                    (rng.choice(turn_ids), "A corrected answer."),
                )
                conn.execute("COMMIT")

            return fn

        fns = {
            f"add_correction synchronous={chosen}": add(store),
            f"bare sqlite INSERT synchronous={chosen}": insert(bare[chosen]),
        }
        if chosen != "NORMAL":
            fns["add_correction synchronous=NORMAL"] = add(normal_store)
            fns["bare sqlite INSERT synchronous=NORMAL"] = insert(bare["NORMAL"])
        timings = interleaved(fns, repeats=args.repeats, warmup=5)
        print(
            f"\nadd one correction with {len(turn_ids):,} turns in the store ({args.repeats} repeats, interleaved):"
        )
        print(f"{'':45s} {'median':>9s} {'p95':>9s} {'min':>9s}")
        figures["add_correction"] = {}
        for name, t in timings.items():
            print(f"{name:45s} {t.median * 1e3:7.2f}ms {t.p(0.95) * 1e3:7.2f}ms {t.minimum * 1e3:7.2f}ms")
            figures["add_correction"][name] = {**t.as_dict(), "p95_s": t.p(0.95)}
        normal_store.close()
        for conn in bare.values():
            conn.close()

        export_t = Timing("export", [])
        for i in range(args.export_repeats + 1):  # the first one is the warm-up
            out = work / f"export-{i}"
            t0 = time.perf_counter()
            summary = export_dataset(store, out, "llava")
            elapsed = time.perf_counter() - t0
            if i:
                export_t.samples.append(elapsed)
            shutil.rmtree(out)
        print(
            f"\nexport llava: {summary.conversations:,} conversations ({summary.rows:,} rows, {summary.turns:,} turns, "
            f"{summary.trainable_turns:,} training turns) over {summary.clips:,} clips: median {export_t.median:.2f} s, "
            f"min {export_t.minimum:.2f} s (target <= 10 s)"
        )
        figures["export"] = {
            **export_t.as_dict(),
            "conversations": summary.conversations,
            "clips": summary.clips,
            "rows": summary.rows,
            "turns": summary.turns,
        }
        store.close()
        print(machine_line(1))
        return figures
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    return main_for("bench.store", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
