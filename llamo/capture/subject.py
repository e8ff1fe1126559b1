"""Keep one person through a crowd: a region of interest around the subject, re-detected in.

MediaPipe's tracking mode follows whoever its last box lands on; when another person crosses,
it jumps to them and stays. `Follower` keeps the subject's last good 2-D landmarks; a frame
whose pose moved too far or changed size against them is not that person, so the subject is
looked for again in a crop around their last box (static mode on the crop, landmarks mapped
back to the full frame). A chosen subject (a point or box, normalised image coordinates) is
first acquired in the first frame where one of the people seen contains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llamo.capture.pose import Pose, PoseTracker
from llamo.errors import LlamoError
from llamo.motion_ops import body_centre_size

SEEN = 0.3  # landmark visibility counted in a person's box
ROI_SCALES = (1.6, 1.15)  # crops tried around the last box, widest first
MAX_PEOPLE = 4  # people looked for in one still
WALK = 4.0  # torso lengths a second a person may move while unseen


@dataclass(frozen=True)
class Box:
    """A box in pixels of one image: [x0, x1) x [y0, y1)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def scaled(self, factor: float, width: int, height: int) -> Box:
        """The box grown about its centre by `factor`, clipped to the image."""
        cx, cy = (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2
        hw, hh = (self.x1 - self.x0) * factor / 2, (self.y1 - self.y0) * factor / 2
        return Box(max(0.0, cx - hw), max(0.0, cy - hh), min(width, cx + hw), min(height, cy + hh))

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    def distance(self, x: float, y: float) -> float:
        """Pixels from (x, y) to the box (0 inside)."""
        return float(np.hypot(max(self.x0 - x, 0, x - self.x1), max(self.y0 - y, 0, y - self.y1)))


@dataclass(frozen=True)
class Subject:
    """Who to track: a point on them, or a box around them, in normalised image coordinates
    (0-1, of the upright frame) of the first frame where they appear."""

    x: float
    y: float
    box: tuple[float, float, float, float] | None = None

    @classmethod
    def parse(cls, text: str | tuple | list | Subject) -> Subject:
        """'X,Y' (a point) or 'X0,Y0,X1,Y1' (a box), each within 0-1."""
        if isinstance(text, Subject):
            return text
        parts = text.split(",") if isinstance(text, str) else list(text)
        try:
            vals = [float(p) for p in parts]
        except (TypeError, ValueError):
            vals = []
        if len(vals) not in (2, 4) or not all(0.0 <= v <= 1.0 for v in vals):
            raise LlamoError(
                f"the subject must be X,Y or X0,Y0,X1,Y1 in normalised image coordinates (0-1), got {text!r}."
            )
        if len(vals) == 2:
            return cls(vals[0], vals[1])
        x0, y0, x1, y1 = (
            min(vals[0], vals[2]),
            min(vals[1], vals[3]),
            max(vals[0], vals[2]),
            max(vals[1], vals[3]),
        )
        return cls((x0 + x1) / 2, (y0 + y1) / 2, (x0, y0, x1, y1))

    def as_meta(self) -> dict:
        return {"point": [self.x, self.y]} | ({"box": list(self.box)} if self.box else {})


@dataclass(frozen=True)
class Person:
    """One person seen in a still: their pose (pixels of that image) and box."""

    pose: Pose
    box: Box


def landmark_box(image: np.ndarray, width: int, height: int, margin: float = 0.1) -> Box:
    """Box of the seen image landmarks (all of them if too few are seen), grown by `margin`."""
    seen = image[image[:, 3] >= SEEN] if (image[:, 3] >= SEEN).sum() >= 4 else image
    x0, y0 = np.nanmin(seen[:, :2], axis=0)
    x1, y1 = np.nanmax(seen[:, :2], axis=0)
    return Box(float(x0), float(y0), float(x1), float(y1)).scaled(1.0 + 2 * margin, width, height)


def pose_in_box(detector: PoseTracker, rgb: np.ndarray, box: Box) -> Pose | None:
    """Static-mode pose on a crop, its image landmarks mapped back to full-frame pixels."""
    x0, y0, x1, y1 = int(box.x0), int(box.y0), int(np.ceil(box.x1)), int(np.ceil(box.y1))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    out = detector.process(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    if out is None:
        return None
    out.image[:, 0] += x0
    out.image[:, 1] += y0
    return out


def find_people(detector: PoseTracker, rgb: np.ndarray, max_people: int = MAX_PEOPLE) -> list[Person]:
    """Everyone static-mode MediaPipe finds in one image (it finds one person an image): detect,
    grey that person's box out, detect again; then the same in half-size overlapping tiles, which
    find people too small beside the big ones."""
    h, w = rgb.shape[:2]
    work = rgb.copy()
    people: list[Person] = []
    tiles = [
        Box(a * w, b * h, (a + 0.5) * w, (b + 0.5) * h) for b in (0.0, 0.25, 0.5) for a in (0.0, 0.25, 0.5)
    ]
    whole = True
    while len(people) < max_people and (whole or tiles):
        out = detector.process(work) if whole else pose_in_box(detector, work, tiles.pop(0))
        if out is None:
            whole = False
            continue
        box = landmark_box(out.image, w, h)
        if any(_overlap(box, p.box) > 0.6 for p in people):
            whole = False  # the same person again through the grey
            continue
        people.append(Person(out, box))
        work[int(box.y0) : int(np.ceil(box.y1)), int(box.x0) : int(np.ceil(box.x1))] = 127
    return people


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    iw = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    ih = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    small = min((a.x1 - a.x0) * (a.y1 - a.y0), (b.x1 - b.x0) * (b.y1 - b.y0))
    return iw * ih / max(small, 1e-6)


def pick_person(people: list[Person], subject: Subject, width: int, height: int) -> Person | None:
    """The person the subject's point falls in (nearest hip centre first), or None."""
    x, y = subject.x * width, subject.y * height
    inside = [p for p in people if p.box.contains(x, y)]
    if not inside:
        return None
    centres = [body_centre_size(p.pose.image[None])[0][0] for p in inside]
    return inside[int(np.argmin([np.hypot(c[0] - x, c[1] - y) for c in centres]))]


class Follower:
    """Per-frame subject keeping for one tracking run (one chunk of a video).

    `step(k, rgb, tracker)` -> the subject's Pose in this frame (image px of `rgb`) or None.
    Counters: `reacquired` frames found again in the region of interest, `rejected` tracker
    poses refused as another person."""

    def __init__(self, fps: float, subject: Subject | None = None, *, jump: float = 0.8,
                 size_ratio: float = 1.5):  # fmt: skip
        self.fps, self.subject, self.jump, self.size_ratio = fps, subject, jump, size_ratio
        self.last: np.ndarray | None = None  # image landmarks of the last good frame
        self.last_k = -1
        self.first_k: int | None = None
        self.reacquired = 0
        self.rejected = 0
        self._static: PoseTracker | None = None
        self.pending: dict[int, Pose] = {}  # refused poses since the subject was last seen
        self.restored: dict[int, Pose] = {}

    @property
    def static(self) -> PoseTracker:
        """Made on first need: most single-person clips never need it."""
        if self._static is None:
            self._static = PoseTracker(static=True)
        return self._static

    def close(self) -> None:
        if self._static is not None:
            self._static.close()

    def fits(self, image: np.ndarray, k: int) -> bool:
        """Is this pose the subject, judged against the last good frame? One frame allows
        `jump` torso lengths (at 20 fps); each missed frame adds what a person walks in it
        (~4 torso lengths a second), for up to 1 s."""
        (c0, c1), (s0, s1) = body_centre_size(np.stack([self.last, image]))
        if not (np.all(np.isfinite([*c0, *c1, s0, s1])) and min(s0, s1) > 0):
            return False
        missed = min(k - self.last_k, self.fps) - 1
        allowed = self.jump * max(1.0, 20.0 / self.fps) + WALK * missed / self.fps
        ref = min(s0, s1)
        return bool(np.hypot(*(c1 - c0)) / ref <= allowed and max(s0, s1) / ref <= self.size_ratio)

    def _accept(self, pose: Pose, k: int) -> Pose:
        self.last, self.last_k = pose.image.copy(), k
        self.pending.clear()
        if self.first_k is None:
            self.first_k = k
        return pose

    def _acquire(self, k: int, rgb: np.ndarray, full: Pose | None) -> Pose | None:
        h, w = rgb.shape[:2]
        if self.subject is None:
            return None if full is None else self._accept(full, k)
        candidates = [Person(full, landmark_box(full.image, w, h))] if full is not None else []
        person = pick_person(candidates, self.subject, w, h)
        if person is None:
            person = pick_person(find_people(self.static, rgb), self.subject, w, h)
        return None if person is None else self._accept(person.pose, k)

    def step(self, k: int, rgb: np.ndarray, tracker: PoseTracker) -> Pose | None:
        full = tracker.process(rgb)
        if self.last is None:
            return self._acquire(k, rgb, full)
        if full is not None:
            if self.fits(full.image, k):
                return self._accept(full, k)
            self.rejected += 1
        h, w = rgb.shape[:2]
        box = landmark_box(self.last, w, h, margin=0.0)
        for factor in ROI_SCALES:
            out = pose_in_box(self.static, rgb, box.scaled(factor, w, h))
            if out is not None and self.fits(out.image, k):
                self.reacquired += 1
                return self._accept(out, k)
        if full is not None and self.subject is None:
            return self._give_up(k, full)
        return None

    def _give_up(self, k: int, full: Pose) -> Pose | None:
        """No subject chosen and theirs gone for over a second, someone else in view all along:
        the scene has a new person. Their refused frames come back (`take_back`), and the
        extractor's identity-switch check decides which track is kept, as before."""
        if k - self.last_k <= self.fps:
            self.pending[k] = full
            return None
        self.restored, self.pending = self.pending, {}
        return self._accept(full, k)

    def take_back(self) -> dict[int, Pose]:
        """Frames refused, then restored by `_give_up` (grid slot -> Pose); each only once."""
        back, self.restored = self.restored, {}
        return back
