"""`python -m bench.train`: seconds per training step (collate, forward, backward).

Candidate: the trainer's path, where the loss projects only the labelled positions onto the
vocabulary and the frozen backbone is stored in bf16. Baseline, interleaved in the same run: the
backbone's own full-vocabulary loss with fp32 weights cast by autocast on every step (what the
trainer did before). Both run the instruct stage (LoRA + motion modules) under bf16 autocast on
the same synthetic batches, so their losses must agree; the bench prints both.

Hygiene (bench/_util.py): untimed warm-up, threads pinned and printed, median and minimum of N,
machine load printed, baseline interleaved with the candidate.
"""

from __future__ import annotations

import torch

from bench._util import add_out_argument, interleaved, machine_line, main_for, pin_threads
from llamo.testing import full_vocabulary_loss


def add_arguments(parser) -> None:
    parser.add_argument("--backbone", default="default", help="backbone id (default: SmolLM2-135M)")
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2, help="threads (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per path (default 5)")
    add_out_argument(parser)


def _models(backbone: str):
    """Two copies of one fresh model (same weights): the candidate's backbone stored in bf16."""
    import copy

    from llamo.model import Llamo, LlamoConfig
    from llamo.train.trainer import TrainConfig, frozen_weights_to_bf16

    torch.manual_seed(0)
    t = TrainConfig(data="", out="", backbone=backbone)  # the trainer's model shape
    config = LlamoConfig(
        backbone=backbone, num_tokens=t.num_tokens, d_model=t.d_model,
        encoder_layers=t.encoder_layers, system_prompt=t.system_prompt,
    )  # fmt: skip
    slow = Llamo.build(config, device="cpu")
    slow.set_stage("instruct", train_encoder=False)
    fast = copy.deepcopy(slow)
    frozen_weights_to_bf16(fast.llm)
    return fast.train(), slow.train()


def run(args) -> dict:
    from llamo.data.synthetic import synthetic_example

    threads = pin_threads(args.threads)
    print(machine_line(threads))
    examples = [synthetic_example(0, "train", i) for i in range(args.batch_size)]
    convs, motions = [e.conversation for e in examples], [e.motion for e in examples]
    fast, slow = _models(args.backbone)
    losses: dict[str, float] = {}

    def step(name, model, loss_fn):
        def go():
            batch = model.collate(convs, motions)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = loss_fn(model, batch)
            loss.backward()
            model.zero_grad(set_to_none=True)
            losses[name] = float(loss.detach())

        return go

    timings = interleaved(
        {
            "answer-positions loss, bf16 backbone": step("candidate", fast, lambda m, b: m(**b).loss),
            "full-vocabulary loss, fp32 backbone (baseline)": step("baseline", slow, full_vocabulary_loss),
        },
        repeats=args.repeats,
    )
    tokens = fast.collate(convs, motions)["input_ids"].numel()
    print(f"instruct step, batch {args.batch_size} ({tokens} padded tokens), {args.repeats} steps each:")
    for t in timings.values():
        print(f"  {t.name:48s} median {t.median:.2f} s   min {t.minimum:.2f} s")
    cand, base = timings.values()
    print(
        f"speed-up: {base.median / cand.median:.2f}x by median, {base.minimum / cand.minimum:.2f}x by minimum"
    )
    print(f"loss: candidate {losses['candidate']:.4f}, baseline {losses['baseline']:.4f}")
    report = {
        "threads": threads,
        "batch_size": args.batch_size,
        "tokens": tokens,
        "losses": losses,
        **{t.name: t.as_dict() for t in timings.values()},
    }
    return report


def main(argv: list[str] | None = None) -> int:
    return main_for("bench.train", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
