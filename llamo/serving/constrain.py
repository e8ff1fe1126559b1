"""Restricting what an answer may write, at decoding time: its numbers, or some words.

`NumberConstraint` lets the model choose the words but only one number: a count's answer opens
with it and then one of `units` (as the training answers do, "3 squats."; a model held off its
own number otherwise tended to deny the action or to go on as if it had written a time), every
later run of digits must spell it too (a time's only its first), and number words ("three") are
not allowed at all. The tokenizers we serve write a number one digit token at a time (SmolLM2:
" 12" is "Ġ", "1", "2"; "6.7" is "6", ".", "7"), so the state is read from the answer's text: the
number at its end decides which token may come next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from llamo.data.templates.normalise import NUMBER_WORDS as COUNT_WORDS

# number words a held answer may not use instead of its digits ("three", "twice")
NUMBER_WORDS = frozenset(COUNT_WORDS) | {"once", "twice", "thrice", "dozen"}
TRAILING_RUN = re.compile(r"\d[\d.]*$")  # the number being written at the end of the text


@dataclass(frozen=True)
class Vocabulary:
    """A tokenizer and the text of each of its tokens, read once (a pass over 49,152 tokens takes
    about 0.1 s) and shared by every constraint of a conversation."""

    tokenizer: object
    texts: dict[int, str]  # token id -> its text (" left", "3", ".")

    @classmethod
    def of(cls, tokenizer) -> Vocabulary:
        vocab = tokenizer.get_vocab()
        return cls(tokenizer, {i: tokenizer.convert_tokens_to_string([t]) for t, i in vocab.items()})


class NumberConstraint:
    """Masks next-token logits so that the numbers in an answer spell `value` ("3", "12", "6.7").

    `opening`: the answer opens with the number, then one of `units` ("3 squats."). `only_first`:
    only the first number is held (a time: "From 6.7 s to 7.4 s" keeps its second number)."""

    def __init__(
        self,
        vocab: Vocabulary,
        value: str,
        units: tuple[str, ...] = (),
        opening: bool = True,
        only_first: bool = False,
    ) -> None:
        if not re.fullmatch(r"\d+(\.\d+)?", value):
            raise ValueError(f"not a count or a time: {value!r}")
        self.value, self.opening, self.only_first = value, opening, only_first
        self.char_ids: dict[str, int] = {}  # "0".."9" and "." -> the token that is exactly it
        banned = []  # tokens that start a number some other way: "12", "³", "three", " Three"
        for i, text in vocab.texts.items():
            bare = text.strip()
            if len(text) == 1 and text in "0123456789.":
                self.char_ids[text] = i
            elif bare[:1].isdigit() or bare.lower() in NUMBER_WORDS:
                banned.append(i)
        self.banned = torch.tensor(banned, dtype=torch.long)
        # what may follow the opening number: the first token of " squats", " reps", ... (a model
        # held off "3.9 s." otherwise went on "3." or "3 psi.")
        self.unit_starts = torch.tensor(
            sorted({vocab.tokenizer.encode(" " + u, add_special_tokens=False)[0] for u in units}),
            dtype=torch.long,
        )
        self.digits = torch.tensor(sorted(i for c, i in self.char_ids.items() if c != "."), dtype=torch.long)

    def next_char(self, text: str) -> str | None:
        """What may come next after `text`: a character of `value` to write now ("6", "."), ""
        when no digit may (a number has just been written in full), or None when numbers are free
        (`only_first`, after the first)."""
        m = TRAILING_RUN.search(text)
        run = m.group(0) if m else ""
        if self.only_first and re.search(r"\d", text[: len(text) - len(run)]):
            return None
        if not run:
            return self.value[0]
        if self.value.startswith(run) and run != self.value:
            return self.value[len(run)]
        return ""  # written in full ("3"), or ended by a point ("3." is not "3.9")

    def apply(self, logits: torch.Tensor, text: str) -> torch.Tensor:
        """`logits` (V,) with every number-starting token but the allowed one at -inf. At the
        opening and mid-number only the next character of `value` is left; right after an
        opening count, only the units."""
        nxt = self.next_char(text)
        if nxt is None:
            return logits
        out = logits.clone()
        out[self.banned] = float("-inf")
        mid = TRAILING_RUN.search(text) is not None and nxt != ""
        if mid or (self.opening and not text.strip()):
            return _only(out, self.char_ids[nxt])
        if self.opening and text.strip() == self.value and len(self.unit_starts):
            return _only(out, self.unit_starts)  # "3" -> "3 squats", "3 reps"
        out[self.digits] = float("-inf")
        if nxt:
            out[self.char_ids[nxt]] = logits[self.char_ids[nxt]]
        return out


def _only(logits: torch.Tensor, keep) -> torch.Tensor:
    out = torch.full_like(logits, float("-inf"))
    out[keep] = logits[keep]
    return out


class WordsConstraint:
    """Masks the tokens that spell any of `words` (any case, with or without a leading space):
    "left" keeps " left", "Left" and "left" out of the answer. A word the tokenizer spells only
    in pieces is not caught; SmolLM2 has every side and limb word as one token."""

    def __init__(self, vocab: Vocabulary, words: tuple[str, ...]) -> None:
        wanted = {w.lower() for w in words}
        self.banned = torch.tensor(
            [i for i, t in vocab.texts.items() if t.strip().lower() in wanted], dtype=torch.long
        )

    def apply(self, logits: torch.Tensor, text: str) -> torch.Tensor:
        out = logits.clone()
        out[self.banned] = float("-inf")
        return out
