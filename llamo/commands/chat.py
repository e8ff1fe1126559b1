"""`python -m llamo chat INPUT [-q QUESTION] [--model DIR]`: ask LLaMo about a motion, streaming."""

from __future__ import annotations

import sys
from pathlib import Path

from llamo.errors import LlamoError


def add_arguments(parser) -> None:
    parser.add_argument(
        "input", help="motion .npz, or anything llamo.importers.load_motion reads (video, .bvh, .npy)"
    )
    parser.add_argument(
        "-q", "--question", action="append", help="ask this and exit (repeat for several turns)"
    )
    parser.add_argument(
        "--model", help="checkpoint directory (default: LLAMO_MODEL, assets/checkpoint, else untrained)"
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: auto)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--quiet", action="store_true", help="no timing / frame lines")


def load_input(path: str):
    """Motion from a file: llamo.importers if available, else our own .npz format."""
    p = Path(path)
    if not p.exists():
        raise LlamoError(f"{path} does not exist.")
    try:
        from llamo.importers import load_motion
    except ImportError:
        load_motion = None
    if load_motion is not None:
        last = [-1]

        def progress(fraction: float, message: str) -> None:
            pct = int(fraction * 100)
            if pct // 10 != last[0] // 10:  # one line per 10 %
                last[0] = pct
                print(f"[llamo] {pct:3d}% {message}", file=sys.stderr, flush=True)

        return load_motion(p, progress=progress)
    if p.suffix.lower() != ".npz":
        raise LlamoError(f"{p.name}: only .npz motion files can be read until llamo.importers is installed.")
    from llamo.motion import Motion

    return Motion.load(p)


def _fmt_frames(turn, fps: float, limit: int = 12) -> str:
    pairs = sorted(zip(turn.frame_scores, turn.selected_frames, strict=True), reverse=True)[:limit]
    return ", ".join(f"{f / fps:.1f}s" for _, f in sorted(pairs, key=lambda x: x[1]))


def run(args) -> int:
    from llamo.chat import ChatSession
    from llamo.model import Llamo, load_default

    motion = load_input(args.input)
    if args.model:
        model = Llamo.from_pretrained(args.model, device=args.device).merge_lora().eval()
    else:
        model = load_default(device=args.device)
    info = model.describe()
    if not args.quiet:
        print(
            f"[llamo] model: {info['checkpoint']} ({info['motion_tokens']}, K={info['num_tokens']}) on "
            f"{info['backbone']} · {info['device']} {info['dtype']} · clip {motion.duration:.1f} s",
            file=sys.stderr,
        )
        if info["checkpoint"] == "untrained":
            print(
                "[llamo] note: no trained checkpoint found; answers come from an untrained model.",
                file=sys.stderr,
            )
    session = ChatSession(model, motion)
    if model.summary is not None and not args.quiet:
        from llamo.model.summary import summary_text

        session.prepare()  # the encoding the first question would do anyway
        told = summary_text(model.motion_summary(session.state))
        print(f"[llamo] the model is told: {told or 'no action stands out'}", file=sys.stderr)
    kwargs = {"temperature": args.temperature, "top_p": args.top_p, "max_new_tokens": args.max_new_tokens}

    def one(question: str) -> None:
        for delta in session.ask(question, **kwargs):
            sys.stdout.write(delta)
            sys.stdout.flush()
        sys.stdout.write("\n")
        turn = session.last_turn
        if not args.quiet:
            t = turn.timings
            print(
                f"[llamo] motion {t['motion_encode_s'] * 1000:.0f} ms · prefill {t['prefill_s'] * 1000:.0f} ms "
                f"({t['input_tokens']} tokens) · first token {t['ttft_s'] * 1000:.0f} ms · "
                f"{t['tokens_per_s']:.1f} tokens/s",
                file=sys.stderr,
            )
            if turn.selected_frames:
                print(f"[llamo] looked at: {_fmt_frames(turn, motion.fps)}", file=sys.stderr)

    if args.question:
        for q in args.question:
            one(q)
        return 0
    print(
        "Ask about the motion (empty line or Ctrl-D to quit, /regen to answer again, /reset).",
        file=sys.stderr,
    )
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            break
        if not question:
            break
        if question == "/reset":
            session.reset()
            continue
        if question == "/regen":
            if not session.turns:
                continue
            for delta in session.regenerate(**kwargs):
                sys.stdout.write(delta)
                sys.stdout.flush()
            sys.stdout.write("\n")
            continue
        one(question)
    return 0
