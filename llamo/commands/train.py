"""`python -m llamo train --data TRAIN.jsonl [--val VAL.jsonl] -o DIR [--stage align|instruct|both] ...`

Encoder pretraining (auxiliary heads), then stage 1 (align: LLM frozen) and stage 2 (instruct:
LoRA, text-only chat mixed in). Works on an annotation export (LLaVA or messages JSONL) too.
Several processes: `accelerate launch --multi_gpu --num_processes N -m llamo train ...` (each
trains on its share of every global batch; docs/training.md).
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--data", required=True, help="training JSONL (LLaVA or messages form)")
    parser.add_argument("--val", help="validation JSONL (loss every --val-every steps)")
    parser.add_argument("-o", "--out", required=True, help="output checkpoint directory")
    parser.add_argument(
        "--stage", default="both", choices=("align", "instruct", "both", "heads"),
        help="heads: with --init, retrain the motion heads (summary tokens; with --train-encoder the "
        "encoder too) on the labelled clips of --data for --pretrain-steps",
    )  # fmt: skip
    parser.add_argument(
        "--backbone", default="default", help="HF id or path (default: SmolLM2-135M-Instruct)"
    )
    parser.add_argument(
        "--motion-tokens",
        default="cross_talker",
        choices=("cross_talker", "mean_pool", "all_frames", "vq_tokens", "none"),
        help="fresh models only; with --init, 'none' drops the checkpoint's motion tokens (evidence only)",
    )
    parser.add_argument("--init", help="continue from this checkpoint (skips encoder pretraining)")
    parser.add_argument(
        "--evidence", choices=("on", "off"),
        help="the model reads each clip's measured facts (llamo.evidence) in its first question; default: --init's",
    )  # fmt: skip
    parser.add_argument("--text-data", help="text-only JSONL mixed into the instruct stage (see `data chat`)")
    parser.add_argument("--text-ratio", type=float, default=0.25)
    parser.add_argument("--steps", type=int, help="steps for each LLM stage (overrides the two below)")
    parser.add_argument("--align-steps", type=int, default=300)
    parser.add_argument("--instruct-steps", type=int, default=300)
    parser.add_argument("--pretrain-steps", type=int, default=600, help="encoder pretraining (0 = skip)")
    parser.add_argument("--vq-steps", type=int, default=600, help="VQ-VAE steps (vq_tokens only)")
    parser.add_argument(
        "--max-minutes",
        action="append",
        default=[],
        metavar="STAGE=MIN",
        help="stop a stage early after MIN minutes (pretrain, align, instruct); repeatable",
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-tokens", type=int, default=16, help="K motion tokens (fresh models)")
    parser.add_argument(
        "--summary-tokens", type=int, default=3,
        help="S summary tokens read off the encoder's heads (actions, counts, order; 0 = off)",
    )  # fmt: skip
    parser.add_argument("--d-model", type=int, default=192)
    parser.add_argument("--encoder-layers", type=int, default=3)
    parser.add_argument("--lr-pretrain", type=float, default=2e-3, help="encoder pretraining / --stage heads")
    parser.add_argument("--lr-align", type=float, default=1e-3)
    parser.add_argument("--lr-instruct", type=float, default=3e-4)
    parser.add_argument(
        "--train-encoder",
        action="store_true",
        help="keep training the encoder in LLM stages (and in --stage heads)",
    )
    parser.add_argument("--mixed-precision", default="no", choices=("no", "bf16", "fp16"))
    parser.add_argument("--device", help="cpu, cuda, ... (default: accelerate's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val-every", type=int, default=100)
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/state if present")


def run(args) -> int:
    import torch

    from llamo.errors import LlamoError
    from llamo.train.trainer import TrainConfig, train

    if args.threads:
        torch.set_num_threads(args.threads)
    budgets = {}
    for item in args.max_minutes:
        stage, _, minutes = item.partition("=")
        try:
            budgets[stage] = float(minutes)
        except ValueError:
            raise LlamoError(f"--max-minutes takes STAGE=MINUTES, not {item!r}.") from None
    cfg = TrainConfig(
        data=args.data,
        out=args.out,
        val=args.val,
        text_data=args.text_data,
        text_ratio=args.text_ratio,
        stage=args.stage,
        backbone=args.backbone,
        motion_tokens=args.motion_tokens,
        init=args.init,
        evidence=None if args.evidence is None else args.evidence == "on",
        num_tokens=args.num_tokens,
        summary_tokens=args.summary_tokens,
        d_model=args.d_model,
        encoder_layers=args.encoder_layers,
        pretrain_steps=args.pretrain_steps,
        vq_steps=args.vq_steps,
        align_steps=args.align_steps,
        instruct_steps=args.instruct_steps,
        steps=args.steps,
        max_minutes=budgets,
        batch_size=args.batch_size,
        lr_pretrain=args.lr_pretrain,
        lr_align=args.lr_align,
        lr_instruct=args.lr_instruct,
        train_encoder=args.train_encoder,
        mixed_precision=args.mixed_precision,
        device=args.device,
        seed=args.seed,
        val_every=args.val_every,
        save_every=args.save_every,
        log_every=args.log_every,
        resume=args.resume,
    )
    summary = train(cfg)
    print(f"trained {', '.join(summary['stages'])} in {summary['seconds'] / 60:.1f} min -> {args.out}")
    return 0
