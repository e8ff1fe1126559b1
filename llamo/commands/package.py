"""`python -m llamo package RUN_DIR -o CHECKPOINT_DIR`: a trained run made ready to ship.

Copies the config, stores the motion modules in fp16 (half the size; they load back into fp32
parameters), copies the LoRA adapter and writes provenance.json from the run's training.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from llamo.errors import LlamoError


def add_arguments(parser) -> None:
    parser.add_argument("run", help="a `python -m llamo train` output directory")
    parser.add_argument(
        "-o", "--out", required=True, help="checkpoint directory to write (e.g. assets/checkpoint)"
    )
    parser.add_argument("--command", default="", help="the command that made the run, for provenance")
    parser.add_argument("--note", default="", help="a free note for provenance")
    parser.add_argument(
        "--license", default="", help="the weights' licence id (cc-by-nc-4.0 with NC training data)"
    )


def run(args) -> int:
    from llamo.model.checkpoint import CONFIG_FILE
    from llamo.train.package import package_checkpoint

    if not (Path(args.run) / CONFIG_FILE).is_file():
        raise LlamoError(f"{args.run} is not a trained run (no {CONFIG_FILE}).")
    prov = package_checkpoint(
        args.run, args.out, command=args.command, note=args.note, license_id=args.license
    )
    print(json.dumps({k: prov[k] for k in ("steps", "seconds", "parameters")}, indent=2))
    print(f"wrote {args.out}")
    return 0
