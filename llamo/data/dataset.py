"""Instruction data on disk and in batches.

- `write_synthetic`: synthetic clips + QA conversations -> DIR/motions/*.npz + DIR/data.jsonl.
- `write_text_chat`: text-only rows (the backbone's own answers to general prompts), mixed into
  the LoRA stage so plain chat survives.
- `InstructionData`: a JSONL file (either form) with its motions loaded once and cached.
- `frame_targets`: per-frame auxiliary targets (action, side, direction, repetition phase and
  density) from a synthetic motion's labels, for encoder pretraining.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from llamo.data.schema import Conversation, Turn, read_jsonl, write_jsonl
from llamo.data.synth import (
    ACTIONS,
    OTHER,
    SIDED,
    SegmentSpec,
    random_sequence_specs,
    random_spec,
    synthesize_sequence,
)
from llamo.data.templates import make_qas
from llamo.errors import LlamoError
from llamo.motion import Motion

SPLIT_INDEX = {"train": 0, "val": 1, "test": 2}


def clip_seed(seed: int, split: str, i: int) -> int:
    """Disjoint across splits by construction (residue mod 3)."""
    return ((seed * 10_000_000 + i) * 3 + SPLIT_INDEX[split]) % (2**62)


def synthetic_example(
    seed: int,
    split: str,
    i: int,
    *,
    max_turns: int = 3,
    fps: float = 20.0,
    other: float = 0.05,
    questions: str = "standard",
):
    """(Motion, Conversation without motion path) for clip i of a split."""
    s = clip_seed(seed, split, i)
    rng = np.random.default_rng(s)
    u = rng.random()
    if u < other:
        specs = [SegmentSpec(OTHER)]
    elif u < other + 0.25:  # focus: actions with a side or a direction, alone
        action = str(rng.choice(list(SIDED) + ["walk", "walk", "run", "jump"]))
        specs = [random_spec(rng, action)]
    else:
        specs = random_sequence_specs(rng)
    motion = synthesize_sequence(specs, seed=s, noise=bool(rng.random() < 0.85), fps=fps)
    segments = motion.meta["labels"]["segments"]
    qas = make_qas(segments, rng, split, max_turns=max_turns, questions=questions)
    turns: list[Turn] = []
    qa_meta = []
    for j, (kind, question, answer, label) in enumerate(qas):
        turns.append(Turn("user", ("<motion>\n" if j == 0 else "") + question))
        qa_meta.append({"turn": len(turns), "kind": kind, "label": label})
        turns.append(Turn("assistant", answer))
    conv = Conversation(
        id=f"{split}-{seed}-{i:06d}",
        turns=turns,
        meta={"qa": qa_meta, "split": split, "clip_seed": s, "segments": segments},
    )
    return motion, conv


def write_synthetic(
    out: Path,
    *,
    n: int,
    seed: int = 0,
    split: str = "train",
    max_turns: int = 3,
    fps: float = 20.0,
    other: float = 0.05,
    questions: str = "standard",
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    if split not in SPLIT_INDEX:
        raise LlamoError(f"split must be train, val or test, not {split!r}.")
    out = Path(out)
    (out / "motions").mkdir(parents=True, exist_ok=True)
    convs = []
    kinds: Counter = Counter()
    for i in range(n):
        motion, conv = synthetic_example(
            seed, split, i, max_turns=max_turns, fps=fps, other=other, questions=questions
        )
        path = out / "motions" / f"{conv.id}.npz"
        motion.save(path)
        conv.motion = str(path)
        convs.append(conv)
        kinds.update(q["kind"] for q in conv.meta["qa"])
        if progress and (i % 50 == 0 or i == n - 1):
            progress(i + 1, n)
    jsonl = out / "data.jsonl"
    write_jsonl(jsonl, convs)
    summary = {"clips": n, "questions": sum(kinds.values()), "kinds": dict(kinds), "jsonl": str(jsonl)}
    (out / "summary.json").write_text(json.dumps({**summary, "seed": seed, "split": split}, indent=2))
    return summary


# ---------------------------------------------------------------- text-only chat

TEXT_PROMPTS = [
    "What is the capital of France?",
    "Give me three tips for better sleep.",
    "Explain photosynthesis in simple terms.",
    "Write a haiku about autumn.",
    "What is 12 times 7?",
    "How do I boil an egg?",
    "Who wrote Romeo and Juliet?",
    "What is the difference between weather and climate?",
    "Translate 'good morning' into Spanish.",
    "Why is the sky blue?",
    "Suggest a name for a pet cat.",
    "How many days are in a leap year?",
    "What does a CPU do?",
    "Give me a short motivational quote.",
    "What are the primary colors?",
    "How do plants get water?",
    "What is the largest planet in our solar system?",
    "Explain what a noun is.",
    "What is the boiling point of water in Celsius?",
    "List three fruits that are red.",
    "Hello! How are you today?",
    "Can you help me plan a short workout?",
    "What is the tallest mountain in the world?",
    "Write one sentence about the ocean.",
    "What is gravity?",
    "How do you say thank you in French?",
    "What is the square root of 81?",
    "Give me a synonym for happy.",
    "What is the main ingredient of guacamole?",
    "Why do we need to drink water?",
    "What is a healthy breakfast idea?",
    "Explain what the internet is to a child.",
    "Name three musical instruments.",
    "What causes rain?",
    "What is the speed of light, roughly?",
    "Tell me a fun fact about octopuses.",
    "How can I improve my handwriting?",
    "What is the opposite of cold?",
    "Who painted the Mona Lisa?",
    "What is a prime number?",
    "Give me two ideas for a rainy afternoon.",
    "What is the chemical symbol for gold?",
    "How does a bicycle stay upright?",
    "What language is spoken in Brazil?",
    "Write a polite email opening line.",
    "What is the freezing point of water in Fahrenheit?",
    "Why do leaves change color in autumn?",
    "What does DNA stand for?",
    "Recommend a good habit for mornings.",
    "How many continents are there?",
    "What is the Pythagorean theorem?",
    "Describe a cat in one sentence.",
    "What should I pack for a day hike?",
    "What is machine learning?",
    "Thank you for your help!",
    "What is the longest river in the world?",
    "How do I make a cup of tea?",
    "Why is exercise good for you?",
    "What is an adjective?",
    "Name a famous scientist and what they discovered.",
    "What is 15 plus 27?",
    "What do bees make?",
    "Explain the water cycle briefly.",
    "What is the capital of Japan?",
    "Give me a tip for learning a new language.",
    "What is the sun made of?",
    "How many legs does a spider have?",
    "What is a good way to relax after work?",
    "Who was the first person to walk on the Moon?",
    "What is the plural of mouse?",
    "How do magnets work?",
    "Write a two-line poem about the sea.",
    "What is the capital of Italy?",
    "Why do we have seasons?",
    "What is the difference between a virus and a bacterium?",
    "Suggest a quick vegetarian dinner.",
    "What does a thermometer measure?",
    "How many hours are in a week?",
    "What is the main function of the heart?",
    "Give me a tongue twister.",
    "What is an atom?",
    "How do birds fly?",
    "What is the capital of Canada?",
    "What is a good stretch for the back?",
    "How many minutes are in three hours?",
    "What is the smallest prime number?",
    "Who invented the telephone?",
    "What is the difference between a lake and a sea?",
    "What is a metaphor?",
    "What are clouds made of?",
    "How can I stay focused while studying?",
    "What is the capital of Germany?",
    "Explain what recycling is.",
    "What animal is known as the king of the jungle?",
    "What is 100 divided by 4?",
    "Tell me something interesting about the Moon.",
]
# The last 16 prompts are held out for the general-chat survival check.
TEXT_TEST_PROMPTS = TEXT_PROMPTS[-16:]
TEXT_TRAIN_PROMPTS = TEXT_PROMPTS[:-16]


def backbone_answers(
    prompts: list[str], backbone: str = "default", max_new_tokens: int = 64, progress=None, llm=None
):
    """Greedy answers of the bare backbone (batched, left-padded)."""
    import torch

    from llamo.backbone import load_backbone

    model, tok = llm if llm is not None else load_backbone(backbone, device="cpu")
    tok.padding_side = "left"
    answers = []
    for start in range(0, len(prompts), 16):
        chunk = prompts[start : start + 16]
        texts = [
            tok.apply_chat_template(
                [{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True
            )
            for p in chunk
        ]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id
            )
        for row in out[:, enc["input_ids"].shape[1] :]:
            text = tok.decode(row, skip_special_tokens=True).strip()
            answers.append(text)
        if progress:
            progress(min(start + 16, len(prompts)), len(prompts))
    tok.padding_side = "right"
    return answers


def write_text_chat(
    out: Path,
    *,
    n: int = 96,
    split: str = "train",
    backbone: str = "default",
    max_new_tokens: int = 64,
    progress=None,
) -> int:
    prompts = (TEXT_TRAIN_PROMPTS if split == "train" else TEXT_TEST_PROMPTS)[:n]
    answers = backbone_answers(prompts, backbone, max_new_tokens, progress)
    convs = [
        Conversation(
            id=f"chat-{split}-{i:04d}",
            turns=[Turn("user", p), Turn("assistant", a)],
            meta={
                "qa": [{"turn": 1, "kind": "chat", "label": a}],
                "source": "backbone",
                "backbone": backbone,
            },
        )
        for i, (p, a) in enumerate(zip(prompts, answers, strict=True))
    ]
    return write_jsonl(Path(out), convs)


# ---------------------------------------------------------------- loading


def load_any_motion(path: str) -> Motion:
    p = Path(path)
    if p.suffix.lower() == ".npz":
        return Motion.load(p)
    try:
        from llamo.importers import load_motion
    except ImportError:
        raise LlamoError(f"{p.name}: only .npz motions can be read without llamo.importers.") from None
    return load_motion(p)


class InstructionData:
    """Conversations of a JSONL file plus their motions (loaded once, kept in memory)."""

    def __init__(self, path: str | Path, limit: int | None = None):
        self.path = Path(path)
        self.conversations: list[Conversation] = list(read_jsonl(self.path))[:limit]
        if not self.conversations:
            raise LlamoError(f"{self.path.name} has no conversations.")
        self._motions: dict[str, Motion] = {}

    def __len__(self) -> int:
        return len(self.conversations)

    def motion(self, i: int) -> Motion | None:
        path = self.conversations[i].motion
        if path is None:
            return None
        if path not in self._motions:
            if not Path(path).is_file():
                raise LlamoError(f"motion file {path} (row {i + 1} of {self.path.name}) does not exist.")
            self._motions[path] = load_any_motion(path)
        return self._motions[path]

    def batch(self, idx) -> tuple[list[Conversation], list[Motion | None]]:
        return [self.conversations[i] for i in idx], [self.motion(i) for i in idx]

    def motion_indices(self) -> list[int]:
        return [i for i, c in enumerate(self.conversations) if c.motion is not None]


# ---------------------------------------------------------------- auxiliary targets

AUX_ACTIONS = ACTIONS + (OTHER, "rest")  # per-frame action classes ("rest" = between actions)
AUX_SIDES = ("left", "right", "both")
AUX_DIRECTIONS = ("forward", "backward", "left", "right", "turn_left", "turn_right", "none")


def frame_targets(motion: Motion) -> dict[str, np.ndarray] | None:
    """Per-frame targets from synthetic labels, or None for unlabelled motion.

    action/side/direction: class index per frame; phase: (T, 2) sin/cos of the repetition phase
    (0 at a repetition's start, pi at its peak) with phase_mask; density: per-frame share of a
    repetition, so it sums to the count over any whole repetitions (density-map counting)."""
    labels = motion.meta.get("labels")
    if not labels or "segments" not in labels:
        return None
    t = motion.num_frames
    action = np.full(t, AUX_ACTIONS.index("rest"), np.int64)
    side = np.full(t, -100, np.int64)
    direction = np.full(t, -100, np.int64)
    for seg in labels["segments"]:
        a, b = seg["start"], min(seg["end"], t)
        action[a:b] = AUX_ACTIONS.index(seg["action"])
        side[a:b] = AUX_SIDES.index(seg["side"])
        direction[a:b] = AUX_DIRECTIONS.index(seg["direction"])
    phase = np.zeros((t, 2), np.float32)
    phase_mask = np.zeros(t, bool)
    density = np.zeros(t, np.float32)
    spans = labels.get("rep_spans") or []
    peaks = labels.get("rep_peaks") or []
    for (a, b), pk in zip(spans, peaks, strict=False):
        b = min(b, t)
        if b <= a:
            continue
        frames = np.arange(a, b)
        # piecewise-linear phase: 0 at start, 0.5 at the peak, 1 at the end
        ph = np.where(
            frames <= pk,
            0.5 * (frames - a) / max(pk - a, 1),
            0.5 + 0.5 * (frames - pk) / max(b - pk, 1),
        )
        phase[a:b, 0], phase[a:b, 1] = np.sin(2 * np.pi * ph), np.cos(2 * np.pi * ph)
        phase_mask[a:b] = True
        density[a:b] = 1.0 / (b - a)
    return {
        "action": action,
        "side": side,
        "direction": direction,
        "phase": phase,
        "phase_mask": phase_mask,
        "density": density,
        "segments": labels["segments"],
    }
