"""`python -m llamo eval --model DIR --data TEST.jsonl -o REPORT.json` (+ REPORT.md beside it).

    --chat-data CHAT.jsonl   text-only prompts with the bare backbone's answers (survival check)
    --mocap DIR              labelled real BVH (../shared/data/mocap/bandai_ds1; evaluation only)
    --squat-video MP4        the count the model gives for a real squat video
    --held-out               with --mocap/--squat-video: the real-motion evaluation with held-out
                             phrasings (llamo.eval_real): naming, honesty, side, direction, counts
                             as a first and a later turn, plain chat with a clip attached
    --dev-clips DIR          the development set (llamo.eval_dev): converted ds2 clips' validation
                             takes with the development phrasings, to choose checkpoints by

A stored report's flags read again by the current measurement check (no model run; each section
needs the clips it came from):

    python -m llamo eval --reflag old.json --dev-clips DIR --mocap DIR --squat-video MP4 -o new.json

Side by side (the held-out real-motion figures of several reports in one table):

    python -m llamo eval --compare native=a.json evidence=b.json both=c.json -o variants.md

A candidate against a baseline over seeds (development reports; margins from the baseline's spread):

    python -m llamo eval --seeds-baseline s17.json s18.json s19.json \
        --seeds-candidate e17.json e18.json e19.json --gain swing_leg=6 --exempt kick_leg -o judge.md

Ablations (train every variant on the same data, backbone and step budget, then evaluate):

    python -m llamo eval --ablations cross_talker,mean_pool,all_frames,vq_tokens,none \\
        --train-data TRAIN.jsonl --data TEST.jsonl -o ablations.json --steps 40 --pretrain-steps 150
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from llamo.errors import LlamoError


def add_arguments(parser) -> None:
    parser.add_argument("--model", help="checkpoint directory (default: LLAMO_MODEL / assets/checkpoint)")
    parser.add_argument("--data", help="test JSONL with QA labels in meta (from `data synth --split test`)")
    parser.add_argument("--chat-data", help="text-only JSONL for the general-chat survival check")
    parser.add_argument("--mocap", help="folder of labelled Bandai-Namco BVH files (evaluation only)")
    parser.add_argument("--squat-video", help="a real squat video to count")
    parser.add_argument(
        "--held-out", action="store_true", help="real motion with held-out phrasings (llamo.eval_real)"
    )
    parser.add_argument(
        "--dev-clips", help="converted Bandai-Namco ds2 clips: the development set (validation takes)"
    )
    parser.add_argument("--limit", type=int, help="evaluate only the first N conversations")
    parser.add_argument(
        "--action-checks", choices=("on", "off"), default="off",
        help="on: check the summary's action names against the measured movement (llamo.model.action_gate)",
    )  # fmt: skip
    parser.add_argument(
        "--grounded", nargs="+", choices=("count", "time", "side", "none"), default=["count", "time", "side"],
        help="the answers held to the measurement (llamo.grounding; default all three); none: the model's own",
    )  # fmt: skip
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--device")
    parser.add_argument("-o", "--out", required=True, help="report .json (a .md is written beside it)")
    parser.add_argument(
        "--compare", nargs="+", metavar="NAME=REPORT",
        help="tabulate the held-out real-motion figures of these reports side by side (-o: the .md table)",
    )  # fmt: skip
    parser.add_argument(
        "--reflag", metavar="REPORT", help="read a report's answers again with the current measurement check"
    )
    sd = parser.add_argument_group("a candidate against a baseline over seeds (llamo.eval_seeds)")
    sd.add_argument("--seeds-baseline", nargs="+", metavar="REPORT", help="development reports, one per seed")
    sd.add_argument("--seeds-candidate", nargs="+", metavar="REPORT", help="the candidate's, same seeds")
    sd.add_argument("--gain", nargs="*", default=[], metavar="KIND=N", help="kinds that must gain N askings")
    sd.add_argument("--exempt", nargs="*", default=[], metavar="KIND", help="kinds shown but not judged")
    ab = parser.add_argument_group("ablations")
    ab.add_argument("--ablations", help="comma-separated motion-token modes to train and compare")
    ab.add_argument("--train-data", help="training JSONL for the ablation runs")
    ab.add_argument("--text-data", help="text-only JSONL mixed into the ablations' instruct stage")
    ab.add_argument("--steps", type=int, default=40, help="steps for each LLM stage of every variant")
    ab.add_argument("--pretrain-steps", type=int, default=150, help="encoder pretraining / VQ-VAE steps")
    ab.add_argument("--batch-size", type=int, default=12)
    ab.add_argument(
        "--summary-tokens", type=int, default=0,
        help="summary tokens for the encoder variants (0, the default, compares the paper's tokens alone)",
    )  # fmt: skip
    ab.add_argument("--work", help="folder for the ablation checkpoints (default: beside the report)")
    ab.add_argument(
        "--reuse",
        action="store_true",
        help="evaluate variants already trained in --work instead of retraining",
    )


def _progress(fraction: float, message: str) -> None:
    print(f"\r[eval] {message}    ", end="", file=sys.stderr, flush=True)


def run(args) -> int:
    from llamo.data.instructions import InstructionData
    from llamo.eval import evaluate, evaluate_real

    if args.ablations:
        return _ablations(args)
    if args.seeds_baseline or args.seeds_candidate:
        return _seeds(args)
    if args.reflag:
        return _reflag(args)
    if args.compare:
        from llamo.eval_compare import compare_markdown, load_reports

        table = compare_markdown(load_reports(args.compare))
        Path(args.out).write_text(table)
        print(table + f"wrote {args.out}")
        return 0
    from llamo.model import Llamo, load_default

    model = Llamo.from_pretrained(args.model, device=args.device) if args.model else load_default(args.device)
    model.merge_lora()
    model.check_actions = args.action_checks == "on"
    model.grounded = tuple(k for k in args.grounded if k != "none")
    report: dict = {
        "model": args.model or model.describe()["checkpoint"],
        "data": args.data,
        "describe": model.describe()
        | {"action_checks": args.action_checks, "grounded": list(model.grounded)},
    }
    if args.data:
        report["synthetic"] = evaluate(
            model,
            InstructionData(args.data),
            limit=args.limit,
            max_new_tokens=args.max_new_tokens,
            progress=_progress,
        )
        print(file=sys.stderr)
    if args.chat_data:
        chat = evaluate(model, InstructionData(args.chat_data), max_new_tokens=64, progress=_progress)
        print(file=sys.stderr)
        report["chat"] = chat.get("chat")
        report["chat_examples"] = chat["examples"].get("chat", [])
    if args.mocap or args.squat_video:
        report["real"] = evaluate_real(
            model, args.mocap, args.squat_video, cache_dir=Path(args.out).parent / "cache"
        )
    if args.dev_clips:
        from llamo.eval_dev import evaluate_dev

        report["dev"] = evaluate_dev(model, args.dev_clips)
    if len(report) <= 3:
        raise LlamoError(
            "nothing to evaluate: give --data, --chat-data, --mocap, --squat-video or --dev-clips."
        )
    if args.held_out:
        report["real_held_out"] = _held_out(model, args)
    _write(report, args.out)
    return 0


def _write(report: dict, out: str) -> None:
    """The report as .json and .md, with the held-out and development sections where present."""
    from llamo.eval import write_report

    js, md = write_report(report, out)
    if report.get("real_held_out"):
        from llamo.eval_real import markdown_real

        md.write_text(md.read_text() + "\n" + markdown_real(report["real_held_out"]))
    if report.get("dev"):
        from llamo.eval_dev import markdown_dev

        md.write_text(md.read_text() + "\n" + markdown_dev(report["dev"]))
    print(md.read_text())
    print(f"wrote {js} and {md}")


def _reflag(args) -> int:
    from llamo.eval_reflag import reflag_report

    path = Path(args.reflag)
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise LlamoError(f"{path} is not a readable evaluation report ({e.__class__.__name__}).") from None
    squat = _squat_motion(args.squat_video, path.parent / "cache") if args.squat_video else None
    done = reflag_report(report, dev_clips=args.dev_clips, mocap=args.mocap, squat=squat)
    _write(report, args.out)
    for r in done:
        print(f"{r.section}: {r.rows} answers read again, {r.changed} flags changed")
    return 0


def _squat_motion(video: str, cache_dir: Path):
    """The squat video's motion: the pose the run extracted (its cache), else extracted now."""
    from llamo.importers import load_motion
    from llamo.motion import Motion

    cached = cache_dir / "pose_squats.npz"
    return Motion.load(cached) if cached.is_file() else load_motion(video)


def _held_out(model, args) -> dict:
    from llamo.eval_real import evaluate_real_motion

    squat = _squat_motion(args.squat_video, Path(args.out).parent / "cache") if args.squat_video else None
    return evaluate_real_motion(model, args.mocap, squat)


def _ablations(args) -> int:
    from llamo.data.instructions import InstructionData
    from llamo.eval import evaluate
    from llamo.fileio import atomic_path
    from llamo.model import Llamo
    from llamo.train.trainer import TrainConfig, train

    if not (args.train_data and args.data):
        raise LlamoError("--ablations needs --train-data and --data (the test JSONL).")
    modes = [m.strip() for m in args.ablations.split(",") if m.strip()]
    out = Path(args.out)
    work = Path(args.work) if args.work else out.parent / "ablation_runs"
    results = json.loads(out.read_text()) if out.is_file() else {"runs": {}}
    test = InstructionData(args.data)
    for mode in modes:
        t0 = time.perf_counter()
        cfg = TrainConfig(
            data=args.train_data,
            out=str(work / mode),
            text_data=args.text_data,
            stage="both",
            motion_tokens=mode,
            steps=args.steps,
            pretrain_steps=args.pretrain_steps,
            vq_steps=args.pretrain_steps,
            batch_size=args.batch_size,
            summary_tokens=args.summary_tokens,
            mixed_precision="bf16",
            save_every=10**9,
            val_every=10**9,
        )
        trained = Path(cfg.out) / "training.json"
        if args.reuse and trained.is_file():
            summary = json.loads(trained.read_text())
            if summary["config"]["steps"] != args.steps:
                raise LlamoError(
                    f"{cfg.out} was trained with --steps {summary['config']['steps']}, not {args.steps}."
                )
            print(f"[eval] {mode}: reusing the run in {cfg.out}", file=sys.stderr)
        else:
            summary = train(cfg)
        model = Llamo.from_pretrained(cfg.out).merge_lora()
        rep = evaluate(model, test, limit=args.limit, max_new_tokens=args.max_new_tokens, progress=_progress)
        print(file=sys.stderr)
        rep.pop("examples", None)
        results["runs"][mode] = {
            "train_seconds": summary["seconds"],
            "total_seconds": round(time.perf_counter() - t0, 1),
            "steps": {
                s: summary["history"].get(s, {}).get("steps") for s in ("pretrain", "vq", "align", "instruct")
            },
            **rep,
        }
        results["budget"] = {"steps_per_llm_stage": args.steps, "pretrain_or_vq_steps": args.pretrain_steps,
                             "batch_size": args.batch_size, "train_data": args.train_data, "test_data": args.data,
                             "limit": args.limit}  # fmt: skip
        with atomic_path(out) as tmp:
            Path(tmp).write_text(json.dumps(results, indent=2))
        with atomic_path(out.with_suffix(".md")) as tmp:
            Path(tmp).write_text(ablation_markdown(results))
    print(ablation_markdown(results))
    return 0


def ablation_markdown(results: dict) -> str:
    kinds = sorted({k for r in results["runs"].values() for k in r.get("accuracy", {})})
    head = (
        "| motion tokens | "
        + " | ".join(kinds)
        + " | count OBZ | count OBO | LLM input tokens | latency (s) | train (min) |"
    )
    lines = [head, "|" + "---|" * (len(kinds) + 6)]
    for mode, r in results["runs"].items():
        acc = [f"{r['accuracy'].get(k, float('nan')):.0%}" for k in kinds]
        c = r.get("count") or {}
        lines.append(
            f"| {mode} | "
            + " | ".join(acc)
            + f" | {c.get('OBZ', float('nan')):.2f} | {c.get('OBO', float('nan')):.2f} | "
            f"{r['mean_input_tokens']:.0f} | {r['mean_latency_s']:.2f} | {r['train_seconds'] / 60:.1f} |"
        )
    b = results.get("budget", {})
    lines += ["", f"Budget per variant: {b.get('pretrain_or_vq_steps')} encoder-pretraining (or VQ-VAE) steps, "
              f"{b.get('steps_per_llm_stage')} align + {b.get('steps_per_llm_stage')} instruct steps at batch {b.get('batch_size')}."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _seeds(args) -> int:
    from llamo.eval_seeds import judge, judgement_markdown, load

    if not (args.seeds_baseline and args.seeds_candidate):
        raise LlamoError("give both --seeds-baseline and --seeds-candidate.")
    try:
        gains = {k: int(v) for k, _, v in (g.partition("=") for g in args.gain)}
    except ValueError:
        raise LlamoError("--gain takes KIND=N with a whole number N, e.g. swing_leg=6.") from None
    rows = judge(load(args.seeds_baseline), load(args.seeds_candidate), gains, set(args.exempt))
    table = judgement_markdown(rows)
    Path(args.out).write_text(table)
    print(table + f"wrote {args.out}")
    return 0
