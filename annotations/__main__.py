"""`python -m annotations <command>`: the store's command line.

Errors are one sentence on stderr with exit code 2 (the llamo/cli.py convention); `-o/--out`
names the primary output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from llamo.errors import LlamoError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m annotations", description="LLaMo annotation store")
    p.add_argument("--data-dir", help="data directory (default: LLAMO_DATA_DIR, /data if it exists, ./data)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser("where", help="print where the data lives")

    e = sub.add_parser(
        "export", help="export training data: llava | messages | prompt-completion | dpo | kto"
    )
    e.add_argument(
        "--format", default="llava", help="llava (default), messages, prompt-completion, dpo or kto (TRL's)"
    )
    e.add_argument(
        "--status", default="accepted", help="comma list of turn statuses that train (default accepted)"
    )
    e.add_argument("--annotator", help="only corrections by this annotator")
    e.add_argument("--since", help="only turns updated at or after this date (ISO, UTC)")
    e.add_argument(
        "--latest", action="store_true", help="use each turn's latest revision, not the latest accepted"
    )
    e.add_argument("--with-video", action="store_true", help="also export original videos (patient data!)")
    e.add_argument(
        "--no-segments", dest="segments", action="store_false", help="leave out the clips' time segments"
    )
    e.add_argument("-o", "--out", required=True, help="output directory (must not exist or be empty)")

    i = sub.add_parser("import", help="merge an llava/messages export from another store")
    i.add_argument("dir")

    h = sub.add_parser(
        "push", help="the store as a Hugging Face datasets dataset: motions, every response, a card"
    )
    h.add_argument("--repo", metavar="ORG/NAME", help="the Hub dataset repo to push to")
    seen = h.add_mutually_exclusive_group()
    seen.add_argument("--private", dest="private", action="store_true", default=True, help="(default)")
    seen.add_argument("--public", dest="private", action="store_false", help="make the Hub repo public")
    h.add_argument("-o", "--out", help="save here (save_to_disk and README.md) instead of pushing")
    h.add_argument("--license", help="the Hub licence id when no clip is CC BY-NC (default: other)")

    sub.add_parser("stats", help="counts by status, annotator, tag; agreement")

    c = sub.add_parser("check", help="integrity check; repair orphan media and rows without media")
    c.add_argument("--dry-run", action="store_true", help="report only")
    c.add_argument(
        "--grace", type=float, default=60.0, help="leave files younger than this many seconds (default 60)"
    )

    b = sub.add_parser("backup", help="online backup of the database (SQLite backup API)")
    b.add_argument("-o", "--out", required=True, help="backup file to create")

    d = sub.add_parser("delete", help="privacy: delete a clip's media and mark its rows deleted")
    d.add_argument("--clip", required=True, metavar="HASH", help="the clip's sha256")

    r = sub.add_parser("retention", help="remove uploaded videos older than N days (LLAMO_RETENTION_DAYS)")
    r.add_argument("--days", type=float, help="override LLAMO_RETENTION_DAYS")

    sub.add_parser("bench", help="moved: run `python -m bench.store`", add_help=False)
    return p


def run(args) -> int:
    from annotations.store import Store

    if args.command == "bench":
        raise LlamoError("the store benchmark moved out of the library: run `python -m bench.store`.")
    store = Store.open(args.data_dir)
    try:
        if args.command == "where":
            print(store.where())
        elif args.command == "export":
            from annotations.export import export_dataset

            summary = export_dataset(
                store,
                args.out,
                args.format,
                status=[s.strip() for s in args.status.split(",") if s.strip()],
                annotator=args.annotator,
                since=args.since,
                latest=args.latest,
                with_video=args.with_video,
                segments=args.segments,
            )
            print(
                f"exported {summary.rows:,} {args.format} rows ({summary.conversations:,} conversations, "
                f"{summary.trainable_turns:,} training turns, {summary.clips:,} clips) to {args.out} "
                f"in {summary.seconds:.2f} s"
            )
        elif args.command == "import":
            from annotations.importing import import_dataset

            s = import_dataset(store, args.dir)
            print(
                f"imported {s.conversations:,} conversations ({s.corrections:,} corrections, {s.clips:,} new clips); "
                f"{s.skipped_existing:,} already present"
            )
        elif args.command == "push":
            _push(store, args)
        elif args.command == "stats":
            print(json.dumps(store.stats(), indent=2, ensure_ascii=False))
        elif args.command == "check":
            report = store.check(repair=not args.dry_run, grace_s=args.grace)
            print(json.dumps(report.as_dict(), indent=2))
            return 0 if report.ok else 1
        elif args.command == "backup":
            print(f"backup written to {store.backup(args.out)}")
        elif args.command == "delete":
            removed = store.delete_clip(args.clip)
            print(
                f"clip {args.clip} deleted ({removed} media file(s) removed; its conversations are marked deleted)"
            )
        elif args.command == "retention":
            if args.days is None and not os.environ.get("LLAMO_RETENTION_DAYS"):
                raise LlamoError("give --days or set LLAMO_RETENTION_DAYS.")
            print(f"removed {store.apply_retention(args.days)} uploaded videos past retention")
    finally:
        store.close()
    return 0


def _push(store, args) -> None:
    from annotations.push import push_dataset

    s = push_dataset(store, args.repo, out=args.out, private=args.private, license=args.license)
    where = (
        f"saved to {s.target}"
        if args.out
        else f"pushed to {s.target} ({'private' if s.private else 'public'})"
    )
    print(
        f"{where}: {s.rows:,} questions from {s.conversations:,} conversations, {s.clips:,} clips, "
        f"{s.responses:,} responses; licence {s.license}"
    )


def main(argv: list[str] | None = None) -> int:
    from llamo.cli import run_command

    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    args, _ = parser.parse_known_args(argv)  # `bench ARGS...` gets its one-sentence pointer whatever ARGS
    return run_command(run, args if args.command == "bench" else parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
