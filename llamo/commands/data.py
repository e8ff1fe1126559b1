"""`python -m llamo data synth|chat|real|grafts|evidence|mix|append ...`: make instruction data.

    python -m llamo data synth --n 4000 --seed 0 --split train -o data/train
    python -m llamo data chat --n 96 -o data/chat.jsonl      # text-only rows from the backbone
    python -m llamo data real --source ~/.cache/llamo/bandai_ds2/motions --split train -o data/real
    python -m llamo data grafts --source ~/.cache/llamo/bandai_ds2/motions --n 600 -o data/grafts
    python -m llamo data evidence data/real/data.jsonl -o data/real/data_ev.jsonl
    python -m llamo data mix --synth S.jsonl --real R.jsonl --chat C.jsonl --clips DIR -o mix.jsonl
    python -m llamo data append mix.jsonl --rows data/grafts/data_ev.jsonl --per-side 100 -o mix2.jsonl

`synth` writes DIR/motions/*.npz and DIR/data.jsonl (LLaVA form, labels in each row's meta).
Splits draw clip seeds from disjoint residues (seed*3 + split index), and the test split asks
only held-out phrasings (llamo.data.templates.HELD_OUT).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from llamo.errors import LlamoError

SPLITS = ("train", "val", "test")
QUESTION_SETS = ("standard", "extended", "broad")  # llamo.data.templates.QUESTION_SETS, kept import-light


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    s = sub.add_parser("synth", help="synthetic motions + QA conversations")
    s.add_argument("--n", type=int, default=1000, help="number of clips")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--split", choices=SPLITS, default="train")
    s.add_argument("--max-turns", type=int, default=2, help="QA pairs per conversation (1..N)")
    s.add_argument("--fps", type=float, default=20.0)
    s.add_argument("--other", type=float, default=0.05, help="share of unfamiliar ('can't tell') clips")
    s.add_argument(
        "--questions",
        choices=QUESTION_SETS,
        default="standard",
        help="extended: more tempo and off-topic phrasings, asked more often; broad: extended plus the "
        "paraphrase bank (held-out phrasings unchanged)",
    )
    s.add_argument("-o", "--out", required=True, help="output directory")
    c = sub.add_parser("chat", help="text-only chat rows: the backbone's own answers to general prompts")
    c.add_argument("--n", type=int, default=96, help="number of prompts to answer (at most the list)")
    c.add_argument("--split", choices=("train", "test"), default="train")
    c.add_argument("--backbone", default="default")
    c.add_argument("--max-new-tokens", type=int, default=64)
    c.add_argument("--worded", action="store_true",
                   help="general questions worded like motion ones (which side, how many, when) instead")  # fmt: skip
    c.add_argument("-o", "--out", required=True, help="output .jsonl")
    r = sub.add_parser(
        "real", help="questions about real mocap (Bandai-Namco dataset 2, CC BY-NC; converted .npz)"
    )
    r.add_argument(
        "--source", required=True, help="folder of converted dataset-2 clips (python -m llamo extract)"
    )
    r.add_argument("--split", choices=SPLITS, default="train")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--sequences", type=int, default=1000, help="composed sequences of 2-3 real clips")
    r.add_argument("--questions", choices=("standard", "broad"), default="standard",
                   help="broad: the paraphrase bank's wordings too (held-out phrasings unchanged)")  # fmt: skip
    r.add_argument("--reverse-walks", action="store_true",
                   help="add each straight walk played backwards, labelled walking backwards")  # fmt: skip
    r.add_argument("--unnamed-share", type=float, default=0.0,
                   help="extra conversations (share of the rest) asking for the action as if unknown")  # fmt: skip
    r.add_argument("-o", "--out", required=True, help="output directory")
    g = sub.add_parser("grafts", help="kicks on real bodies: ds2 training takes with a synthetic kicking leg")
    g.add_argument("--source", required=True, help="folder of converted dataset-2 clips")
    g.add_argument("--n", type=int, default=600, help="number of grafted clips (one conversation each)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("-o", "--out", required=True, help="output directory")
    e = sub.add_parser("evidence", help="open each conversation with its clip's measured facts")
    e.add_argument("data", help="input .jsonl")
    e.add_argument("-o", "--out", required=True, help="output .jsonl")
    m = sub.add_parser("mix", help="synthetic + real + plain chat with a clip attached, shuffled")
    m.add_argument("--synth", required=True, nargs="+", help="synthetic .jsonl (one or more)")
    m.add_argument("--real", help="real-motion .jsonl (leave out for a permissively licensed mix)")
    m.add_argument("--chat", required=True, help="text-only chat .jsonl (data chat)")
    m.add_argument("--clips", help="folder of converted real clips for plain chat with a clip attached")
    m.add_argument("--plain", type=int, default=400, help="plain-chat-with-a-clip conversations")
    m.add_argument("--no-evidence", action="store_true", help="for models that do not read measured facts")
    m.add_argument("--plain-only", action="store_true",
                   help="write only the plain-chat-with-a-clip rows (the other sets give their clips)")  # fmt: skip
    m.add_argument("--seed", type=int, default=16)
    m.add_argument("-o", "--out", required=True, help="output .jsonl")
    a = sub.add_parser("append", help="a mix with another set's rows after it (all, or a draw per side)")
    a.add_argument("base", help="the mix .jsonl")
    a.add_argument("--rows", required=True, help="the .jsonl whose rows are appended, in file order")
    a.add_argument("--per-side", type=int, default=0,
                   help="append a seeded draw of this many left-side and right-side rows (0: all)")  # fmt: skip
    a.add_argument("--seed", type=int, default=2207)
    a.add_argument("-o", "--out", required=True, help="output .jsonl")


def _reporter(what: str) -> Callable[[int, int], None]:
    """A progress callback that prints done/total, elapsed time and an ETA on one stderr line."""
    start = time.perf_counter()

    def report(done: int, total: int) -> None:
        el = time.perf_counter() - start
        eta = el / max(done, 1) * (total - done)
        print(
            f"\r{what}: {done}/{total}  {el:.0f}s elapsed, ETA {eta:.0f}s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return report


def _synth(args) -> int:
    from llamo.data.synthetic import write_synthetic

    if args.n < 1:
        raise LlamoError("--n must be at least 1.")
    summary = write_synthetic(
        Path(args.out),
        n=args.n,
        seed=args.seed,
        split=args.split,
        max_turns=args.max_turns,
        fps=args.fps,
        other=args.other,
        questions=args.questions,
        progress=_reporter("clips"),
    )
    print(file=sys.stderr)
    print(f"wrote {summary['clips']} clips, {summary['questions']} questions to {summary['jsonl']}")
    print("questions per kind: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["kinds"].items())))
    return 0


def _chat(args) -> int:
    from llamo.data.text_chat import write_text_chat

    kwargs = {
        "n": args.n,
        "split": args.split,
        "backbone": args.backbone,
        "max_new_tokens": args.max_new_tokens,
        "worded": args.worded,
    }
    n = write_text_chat(Path(args.out), **kwargs, progress=_reporter("prompts"))
    print(file=sys.stderr)
    print(f"wrote {n} text-only conversations to {args.out}")
    return 0


def _real(args) -> int:
    from llamo.data.real_writer import RealDataConfig, write_real

    cfg = RealDataConfig(
        split=args.split,
        seed=args.seed,
        sequences=args.sequences,
        chat_share=0.0,
        questions=args.questions,
        reverse_walks=args.reverse_walks,
        unnamed_share=args.unnamed_share,
    )
    summary = write_real(args.source, Path(args.out), cfg)
    print(
        f"wrote {summary['conversations']} conversations about {summary['clips']} real clips to {summary['jsonl']}"
    )
    print(f"licence: {summary['licence']}")
    return 0


def _grafts(args) -> int:
    from llamo.data.graft_data import write_grafts

    summary = write_grafts(args.source, Path(args.out), args.n, args.seed)
    print(f"wrote {summary['conversations']} conversations about grafted kicks to {summary['jsonl']}")
    print(f"licence: {summary['licence']}")
    return 0


def _evidence(args) -> int:
    from llamo.data.evidence_data import write_with_evidence

    written = write_with_evidence(args.data, args.out)
    print(
        f"wrote {written.conversations} conversations with measured facts to {args.out}; "
        f"{written.masked} answers the measurement contradicts kept out of the loss"
    )
    return 0


def _mix(args) -> int:
    from llamo.data.mix import mix

    counts = mix(
        [Path(p) for p in args.synth],
        Path(args.real) if args.real else None,
        Path(args.chat),
        Path(args.clips) if args.clips else None,
        Path(args.out),
        plain_n=args.plain,
        seed=args.seed,
        evidence=not args.no_evidence,
        plain_only=args.plain_only,
    )
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _append(args) -> int:
    from llamo.data.mix import append_rows

    if args.per_side < 0:
        raise LlamoError("--per-side must be 0 (all rows) or more.")
    counts = append_rows(
        Path(args.base), Path(args.rows), Path(args.out), per_side=args.per_side, seed=args.seed
    )
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


ACTIONS = {
    "synth": _synth,
    "chat": _chat,
    "real": _real,
    "grafts": _grafts,
    "evidence": _evidence,
    "mix": _mix,
    "append": _append,
}


def run(args) -> int:
    if args.action not in ACTIONS:
        raise LlamoError(f"unknown data action {args.action!r}.")
    return ACTIONS[args.action](args)
