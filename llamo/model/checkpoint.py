"""Checkpoints on disk: save and restore a `Llamo`, its model card, and what a reader shows.

A checkpoint directory holds:

    llamo_config.json           LlamoConfig (architecture, feature statistics, head vocabulary)
    llamo_modules.safetensors   the motion modules (the backbone is loaded by name, not copied)
    adapter/                    the peft LoRA adapter, when the LLM was instruction-tuned
    eval.md, provenance.json    written by `python -m llamo eval` / `package` (optional)

`checkpoint_card(dir)` reads the last two for display, so the app needs no file names.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch

from llamo.backbone import Progress, choose_device, load_backbone, peft_wrapping
from llamo.errors import LlamoError
from llamo.fileio import atomic_path
from llamo.model.config import LlamoConfig

CONFIG_FILE = "llamo_config.json"
MODULES_FILE = "llamo_modules.safetensors"
ADAPTER_DIR = "adapter"
PROVENANCE_FILE = "provenance.json"
REPORT_FILES = ("eval.md", "report.md", "README.md")  # the first one present is the report
PROVENANCE_KEYS = ("license", "command", "note", "packaged_utc", "git_commit_at_packaging", "steps", "seconds")  # fmt: skip


def module_state(model) -> dict[str, torch.Tensor]:
    """The motion modules' tensors (not the backbone's; not a hub video tower's, which is frozen
    and re-loaded by id)."""
    state = {}
    for k, v in model.state_dict().items():
        if k.startswith("llm."):
            continue
        if k.startswith("video_encoder.tower.") and model.config.video_config is None:
            continue
        state[k] = v.detach().cpu().contiguous()
    return state


def save_checkpoint(model, directory: str | Path) -> Path:
    """config + LLaMo modules (safetensors) + peft adapter (if LoRA was added)."""
    from safetensors.torch import save_file

    if model.lora_state == "merged":
        raise LlamoError("LoRA has been merged into the backbone for inference; save before merge_lora().")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_path(directory / MODULES_FILE) as tmp:
        save_file(module_state(model), str(tmp), metadata={"format": "pt"})
    if model.lora_state == "adapter":
        model.llm.save_pretrained(str(directory / ADAPTER_DIR))
    elif (directory / ADAPTER_DIR).exists():
        shutil.rmtree(directory / ADAPTER_DIR)
    with atomic_path(directory / CONFIG_FILE) as tmp:
        model.config.save(tmp)
    return directory


def load_checkpoint(
    cls,
    directory: str | Path,
    device: str | torch.device | None = None,
    backbone=None,
    progress: Progress | None = None,
):
    """Restore a checkpoint as a `cls` (Llamo). backbone: None (the one it names), an id that must
    match, or a loaded (llm, tokenizer) pair whose architecture must match."""
    from safetensors.torch import load_file

    directory = Path(directory)
    if not (directory / CONFIG_FILE).is_file():
        raise LlamoError(f"{directory} is not a LLaMo checkpoint (no {CONFIG_FILE}).")
    config = LlamoConfig.load(directory / CONFIG_FILE)
    if isinstance(backbone, str) and backbone not in (config.backbone,):
        raise LlamoError(
            f"checkpoint {directory.name} was trained for backbone {config.backbone!r}, not {backbone!r}; "
            "name a checkpoint directory trained for that backbone instead."
        )
    if backbone is None or isinstance(backbone, str):
        backbone = load_backbone(config.backbone, device=device, progress=progress)
    llm, tokenizer = backbone
    if device is not None:
        llm.to(choose_device(device))
    model = cls(config, llm, tokenizer)
    state = load_file(str(directory / MODULES_FILE), device=str(model.llm_device))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith(("llm.", "video_encoder.tower."))]
    if missing or unexpected:
        raise LlamoError(
            f"checkpoint {directory.name} does not match this model ({(missing + unexpected)[:3]})."
        )
    if (directory / ADAPTER_DIR).is_dir():
        from peft import PeftModel

        with peft_wrapping():
            model.llm = PeftModel.from_pretrained(model.llm, str(directory / ADAPTER_DIR))
        model.lora_state = "adapter"
    model.checkpoint_dir = str(directory)
    model.set_stage("align")
    return model.eval()


def default_checkpoint_dir() -> Path | None:
    """LLAMO_MODEL (a checkpoint dir) if set, else the bundled assets/checkpoint if present."""
    env = os.environ.get("LLAMO_MODEL")
    if env:
        return Path(env)
    bundled = Path(__file__).resolve().parents[2] / "assets" / "checkpoint"
    return bundled if (bundled / CONFIG_FILE).is_file() else None


def modules_sha(directory: str | Path) -> str:
    """Short sha256 of a checkpoint's motion modules ("" when there are none)."""
    path = Path(directory) / MODULES_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else ""


def describe(model) -> dict:
    """The model card: which checkpoint, backbone, device and motion-token mode is loaded."""
    sha = getattr(model, "_checkpoint_sha", "")
    if not sha and model.checkpoint_dir:
        sha = modules_sha(model.checkpoint_dir)
        model._checkpoint_sha = sha
    return {
        "checkpoint": model.checkpoint_dir or "untrained",
        "sha": sha,
        "backbone": model.config.backbone,
        "backbone_signature": model.config.backbone_signature,
        "device": str(model.llm_device),
        "dtype": str(model.llm_dtype).replace("torch.", ""),
        "motion_tokens": model.config.motion_tokens,
        "num_tokens": model.config.num_tokens,
        "lora": model.lora_state,
    }


@dataclass(frozen=True)
class CheckpointCard:
    """What a checkpoint says about itself, for display: its evaluation report and provenance."""

    directory: str
    report: str = ""  # the text of eval.md (or report.md / README.md); "" when none
    report_file: str | None = None  # which of REPORT_FILES it came from
    provenance: dict = field(default_factory=dict)  # provenance.json; {} when absent or unreadable
    has_provenance: bool = False  # provenance.json exists (even if unreadable)

    def provenance_lines(self) -> list[str]:
        """How the checkpoint was made, as markdown list items (the keys a reader cares about)."""
        return [f"- **{k}**: `{self.provenance[k]}`" for k in PROVENANCE_KEYS if k in self.provenance]

    def markdown(self) -> str:
        """The report, then a "How this checkpoint was made" section when there is provenance."""
        if not self.has_provenance:
            return self.report
        lines = ["", "", "### How this checkpoint was made", *self.provenance_lines()]
        return (self.report or "_No evaluation report (eval.md) in this checkpoint._") + "\n".join(lines)


def checkpoint_card(directory: str | Path) -> CheckpointCard:
    """Read a checkpoint's report and provenance (missing files give empty fields)."""
    directory = Path(directory)
    report, report_file = "", None
    for name in REPORT_FILES:
        if (directory / name).is_file():
            report, report_file = (directory / name).read_text(errors="replace"), name
            break
    prov_path = directory / PROVENANCE_FILE
    provenance: dict = {}
    if prov_path.is_file():
        try:
            provenance = json.loads(prov_path.read_text())
        except (OSError, ValueError):
            provenance = {}
    return CheckpointCard(
        directory=str(directory),
        report=report,
        report_file=report_file,
        provenance=provenance if isinstance(provenance, dict) else {},
        has_provenance=prov_path.is_file(),
    )
