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
    """Motion from any file `llamo.importers.load_motion` reads, with one progress line per 10 %."""
    from llamo.importers import load_motion

    p = Path(path)
    if not p.exists():
        raise LlamoError(f"{path} does not exist.")
    last = [-1]

    def progress(fraction: float, message: str) -> None:
        pct = int(fraction * 100)
        if pct // 10 != last[0] // 10:  # one line per 10 %
            last[0] = pct
            print(f"[llamo] {pct:3d}% {message}", file=sys.stderr, flush=True)

    return load_motion(p, progress=progress)


def _fmt_frames(turn, fps: float, limit: int = 12) -> str:
    pairs = sorted(zip(turn.frame_scores, turn.selected_frames, strict=True), reverse=True)[:limit]
    return ", ".join(f"{f / fps:.1f}s" for _, f in sorted(pairs, key=lambda x: x[1]))


def _say(message: str) -> None:
    print(f"[llamo] {message}", file=sys.stderr)


def _introduce(model, session, motion) -> None:
    """Which model answers, and what its summary tokens tell it about the clip."""
    info = model.describe()
    _say(
        f"model: {info['checkpoint']} ({info['motion_tokens']}, K={info['num_tokens']}) on "
        f"{info['backbone']} · {info['device']} {info['dtype']} · clip {motion.duration:.1f} s"
    )
    if info["checkpoint"] == "untrained":
        _say("note: no trained checkpoint found; answers come from an untrained model.")
    if model.summary is not None:
        from llamo.model.summary import summary_text

        session.prepare()  # the encoding the first question would do anyway
        told = summary_text(model.motion_summary(session.state))
        _say(f"the model is told: {told or 'no action stands out'}")


def _stream(deltas) -> None:
    for delta in deltas:
        sys.stdout.write(delta)
        sys.stdout.flush()
    sys.stdout.write("\n")


def _report(turn, fps: float) -> None:
    t = turn.timings
    _say(
        f"motion {t['motion_encode_s'] * 1000:.0f} ms · prefill {t['prefill_s'] * 1000:.0f} ms "
        f"({t['input_tokens']} tokens) · first token {t['ttft_s'] * 1000:.0f} ms · "
        f"{t['tokens_per_s']:.1f} tokens/s"
    )
    if turn.selected_frames:
        _say(f"looked at: {_fmt_frames(turn, fps)}")


def _interactive(session, one, kwargs: dict) -> None:
    """Questions from stdin until an empty line or EOF; /regen and /reset are commands."""
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
        elif question == "/regen":
            if session.turns:
                _stream(session.regenerate(**kwargs))
        else:
            one(question)


def run(args) -> int:
    from llamo.chat import ChatSession
    from llamo.model import Llamo, load_default

    motion = load_input(args.input)
    if args.model:
        model = Llamo.from_pretrained(args.model, device=args.device).merge_lora().eval()
    else:
        model = load_default(device=args.device)
    session = ChatSession(model, motion)
    if not args.quiet:
        _introduce(model, session, motion)
    kwargs = {"temperature": args.temperature, "top_p": args.top_p, "max_new_tokens": args.max_new_tokens}

    def one(question: str) -> None:
        _stream(session.ask(question, **kwargs))
        if not args.quiet:
            _report(session.last_turn, motion.fps)

    if args.question:
        for q in args.question:
            one(q)
    else:
        _interactive(session, one, kwargs)
    return 0
