"""Package a trained run for shipping: config + motion modules (stored in fp16, half the size;
they load back into fp32 parameters) + LoRA adapter + provenance.json + a model card (README.md).

    python -m llamo package RUN_DIR -o assets/checkpoint --command "..." [--note "..."]
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import time
from pathlib import Path

import torch


def package_checkpoint(
    src: str | Path, dst: str | Path, *, command: str = "", note: str = "", license_id: str = ""
) -> dict:
    """license_id: the weights' terms, which the training data decides (e.g. cc-by-nc-4.0 when
    non-commercial data was used; the backbone's own apache-2.0 otherwise)."""
    from safetensors.torch import load_file, save_file

    from llamo.model.checkpoint import ADAPTER_DIR, CONFIG_FILE, MODULES_FILE, PROVENANCE_FILE
    from llamo.train.model_card import write_model_card

    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / CONFIG_FILE, dst / CONFIG_FILE)
    state = load_file(str(src / MODULES_FILE))
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    # One metadata key: safetensors keeps metadata in a hash map whose order changes from run to
    # run, and the file's sha256 names the model in every stored annotation.
    save_file(half, str(dst / MODULES_FILE), metadata={"format": "pt"})
    if (dst / ADAPTER_DIR).exists():
        shutil.rmtree(dst / ADAPTER_DIR)
    if (src / ADAPTER_DIR).is_dir():
        shutil.copytree(src / ADAPTER_DIR, dst / ADAPTER_DIR)
    training = json.loads((src / "training.json").read_text()) if (src / "training.json").is_file() else {}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    provenance = {
        "command": command,
        "note": note,
        "license": license_id,
        "packaged_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit_at_packaging": commit,
        "machine": f"{platform.machine()} {platform.processor()} {torch.get_num_threads()} torch threads",
        "seed": training.get("config", {}).get("seed"),
        "stages": training.get("stages"),
        "steps": {k: v.get("steps") for k, v in training.get("history", {}).items() if isinstance(v, dict)},
        "seconds": training.get("seconds"),
        "history": training.get("history"),
        "train_config": training.get("config"),
        "parameters": int(sum(v.numel() for v in state.values())),
    }
    (dst / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2))
    write_model_card(dst, provenance, json.loads((dst / CONFIG_FILE).read_text()))
    return provenance
