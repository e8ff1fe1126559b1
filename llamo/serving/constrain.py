"""Restricting what an answer may write, at decoding time: its numbers, or some words.

`DigitsConstraint` lets the model choose the words but only one number: the answer opens with
`digits` and then one of `units` (as the training answers do, "3 squats."; a model held off its
own number otherwise tended to deny the action or to go on as if it had written a time), every
later run of digits must spell it too, and number words ("three") are not allowed at all. The tokenizers we
serve write a number one digit token at a time (SmolLM2: " 12" is "Ġ", "1", "2"), so the state is
read from the answer's text: the digits at its end decide which digit token may come next.
"""

from __future__ import annotations

import re

import torch

NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "once",
        "twice",
        "thrice",
        "dozen",
    ]
)
TRAILING_NUMBER = re.compile(r"(\d+)(\.?)$")


class DigitsConstraint:
    """Masks next-token logits so that every number in the answer is `digits` ("3", "12")."""

    def __init__(self, tokenizer, digits: str, units: tuple[str, ...] = ()) -> None:
        if not digits.isdigit():
            raise ValueError(f"not a count: {digits!r}")
        self.digits = digits
        self.digit_ids: dict[str, int] = {}  # "0".."9" -> the token that is exactly that digit
        banned = []  # tokens that start a number some other way: "12", "³", "three", " Three"
        for token, i in tokenizer.get_vocab().items():
            text = tokenizer.convert_tokens_to_string([token])
            bare = text.strip()
            if text in "0123456789" and len(text) == 1:
                self.digit_ids[text] = i
            elif bare[:1].isdigit() or bare.lower() in NUMBER_WORDS:
                banned.append(i)
        self.banned = torch.tensor(banned, dtype=torch.long)
        # what may follow the opening number: the first token of " squats", " reps", ... (a model
        # held off "3.9 s." otherwise went on "3." or "3 psi.")
        self.unit_starts = torch.tensor(
            sorted({tokenizer.encode(" " + u, add_special_tokens=False)[0] for u in units}), dtype=torch.long
        )
        self.all_digits = torch.tensor(sorted(self.digit_ids.values()), dtype=torch.long)

    def allowed_digit(self, text: str) -> str | None:
        """The one digit that may come next after `text`, or None when no digit may."""
        m = TRAILING_NUMBER.search(text)
        if m is None:
            return self.digits[0]
        run, point = m.groups()
        if point or not self.digits.startswith(run) or run == self.digits:
            return None  # a decimal ("3.9"), or the number is already written in full
        return self.digits[len(run)]

    def apply(self, logits: torch.Tensor, text: str) -> torch.Tensor:
        """`logits` (V,) with every number-starting token but the allowed digit at -inf; at the
        start and mid-number (text ends in a proper prefix of `digits`), only the next digit is left."""
        out = logits.clone()
        out[self.banned] = float("-inf")
        nxt = self.allowed_digit(text)
        m = TRAILING_NUMBER.search(text)
        starting = not text.strip()  # a grounded answer opens with its number: "3 squats."
        if nxt is not None and (starting or (m is not None and not m.group(2))):  # force the digit
            keep = out[self.digit_ids[nxt]].clone()
            out.fill_(float("-inf"))
            out[self.digit_ids[nxt]] = keep
            return out
        out[self.all_digits] = float("-inf")
        if text.strip() == self.digits and len(self.unit_starts):  # "3" -> "3 squats", "3 reps"
            unit = out[self.unit_starts].clone()
            out.fill_(float("-inf"))
            out[self.unit_starts] = unit
            return out
        if nxt is not None:
            out[self.digit_ids[nxt]] = logits[self.digit_ids[nxt]]
        return out


class WordsConstraint:
    """Masks the tokens that spell any of `words` (any case, with or without a leading space):
    "left" keeps " left", "Left" and "left" out of the answer. A word the tokenizer spells only
    in pieces is not caught; SmolLM2 has every side and limb word as one token."""

    def __init__(self, tokenizer, words: tuple[str, ...]) -> None:
        wanted = {w.lower() for w in words}
        self.banned = torch.tensor(
            [
                i
                for token, i in tokenizer.get_vocab().items()
                if tokenizer.convert_tokens_to_string([token]).strip().lower() in wanted
            ],
            dtype=torch.long,
        )

    def apply(self, logits: torch.Tensor, text: str) -> torch.Tensor:
        out = logits.clone()
        out[self.banned] = float("-inf")
        return out
