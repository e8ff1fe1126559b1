"""`python -m bench.chat`: time to first token over turns, scaling with clip length, decode.

1. TTFT on turns 1-5 of one conversation about a 10 s clip, cache carried (target <= 0.5 s on
   CPU), with the breakdown: motion encoding (+ Cross Talker), prefill, new input tokens.
2. Scaling: LLM input tokens and turn-1 TTFT for 5/30/120/600 s clips under cross_talker,
   all_frames and vq_tokens (motion extraction excluded; synthetic random-walk motion).
3. Decode: tokens/s of ChatSession against the bare backbone's `generate` at the same prompt
   length (LoRA merged, so the ratio should be about 1.0).
4. Batching: 1, 4 and 10 clients at once, each session decoded on its own against the batched
   scheduler (llamo.serving); the same as `python -m bench.serving` (bench/serving.py).

Hygiene (bench/_util.py): one untimed warm-up, threads pinned and printed, median and minimum
of N repeats, machine load printed, the baseline interleaved with the candidate.
"""

from __future__ import annotations

import statistics
import time

from bench._util import add_out_argument, interleaved, machine_line, main_for, pin_threads

QUESTIONS = (
    "What is the person doing?",
    "How many repetitions do they do?",
    "What happens in the last few seconds?",
    "Is the left arm moving more than the right arm?",
    "Describe the motion in one sentence.",
)


def add_arguments(parser) -> None:
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement (default 3)")
    parser.add_argument("--device", default=None, help="cpu / cuda (default: auto)")
    parser.add_argument(
        "--model", help="checkpoint directory (default: as `chat`: LLAMO_MODEL, assets/checkpoint, untrained)"
    )
    parser.add_argument(
        "--answer-tokens", type=int, default=24, help="tokens generated per turn (default 24)"
    )
    parser.add_argument(
        "--lengths", default="5,30,120,600", help="clip lengths in seconds for the scaling table"
    )
    parser.add_argument(
        "--skip", default="", help="comma list of sections to skip: turns,scaling,decode,batching"
    )
    parser.add_argument("--clients", default="1,4,10", help="client counts for the batching section")
    parser.add_argument("--turns", type=int, default=3, help="questions per client in the batching section")
    add_out_argument(parser)


def _turn_run(model, motion, answer_tokens):
    from llamo.chat import ChatSession

    s = ChatSession(model, motion)
    for q in QUESTIONS:
        for _ in s.ask(q, max_new_tokens=answer_tokens, min_new_tokens=answer_tokens):
            pass
    return [t.timings for t in s.turns]


def bench_turns(model, args, report):
    from llamo.testing import random_walk

    motion = random_walk(200, seed=1)  # 10 s at 20 fps
    _turn_run(model, motion, args.answer_tokens)  # warm-up
    runs = [_turn_run(model, motion, args.answer_tokens) for _ in range(args.repeats)]
    print(
        f"\n1. time to first token, one conversation about a 10 s clip (cache carried; median of {args.repeats})"
    )
    print(
        f"{'turn':>4}  {'new tokens':>10}  {'context':>7}  {'motion ms':>9}  {'prefill ms':>10}  {'TTFT ms':>8}  {'TTFT min':>8}"
    )
    rows = []
    for i in range(len(QUESTIONS)):
        med = {k: statistics.median(r[i][k] for r in runs) for k in runs[0][i]}
        ttft_min = min(r[i]["ttft_s"] for r in runs)
        rows.append({**med, "turn": i + 1, "ttft_min_s": ttft_min})
        print(
            f"{i + 1:>4}  {int(med['input_tokens']):>10}  {int(med['context_tokens']):>7}  "
            f"{med['motion_encode_s'] * 1e3:>9.0f}  {med['prefill_s'] * 1e3:>10.0f}  {med['ttft_s'] * 1e3:>8.0f}  "
            f"{ttft_min * 1e3:>8.0f}"
        )
    worst = max(r["ttft_s"] for r in rows)
    print(f"worst turn TTFT {worst:.3f} s (target <= 0.5 s on CPU): {'met' if worst <= 0.5 else 'NOT met'}")
    report["turns"] = rows


def bench_scaling(models, args, report):
    from llamo.chat import ChatSession
    from llamo.errors import LlamoError
    from llamo.testing import random_walk

    lengths = [float(x) for x in args.lengths.split(",") if x]
    print("\n2. scaling with clip length (turn 1; extraction excluded; median of n)")
    print("   encode = clip encoding, once per clip (ChatSession.prepare, e.g. at upload);")
    print("   TTFT = question -> first token, including the clip encoding; TTFT prepared = after prepare()")
    print(
        f"{'clip':>6}  {'mode':<13} {'LLM input':>9}  {'encode ms':>9}  {'TTFT ms':>8}  {'TTFT prepared ms':>16}  {'n':>2}"
    )
    table = []
    for seconds in lengths:
        motion = random_walk(int(seconds * 20), seed=2)
        row = {"seconds": seconds}
        for mode, model in models.items():
            reps = args.repeats if seconds <= 120 else max(1, args.repeats // 2)
            cold, warm, enc, tokens = [], [], [], None
            try:
                for r in range(reps + 1):  # the first round is the warm-up
                    s = ChatSession(model, motion)
                    for _ in s.ask(QUESTIONS[0], max_new_tokens=1):
                        pass
                    p = ChatSession(model, motion)
                    e = p.prepare()
                    for _ in p.ask(QUESTIONS[0], max_new_tokens=1):
                        pass
                    tokens = s.last_turn.timings["input_tokens"]
                    if r:
                        cold.append(s.last_turn.timings["ttft_s"])
                        warm.append(p.last_turn.timings["ttft_s"])
                        enc.append(e)
            except LlamoError:
                row[mode] = None
                print(f"{seconds:>5.0f}s  {mode:<13} {'n/a (past the context window)':>40}", flush=True)
                continue
            med = {"input_tokens": tokens, "encode_s": statistics.median(enc), "ttft_s": statistics.median(cold),
                   "ttft_prepared_s": statistics.median(warm), "n": len(cold)}  # fmt: skip
            row[mode] = med
            print(
                f"{seconds:>5.0f}s  {mode:<13} {tokens:>9}  {med['encode_s'] * 1e3:>9.0f}  {med['ttft_s'] * 1e3:>8.0f}  "
                f"{med['ttft_prepared_s'] * 1e3:>16.0f}  {len(cold):>2}",
                flush=True,
            )
        table.append(row)
    first, last = table[0].get("cross_talker"), table[-1].get("cross_talker")
    if first and last and len(table) > 1:
        ratio = last["ttft_s"] / first["ttft_s"]
        ratio_p = last["ttft_prepared_s"] / first["ttft_prepared_s"]
        print(
            f"cross_talker: {lengths[-1]:.0f} s costs {ratio:.2f}x the TTFT of {lengths[0]:.0f} s including clip "
            f"encoding, {ratio_p:.2f}x after prepare() (target <= 2x)"
        )
        report["cross_talker_long_over_short"] = {"ttft": ratio, "ttft_prepared": ratio_p}
    report["scaling"] = table


def bench_decode(model, args, report):
    import torch

    from llamo.chat import ChatSession
    from llamo.testing import random_walk

    n = 48
    motion = random_walk(200, seed=3)
    state = {}

    def ours():
        s = ChatSession(model, motion)
        for _ in s.ask(QUESTIONS[0], max_new_tokens=n, min_new_tokens=n):
            pass
        state["ours"] = s.last_turn.timings
        state["prompt_len"] = s.last_turn.timings["input_tokens"]

    ours()
    vocab = model.llm.get_input_embeddings().weight.shape[0]
    ids = torch.randint(vocab // 10, vocab // 2, (1, state["prompt_len"]), device=model.llm_device)

    def bare(tokens):
        def run():
            t = time.perf_counter()
            with torch.inference_mode():
                model.llm.generate(
                    ids, attention_mask=torch.ones_like(ids), max_new_tokens=tokens, min_new_tokens=tokens,
                    do_sample=False, pad_token_id=model.tokenizer.pad_token_id,
                )  # fmt: skip
            state[f"bare{tokens}"] = time.perf_counter() - t

        return run

    ours_rates, bare_rates = [], []
    for _ in range(args.repeats + 1):
        timings = interleaved({"ours": ours, "bare1": bare(1), "bareN": bare(n)}, repeats=1, warmup=0)
        ours_rates.append(state["ours"]["tokens_per_s"])
        bare_rates.append((n - 1) / max(1e-9, timings["bareN"].median - timings["bare1"].median))
    ours_rates, bare_rates = ours_rates[1:], bare_rates[1:]  # the first round is the warm-up
    ro, rb = statistics.median(ours_rates), statistics.median(bare_rates)
    print(f"\n3. decode at a {state['prompt_len']}-token prompt, {n} new tokens (median of {args.repeats})")
    print(f"   LLaMo ChatSession {ro:.1f} tokens/s (min {min(ours_rates):.1f}); bare backbone generate "
          f"{rb:.1f} tokens/s (min {min(bare_rates):.1f}); ratio {ro / rb:.2f}")  # fmt: skip
    report["decode"] = {
        "ours_tokens_per_s": ro,
        "bare_tokens_per_s": rb,
        "ratio": ro / rb,
        "prompt_tokens": state["prompt_len"],
    }


def run(args) -> dict:
    from llamo.model import Llamo, LlamoConfig, load_default

    threads = pin_threads(args.threads)
    print(machine_line(threads))
    skip = set(args.skip.split(","))
    t0 = time.perf_counter()
    if args.model:
        model = Llamo.from_pretrained(args.model, device=args.device).merge_lora().eval()
    else:
        model = load_default(device=args.device)
    info = model.describe()
    print(f"model: {info['checkpoint']} · {info['motion_tokens']} K={info['num_tokens']} · backbone {info['backbone']} "
          f"({info['backbone_signature']}) · {info['device']} {info['dtype']} · LoRA {info['lora']} · loaded in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    report: dict = {"machine": machine_line(threads), "model": info}
    if "turns" not in skip:
        bench_turns(model, args, report)
    if "scaling" not in skip:
        backbone = (model.llm, model.tokenizer)
        models = {}
        for mode in ("cross_talker", "all_frames", "vq_tokens"):
            if mode == model.config.motion_tokens:
                models[mode] = model
            else:
                models[mode] = Llamo.build(
                    LlamoConfig(motion_tokens=mode, backbone=model.config.backbone), backbone=backbone
                )
        bench_scaling(models, args, report)
    if "decode" not in skip:
        bench_decode(model, args, report)
    if "batching" not in skip:
        from bench.serving import argparse_like, compare

        burst = argparse_like(args, tokens=args.answer_tokens, arrivals="barrier", think_s=0.0)
        report["batching"] = compare(model, burst)
    return report


def main(argv: list[str] | None = None) -> int:
    return main_for("bench.chat", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
