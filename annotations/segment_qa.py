"""Time segments become grounded instruction data: questions whose answers are times in the clip.

Each clip with live segments becomes one conversation about that clip (id `segments-<sha256>`,
the clip's motion, `meta.kind = "segments"`), so every export format and the trainer take it
like any other conversation:

- per segment, "What happens between 4.2 s and 5.0 s?" -> its text, else its label, as a sentence
  ("The person loses balance.");
- per label, 'When does "loses balance" happen?' -> "From 4.2 s to 5.0 s." (every span with
  that label, in time order);
- when a segment's text says what the person does ("The person loses balance."), also "When
  does the person lose balance?" with the same kind of answer.

No SQL here: the store reads the segments (`Store.clip_segments`), this module words them.
"""

from __future__ import annotations

import re

from annotations.export_query import ExportConversation, ExportTurn
from annotations.segments import ClipSegments, SegmentRow

KIND = "segments"
_PERSON = re.compile(r"^(?:the )?(person|subject|athlete|patient)\s+(\w+)\s+(.+?)[.!]?$", re.IGNORECASE)
_IRREGULAR = {"does": "do", "goes": "go", "has": "have", "is": "be"}


def seconds(t: float) -> str:
    """4.2 -> "4.2", 5.0 -> "5.0", 4.2333 -> "4.23": frame times, rounded to 10 ms."""
    text = f"{t:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def sentence(text: str) -> str:
    """A label or note as an answer: capitalised, ending with a full stop."""
    text = " ".join(text.split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def spans(segs: list[SegmentRow]) -> str:
    """ "From 1.0 s to 2.0 s and from 4.2 s to 5.0 s." """
    parts = [f"from {seconds(g.start_s)} s to {seconds(g.end_s)} s" for g in segs]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return sentence(joined)


def _base_verb(word: str) -> str:
    """A third-person verb in its base form ("loses" -> "lose", "reaches" -> "reach")."""
    low = word.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    if low.endswith(("ches", "shes", "sses", "xes", "zes")):
        return low[:-2]
    return low[:-1] if low.endswith("s") and not low.endswith("ss") else low


def person_question(text: str) -> str | None:
    """ "The person loses balance." -> "When does the person lose balance?" (None otherwise)."""
    m = _PERSON.match(" ".join(text.split()))
    if m is None or not m.group(2).lower().endswith("s"):
        return None
    who, verb, rest = m.groups()
    return f"When does the {who.lower()} {_base_verb(verb)} {rest.rstrip('.!')}?"


def _turn(position: int, question: str, answer: str, segs: list[SegmentRow]) -> ExportTurn:
    latest = max(segs, key=lambda g: g.created_at)
    return ExportTurn(
        position=position,
        question=question,
        status=KIND,
        trainable_decision=None,
        answer=answer,
        train=True,
        model_answers=(),
        correction=answer,
        corrected_by=latest.author,
        rating=None,
        tags=(),
        reviewed_by=None,
        segments=tuple(_provenance(g) for g in segs),
    )


def _provenance(g: SegmentRow) -> dict:
    return {
        "number": g.number,
        "revision": g.revision,
        "author": g.author,
        "start_frame": g.start_frame,
        "end_frame": g.end_frame,
        "start_s": round(g.start_s, 4),
        "end_s": round(g.end_s, 4),
        "label": g.label,
        "text": g.text,
    }


def questions(segs: tuple[SegmentRow, ...]) -> list[tuple[str, str, list[SegmentRow]]]:
    """(question, answer, the segments it rests on) for one clip's segments, in time order."""
    out = []
    for g in segs:
        said = sentence(g.text) if g.text.strip() else sentence(g.label)
        out.append((f"What happens between {seconds(g.start_s)} s and {seconds(g.end_s)} s?", said, [g]))
    groups: dict[str, list[SegmentRow]] = {}
    for g in segs:
        groups.setdefault(f'When does "{" ".join(g.label.split())}" happen?', []).append(g)
        asked = person_question(g.text) if g.text.strip() else None
        if asked:
            groups.setdefault(asked, []).append(g)
    out.extend((q, spans(group), group) for q, group in groups.items())
    return out


def segment_conversation(clip: ClipSegments) -> ExportConversation:
    """One clip's segments as a conversation that exports (and trains) like a corrected one."""
    turns = tuple(_turn(i, q, a, g) for i, (q, a, g) in enumerate(questions(clip.segments)))
    return ExportConversation(
        uid=f"{KIND}-{clip.clip_sha256}",
        annotator=None,
        model_id="",
        model_sha="",
        backbone="",
        clip_sha256=clip.clip_sha256,
        motion_path=clip.motion_path,
        video_path=clip.video_path,
        turns=turns,
        kind=KIND,
    )
