"""Test fixtures in one place: tiny, offline stand-ins for fast tests (a byte-level tokenizer with
SmolLM2's special tokens and chat template, a randomly initialised LLaMA of a few layers, a
random-walk motion) and the reference loss the trainer's fast path is checked against. No
downloads; tests, benchmarks and the app's plumbing checks share them."""

from __future__ import annotations

import torch

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>", "<file_sep>"]
CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def tiny_tokenizer():
    """Byte-level BPE without merges: ids 0-5 are the specials, then the 256 byte symbols."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for ch in sorted(alphabet):
        vocab[ch] = len(vocab)
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIALS[3:],
    )
    tok.chat_template = CHATML
    return tok


def tiny_backbone(hidden: int = 64, layers: int = 2, seed: int = 0, max_positions: int = 2048):
    """(LlamaForCausalLM, tokenizer), random weights, fp32 on CPU."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tiny_tokenizer()
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = LlamaForCausalLM(cfg).eval()
    return model, tok


def random_walk(frames: int, fps: float = 20.0, seed: int = 0):
    """A random-walk Motion (timing and plumbing only; not a plausible body)."""
    import numpy as np

    from llamo.motion import Motion

    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.3, (1, 22, 3)).astype(np.float32)
    steps = rng.normal(0, 0.01, (frames, 22, 3)).astype(np.float32)
    return Motion.from_joints(base + np.cumsum(steps, 0), fps)


def random_motion(frames: int = 30, seed: int = 0, fps: float = 20.0):
    """Joints drawn at random, N(0, 1) metres (storage and plumbing only; not even a walk)."""
    import numpy as np

    from llamo.motion import Motion

    return Motion.from_joints(np.random.default_rng(seed).normal(size=(frames, 22, 3)), fps)


def tiny_model(mode: str = "cross_talker", k: int = 8, seed: int = 0, max_positions: int = 2048, **cfg):
    """A small Llamo on `tiny_backbone` (d=32, short system prompt) for fast tests."""
    from llamo.model import Llamo, LlamoConfig

    config = LlamoConfig(motion_tokens=mode, num_tokens=k, d_model=32, n_heads=4, system_prompt="Sys.", **cfg)
    return Llamo.build(config, backbone=tiny_backbone(seed=seed, max_positions=max_positions))


def full_vocabulary_loss(model, batch) -> torch.Tensor:
    """The baseline (and the reference in tests): the backbone's loss over every position."""
    inputs = {k: v for k, v in batch.items() if k not in ("attention_mask", "labels")}
    embeds, _ = model.embed_inputs(**inputs)
    return model.llm(
        inputs_embeds=embeds, attention_mask=batch["attention_mask"], labels=batch["labels"]
    ).loss


def tiny_checkpoint(base, seed: int = 4, **cfg):
    """Write a tiny checkpoint whose backbone is a local folder, and a clip, under `base`.

    Returns `base`: `base/ckpt` (the checkpoint), `base/backbone`, `base/clip.npz`. For command
    line tests that load a model by path, as users do. cfg: more LlamoConfig fields."""
    from pathlib import Path

    from llamo.model import Llamo, LlamoConfig

    base = Path(base)
    llm, tok = tiny_backbone(seed=seed)
    llm.save_pretrained(base / "backbone")
    tok.save_pretrained(base / "backbone")
    config = LlamoConfig(
        backbone=str(base / "backbone"),
        num_tokens=4,
        summary_tokens=2,
        d_model=32,
        system_prompt="Sys.",
        **cfg,
    )
    model = Llamo.build(config)
    model.set_stage("instruct")
    model.save_pretrained(base / "ckpt")
    random_walk(60).save(base / "clip.npz")
    return base
