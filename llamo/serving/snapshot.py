"""Pure turns for ZeroGPU: `spaces.GPU` runs the decorated function in another process, so it
must take its inputs and return its outputs, and never mutate the caller's objects (a
mutation would be lost on the way back, or half applied). `answer_turn` answers on a fork
of the conversation and hands the new conversation back as its last item; the caller
replaces its own with it. Elsewhere the same function runs in-process, so this path is
tested on the CPU."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass

from llamo.chat import ChatSession


@dataclass(frozen=True)
class Answered:
    """The last item of `answer_turn`: the conversation after the turn (a new object)."""

    chat: ChatSession


def fork_session(chat: ChatSession) -> ChatSession:
    """A copy of the conversation that shares what no turn changes (the model, its tokenizer,
    the clip and its encoding) and owns the rest (turns, prompt records, KV cache)."""
    shared = (chat.model, chat.tok, chat.motion, chat.video_pixels, chat.state)
    memo = {id(obj): obj for obj in shared if obj is not None}
    return copy.deepcopy(chat, memo)


def answer_turn(chat: ChatSession, question: str, regenerate: bool, kwargs: dict) -> Iterator[str | Answered]:
    """Yield the answer's text deltas, then `Answered(new chat)`. `chat` is left as it was."""
    own = fork_session(chat)
    it = own.regenerate(**kwargs) if regenerate else own.ask(question, **kwargs)
    yield from it
    yield Answered(own)
