"""BVH text -> joint hierarchy and channel data (`parse_bvh`), and forward kinematics.

Joints with 6 channels take their translation from the position channels (they replace the
OFFSET, as in most exporters); 3-channel joints use OFFSET. Every structural problem is one
LlamoError sentence naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from llamo.errors import LlamoError

VALID_CHANNELS = frozenset(f"{a}{k}" for a in "XYZ" for k in ("position", "rotation"))


@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    end_site: np.ndarray | None = None
    children: list[int] = field(default_factory=list)


@dataclass
class Bvh:
    joints: list[BvhJoint]
    frame_time: float
    data: np.ndarray  # (T, num_channels)


class _Hierarchy:
    """The HIERARCHY section, read token by token (one method per keyword)."""

    def __init__(self, tokens: list[str], name: str):
        self.tokens, self.name = tokens, name
        self.i = 1
        self.joints: list[BvhJoint] = []
        self.stack: list[int] = []
        self.pending: BvhJoint | None = None
        self.in_end = False

    def bad(self, why: str) -> LlamoError:
        return LlamoError(f"{self.name} has a broken BVH hierarchy ({why}).")

    def number(self, j: int) -> float:
        try:
            return float(self.tokens[j])
        except (IndexError, ValueError):
            raise self.bad(f"expected a number at token {j}") from None

    def read(self) -> int:
        """Parse up to the MOTION keyword; returns its token index."""
        handlers = {"ROOT": self.joint, "JOINT": self.joint, "{": self.open, "}": self.close,
                    "END": self.end_site, "OFFSET": self.offset, "CHANNELS": self.channels}  # fmt: skip
        while self.i < len(self.tokens):
            tok = self.tokens[self.i]
            if tok.upper() == "MOTION":
                raise self.bad("MOTION before the hierarchy was closed (unbalanced braces)")
            handler = handlers.get(tok.upper())
            if handler is None:
                raise self.bad(f"unexpected token '{tok[:20]}'")
            if handler(tok.upper()):
                return self.i
        raise self.bad("no MOTION section" if not self.stack else "unbalanced braces")

    def joint(self, kind: str) -> bool:
        if kind == "ROOT" and (self.stack or self.joints):
            raise self.bad("more than one ROOT")
        if kind == "JOINT" and not self.stack:
            raise self.bad("a JOINT outside any parent")
        if self.i + 1 >= len(self.tokens):
            raise self.bad("a joint without a name")
        parent = self.stack[-1] if self.stack else -1
        self.pending = BvhJoint(self.tokens[self.i + 1], parent, np.zeros(3))
        self.i += 2
        return False

    def open(self, _: str) -> bool:
        if self.pending is not None:
            self.joints.append(self.pending)
            if self.pending.parent >= 0:
                self.joints[self.pending.parent].children.append(len(self.joints) - 1)
            self.stack.append(len(self.joints) - 1)
            self.pending = None
        elif not self.in_end:
            raise self.bad("a '{' without a joint")
        self.i += 1
        return False

    def close(self, _: str) -> bool:
        """Closes an End Site or a joint; True when the root closed and MOTION follows."""
        if self.in_end:
            self.in_end = False
        elif self.stack:
            self.stack.pop()
        else:
            raise self.bad("an unmatched '}'")
        self.i += 1
        follows = self.i < len(self.tokens) and self.tokens[self.i].upper() == "MOTION"
        return not self.stack and follows

    def end_site(self, _: str) -> bool:
        if not self.stack:
            raise self.bad("an End Site outside any joint")
        self.in_end = True
        self.i += 2  # End Site
        return False

    def offset(self, _: str) -> bool:
        off = np.array([self.number(self.i + 1), self.number(self.i + 2), self.number(self.i + 3)])
        if self.in_end:
            self.joints[self.stack[-1]].end_site = off
        elif self.stack:
            self.joints[self.stack[-1]].offset = off
        else:
            raise self.bad("an OFFSET outside any joint")
        self.i += 4
        return False

    def channels(self, _: str) -> bool:
        if not self.stack:
            raise self.bad("CHANNELS outside any joint")
        try:
            n = int(self.tokens[self.i + 1])
        except (IndexError, ValueError):
            raise self.bad("a CHANNELS line without a count") from None
        chans = self.tokens[self.i + 2 : self.i + 2 + n]
        if len(chans) != n or any(c.capitalize() not in VALID_CHANNELS for c in chans):
            raise self.bad(f"bad channels for joint {self.joints[self.stack[-1]].name}")
        self.joints[self.stack[-1]].channels = [c.capitalize() for c in chans]
        self.i += 2 + n
        return False


def _motion_data(tokens: list[str], i: int, joints: list[BvhJoint], name: str) -> Bvh:
    """The MOTION section from token `i` (the keyword): header, then frames x channels."""
    try:
        assert tokens[i + 1].lower() == "frames:"
        n_frames = int(tokens[i + 2])
        assert tokens[i + 3].lower() == "frame" and tokens[i + 4].lower() == "time:"
        frame_time = float(tokens[i + 5])
    except (AssertionError, IndexError, ValueError):
        raise LlamoError(f"{name} has a broken BVH MOTION header (Frames: / Frame Time:).") from None
    if n_frames < 1 or not frame_time > 0:
        raise LlamoError(f"{name} has no frames or a non-positive frame time.")
    n_ch = sum(len(j.channels) for j in joints)
    values = tokens[i + 6 :]
    if len(values) < n_frames * n_ch:
        raise LlamoError(
            f"{name} is truncated: {n_frames} frames of {n_ch} channels announced, "
            f"{len(values) // max(n_ch, 1)} present."
        )
    try:
        data = np.array(values[: n_frames * n_ch], dtype=np.float64).reshape(n_frames, n_ch)
    except ValueError:
        raise LlamoError(f"{name} has non-numeric values in its MOTION data.") from None
    if not np.all(np.isfinite(data)):
        raise LlamoError(f"{name} has non-finite values in its MOTION data.")
    return Bvh(joints, frame_time, data)


def parse_bvh(text: str, name: str = "the file") -> Bvh:
    """Parse a BVH text; any structural problem raises one LlamoError sentence."""
    tokens = text.split()
    hierarchy = _Hierarchy(tokens, name)
    if not tokens or tokens[0].upper() != "HIERARCHY":
        raise hierarchy.bad("it does not start with HIERARCHY")
    i = hierarchy.read()
    return _motion_data(tokens, i, hierarchy.joints, name)


def bvh_positions(bvh: Bvh) -> tuple[np.ndarray, np.ndarray]:
    """Forward kinematics: global joint positions (T, J, 3) and End Site positions (T, J, 3) (NaN if none)."""
    from scipy.spatial.transform import Rotation

    t = bvh.data.shape[0]
    nj = len(bvh.joints)
    pos = np.zeros((t, nj, 3))
    ends = np.full((t, nj, 3), np.nan)
    rot = np.zeros((t, nj, 3, 3))
    col = 0
    for j, joint in enumerate(bvh.joints):
        ch = joint.channels
        vals = bvh.data[:, col : col + len(ch)]
        col += len(ch)
        trans = np.broadcast_to(joint.offset, (t, 3)).copy()
        pchan = [k for k, c in enumerate(ch) if c.endswith("position")]
        if len(pchan) == 3:
            p = np.stack([vals[:, ch.index(f"{a}position")] for a in "XYZ"], axis=1)
            # 6-channel joints: the channels hold the full translation in most exporters; a few
            # write deltas from OFFSET (then they sit near zero while OFFSET does not).
            off_n = np.linalg.norm(joint.offset)
            if joint.parent >= 0 and off_n > 1e-6 and np.median(np.linalg.norm(p, axis=1)) < 0.1 * off_n:
                trans = trans + p
            else:
                trans = p
        rchan = [c for c in ch if c.endswith("rotation")]
        if rchan:
            order = "".join(c[0] for c in rchan)
            angles = np.stack([vals[:, ch.index(c)] for c in rchan], axis=1)
            local = Rotation.from_euler(order.upper(), angles, degrees=True).as_matrix()
        else:
            local = np.broadcast_to(np.eye(3), (t, 3, 3))
        if joint.parent < 0:
            rot[:, j] = local
            pos[:, j] = trans
        else:
            pr = rot[:, joint.parent]
            rot[:, j] = pr @ local
            pos[:, j] = pos[:, joint.parent] + np.einsum("tij,tj->ti", pr, trans)
        if joint.end_site is not None:
            ends[:, j] = pos[:, j] + np.einsum("tij,j->ti", rot[:, j], joint.end_site)
    return pos, ends
