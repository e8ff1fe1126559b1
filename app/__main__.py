"""`python -m app [--host H] [--port P]`: serve LLaMo on the default model (or LLAMO_MODEL)."""

from __future__ import annotations

import argparse
import os
import sys


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m app", description="Serve the LLaMo web app.")
    p.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="address to listen on (GRADIO_SERVER_NAME; Spaces needs 0.0.0.0)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
        help="port (GRADIO_SERVER_PORT)",
    )
    p.add_argument(
        "--users", default=None, help="launch(auth=...) users: name:password,... or @file (also LLAMO_USERS)"
    )
    p.add_argument("--reviewers", default=None, help="comma-separated reviewer names (also LLAMO_REVIEWERS)")
    p.add_argument(
        "--admins",
        default=None,
        help="comma-separated admin names: they review, change the guidelines and settings, assign "
        "clips and export everything (also LLAMO_ADMINS)",
    )
    p.add_argument(
        "--insecure-open",
        action="store_true",
        default=os.environ.get("LLAMO_INSECURE_OPEN", "") not in ("", "0"),
        help="serve on a non-local address without sign-in: anyone who reaches it reads and exports "
        "every conversation (also LLAMO_INSECURE_OPEN=1)",
    )
    p.add_argument("--max-file-mb", type=int, default=None, help="upload size limit (default 200)")
    p.add_argument(
        "--max-duration", type=float, default=None, help="clip duration limit in seconds (default 600)"
    )
    p.add_argument("--chat-concurrency", type=int, default=None, help="generations at once (default 16)")
    p.add_argument(
        "--no-batched",
        action="store_true",
        help="decode each tab's answer on its own instead of in one batch (also LLAMO_BATCHED=0)",
    )
    p.add_argument(
        "--queue-size", type=int, default=None, help="waiting requests before refusing (default 64)"
    )
    return p.parse_args(argv)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def is_local(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def exposure(host: str, cfg, *, insecure_open: bool = False) -> str:
    """Refuse to serve an unprotected app beyond this machine: without sign-in anyone on the
    network could read and export every conversation. Returns the warning to print ("" if none)."""
    if is_local(host) or cfg.users or cfg.oauth:
        return ""
    if not insecure_open:
        from llamo.errors import LlamoError

        raise LlamoError(
            f"--host {host} without sign-in would let anyone on the network read and export every "
            "conversation; add --users name:password (or HF OAuth on a Space), or --insecure-open "
            "if that is really meant."
        )
    return (
        f"WARNING: serving on {host} with no sign-in (--insecure-open): anyone who can reach this "
        "address can read, change and export every conversation and motion."
    )


def main(argv=None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = parse_args(argv)
    from app.config import AppConfig, names, parse_users
    from llamo.errors import LlamoError

    try:
        cfg = AppConfig.from_env(
            users=parse_users(args.users) if args.users else None,
            reviewers=names(args.reviewers) if args.reviewers else None,
            admins=names(args.admins) if args.admins else None,
            max_file_mb=args.max_file_mb,
            max_duration_s=args.max_duration,
            chat_concurrency=args.chat_concurrency,
            batched=False if args.no_batched else None,
            queue_size=args.queue_size,
        )
        warning = exposure(args.host, cfg, insecure_open=args.insecure_open)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        from annotations.hub_backup import HubBackup
        from annotations.store import Store
        from llamo.storage import hub_cache_env, storage_plan

        plan = storage_plan()
        hub_cache_env(plan)  # the Hub's cache on the bucket (app.py, on a Space, did it before any import)
        store = Store.open()
        print(f"LLaMo: annotations are stored in {store.data_dir}; {plan.why}", flush=True)
        backup = HubBackup.from_env(store)  # LLAMO_BACKUP_REPO: periodic private dataset backups
        if not cfg.users and not cfg.oauth:
            from app.identity import HOW_TO_REVIEW

            print(f"LLaMo: typed names annotate. {HOW_TO_REVIEW}", flush=True)
        print(
            "LLaMo: loading the model (the first start fetches and caches the default backbone)…", flush=True
        )

        def progress(fraction: float, message: str = "") -> None:
            print(f"  [{fraction * 100:5.1f}%] {message}", flush=True)

        from llamo.model import load_default

        model = load_default(progress=progress)
        from app import create_app
        from app.ui import launch_kwargs

        demo = create_app(model, store, cfg)
    except LlamoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    d = demo.llamo_core.model_card().info
    print(
        f"LLaMo: model {d.get('checkpoint')} on {d.get('device')} (backbone {d.get('backbone')})", flush=True
    )
    print(f"LLaMo: serving http://{args.host}:{args.port}", flush=True)
    if backup is not None:
        print(f"LLaMo: backing up to {backup.target} every {backup.every_s:.0f} s (and at exit)", flush=True)
        backup.start()
    try:
        demo.launch(server_name=args.host, server_port=args.port, **launch_kwargs(demo.llamo_core))
    finally:
        if backup is not None:
            backup.stop(final=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
