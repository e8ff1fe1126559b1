"""A still with the people numbered, so a user can pick who to track (`extract_video(subject=)`).

People are found with MediaPipe alone (the 0.10.21 wheel has no offline person detector
besides the pose model's own): static-mode pose, grey the person's box out, pose again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from llamo.capture.pose import PoseTracker, quiet_native_stderr
from llamo.capture.subject import MAX_PEOPLE, find_people
from llamo.errors import LlamoError, clock
from llamo.motion_ops import body_centre_size
from llamo.video import iter_grid_frames, probe_video

COLOURS = ((230, 57, 70), (29, 120, 220), (46, 160, 67), (240, 160, 0), (150, 80, 200), (0, 170, 170))


@dataclass(frozen=True)
class SeenPerson:
    """One numbered person: `point` (their hip centre) and `box` in normalised image coordinates
    of the upright frame; pass `point` as `extract_video(subject=...)`."""

    number: int
    point: tuple[float, float]
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class PeopleStill:
    """The frame at `time` with each person's box and number drawn on it (RGB)."""

    image: np.ndarray
    people: list[SeenPerson]
    time: float

    def save(self, path: str | Path) -> Path:
        Image.fromarray(self.image).save(path)
        return Path(path)


def people_still(path: str | Path, *, time: float = 0.0, max_people: int = MAX_PEOPLE) -> PeopleStill:
    """The first frame at or after `time` (searched on a 5 fps grid) where anyone is seen, with the
    people numbered left to right."""
    path = Path(path)
    info = probe_video(path)
    start_k = int(time * 5.0)
    with quiet_native_stderr(), PoseTracker(static=True) as detector:
        for frame in iter_grid_frames(path, 5.0, info, start_k=start_k):
            found = find_people(detector, frame.rgb, max_people)
            if found:
                return _draw(frame.rgb, found, frame.time)
    raise LlamoError(f"No person was found in {path.name} from {clock(time)} on.")


def _draw(rgb: np.ndarray, found, time: float) -> PeopleStill:
    h, w = rgb.shape[:2]
    found = sorted(found, key=lambda p: p.box.x0 + p.box.x1)
    img = Image.fromarray(rgb)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(14, h // 20))
    people = []
    for i, p in enumerate(found, start=1):
        colour = COLOURS[(i - 1) % len(COLOURS)]
        b = p.box
        draw.rectangle((b.x0, b.y0, b.x1, b.y1), outline=colour, width=max(2, h // 200))
        centre, _ = body_centre_size(p.pose.image[None])
        cx, cy = (float(v) for v in centre[0])
        r = max(4, h // 120)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        draw.text((b.x0 + 4, b.y0 + 2), str(i), fill=colour, font=font, stroke_width=2, stroke_fill="white")
        people.append(SeenPerson(i, (cx / w, cy / h), (b.x0 / w, b.y0 / h, b.x1 / w, b.y1 / h)))
    return PeopleStill(np.asarray(img), people, time)
