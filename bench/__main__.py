"""`python -m bench`: list the targets (each runs as `python -m bench.<target>`)."""

from __future__ import annotations

import sys

TARGETS = {
    "extract": "our capture pipeline against MediaPipe's naive loop",
    "render": "time to build the views, and the overlay's speed",
    "chat": "time to first token over turns, scaling with clip length, decode",
    "train": "seconds per training step, against the full-vocabulary loss",
    "serving": "many sessions at once: one by one against the batched scheduler",
    "app": "time to first token as web users see it, one client vs many",
    "page_ab": "page load of two checkouts side by side (a change to the page)",
    "store": "add-correction latency at scale, and export speed",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    print("usage: python -m bench.<target> [options]   (--help on a target for its options)")
    for name, what in TARGETS.items():
        print(f"  {name:<8} {what}")
    return 0 if not argv or argv[0] in ("-h", "--help") else 2


if __name__ == "__main__":
    raise SystemExit(main())
