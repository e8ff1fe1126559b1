"""The trainer's and evaluator's reader: a JSONL file of conversations (LLaVA or messages form)
with its motions loaded once, through the one motion loader, and kept in memory."""

from __future__ import annotations

from pathlib import Path

from llamo.conversation import Conversation, read_jsonl
from llamo.errors import LlamoError
from llamo.importers import load_motion
from llamo.motion import Motion


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
            self._motions[path] = load_motion(path)
        return self._motions[path]

    def batch(self, idx) -> tuple[list[Conversation], list[Motion | None]]:
        return [self.conversations[i] for i in idx], [self.motion(i) for i in idx]

    def motion_indices(self) -> list[int]:
        return [i for i, c in enumerate(self.conversations) if c.motion is not None]
