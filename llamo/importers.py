"""Load any supported file as a canonical Motion: video, BVH, HumanML3D `.npy`, our `.npz`.

BVH retargeting (by joint name, onto the canonical 22):
- names are split into words ("LeftUpLeg" -> left up leg, "UpperLeg_L" -> upper leg l,
  "mixamorig:LeftArm" -> left arm) and matched to roles (hip, knee, ankle, toe, collar,
  shoulder, elbow, wrist) with a side; pelvis is "hips"/"pelvis" (else the root), neck and head
  by name;
- the spine joints (spine1, spine2, spine3) are placed by arc length along the source's own
  chain from pelvis to neck (whatever joints it has in between, even none), at
  `SPINE_ARC_FRACTIONS` of its length: SMPL-like proportions;
- a missing collar is placed between spine3 and the shoulder; a missing toe joint is taken
  from the ankle's first child or End Site;
- units come from body height (head joint above the lowest foot in the first frame): the first
  of m, cm, mm and inches that gives 0.9-2.3 m, else the motion is scaled to 1.6 m (and says so
  in meta); Z-up files are turned Y-up;
- joints with 6 channels take their translation from the position channels (they replace the
  OFFSET, as in most exporters); 3-channel joints use OFFSET.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from llamo.errors import LlamoError
from llamo.fileio import sha256_file
from llamo.motion import Motion
from llamo.skeleton import JOINT_INDEX, NUM_JOINTS

VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".webm", ".avi", ".mkv", ".m4v")
MOTION_SUFFIXES: tuple[str, ...] = (".bvh", ".npy", ".npz")
HUMANML3D_FPS = 20.0
SPINE_ARC_FRACTIONS = {"spine1": 0.2, "spine2": 0.45, "spine3": 0.62}

Progress = Callable[[float, str], None]


def load_motion(
    path: str | Path,
    *,
    fps: float | None = None,
    max_duration: float = 600.0,
    progress: Progress | None = None,
) -> Motion:
    """Dispatch on the suffix. `fps=None` keeps a motion file's own rate and uses 20 for video."""
    path = Path(path)
    if fps is not None and not 0 < fps <= 240:
        raise LlamoError(f"the frame rate must be between 0 and 240, got {fps}.")
    if not path.exists():
        raise LlamoError(f"{path} does not exist.")
    if path.is_dir():
        raise LlamoError(f"{path} is a folder; give a file (extract accepts folders).")
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES + MOTION_SUFFIXES:
        raise LlamoError(
            f"{path.name} has an unsupported format ({suffix or 'no suffix'}); expected a video "
            f"({' '.join(VIDEO_SUFFIXES)}) or a motion file ({' '.join(MOTION_SUFFIXES)})."
        )
    if path.stat().st_size == 0:
        raise LlamoError(f"{path.name} is empty (0 bytes).")
    if suffix in VIDEO_SUFFIXES:
        from llamo.capture import extract_video

        return extract_video(path, fps=fps or 20.0, max_duration=max_duration, progress=progress)
    if suffix == ".bvh":
        motion = load_bvh(path)
    elif suffix == ".npy":
        motion = load_humanml3d(path)
    else:
        motion = Motion.load(path)
    if max_duration and motion.duration > max_duration:
        raise LlamoError(
            f"{path.name} lasts {motion.duration:.0f} s, over the limit of {max_duration:.0f} s."
        )
    if fps and abs(fps - motion.fps) > 1e-6:
        from llamo.motion_ops import resample

        motion = resample(motion, fps)
    if progress:
        progress(1.0, f"{motion.num_frames} frames")
    return motion


def _source(path: Path, kind: str) -> dict:
    return {"source_path": os.fspath(path), "source_sha256": sha256_file(path), "source_kind": kind}


# ---------------------------------------------------------------------------------------------
# HumanML3D


def load_humanml3d(path: str | Path) -> Motion:
    """HumanML3D `new_joints/*.npy`: (T, 22, 3) metres, y up, 20 fps."""
    path = Path(path)
    try:
        joints = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise LlamoError(f"{path.name} is not a readable .npy array ({exc}).") from None
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or joints.shape[0] < 1:
        raise LlamoError(f"{path.name} has shape {joints.shape}; a HumanML3D joints file is (T, 22, 3).")
    if not np.issubdtype(joints.dtype, np.number) or not np.all(np.isfinite(joints)):
        raise LlamoError(f"{path.name} contains non-finite values.")
    return Motion.from_joints(joints.astype(np.float32), HUMANML3D_FPS, **_source(path, "humanml3d"))


def save_humanml3d(motion: Motion, path: str | Path) -> Path:
    """Write joints as a HumanML3D-style .npy (for round trips and exports); resample to 20 fps first."""
    from llamo.fileio import atomic_path
    from llamo.motion_ops import resample

    m = resample(motion, HUMANML3D_FPS)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, m.joints.astype(np.float32))
    return Path(path)


# ---------------------------------------------------------------------------------------------
# BVH


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


def parse_bvh(text: str, name: str = "the file") -> Bvh:
    """Parse a BVH text; any structural problem raises one LlamoError sentence."""
    tokens = text.split()
    bad = lambda why: LlamoError(f"{name} has a broken BVH hierarchy ({why}).")  # noqa: E731
    if not tokens or tokens[0].upper() != "HIERARCHY":
        raise bad("it does not start with HIERARCHY")
    i = 1
    joints: list[BvhJoint] = []
    stack: list[int] = []
    pending: BvhJoint | None = None
    in_end = False
    depth_end = 0

    def number(j):
        try:
            return float(tokens[j])
        except (IndexError, ValueError):
            raise bad(f"expected a number at token {j}") from None

    while i < len(tokens):
        tok = tokens[i]
        up = tok.upper()
        if up in ("ROOT", "JOINT"):
            if up == "ROOT" and (stack or joints):
                raise bad("more than one ROOT")
            if up == "JOINT" and not stack:
                raise bad("a JOINT outside any parent")
            if i + 1 >= len(tokens):
                raise bad("a joint without a name")
            pending = BvhJoint(tokens[i + 1], stack[-1] if stack else -1, np.zeros(3))
            i += 2
        elif tok == "{":
            if pending is not None:
                joints.append(pending)
                if pending.parent >= 0:
                    joints[pending.parent].children.append(len(joints) - 1)
                stack.append(len(joints) - 1)
                pending = None
            elif in_end:
                depth_end += 1
            else:
                raise bad("a '{' without a joint")
            i += 1
        elif tok == "}":
            if in_end:
                in_end = False
                depth_end -= 1
            elif stack:
                stack.pop()
            else:
                raise bad("an unmatched '}'")
            i += 1
            if not stack and not in_end:
                i_next = i
                if i_next < len(tokens) and tokens[i_next].upper() == "MOTION":
                    i = i_next
                    break
        elif up == "END":
            if not stack:
                raise bad("an End Site outside any joint")
            in_end = True
            i += 2  # End Site
        elif up == "OFFSET":
            off = np.array([number(i + 1), number(i + 2), number(i + 3)])
            if in_end:
                joints[stack[-1]].end_site = off
            elif stack:
                joints[stack[-1]].offset = off
            else:
                raise bad("an OFFSET outside any joint")
            i += 4
        elif up == "CHANNELS":
            if not stack:
                raise bad("CHANNELS outside any joint")
            try:
                n = int(tokens[i + 1])
            except (IndexError, ValueError):
                raise bad("a CHANNELS line without a count") from None
            chans = tokens[i + 2 : i + 2 + n]
            valid = {f"{a}{k}" for a in "XYZ" for k in ("position", "rotation")}
            if len(chans) != n or any(c.capitalize() not in valid for c in chans):
                raise bad(f"bad channels for joint {joints[stack[-1]].name}")
            joints[stack[-1]].channels = [c.capitalize() for c in chans]
            i += 2 + n
        elif up == "MOTION":
            raise bad("MOTION before the hierarchy was closed (unbalanced braces)")
        else:
            raise bad(f"unexpected token '{tok[:20]}'")
    else:
        raise bad("no MOTION section" if not stack else "unbalanced braces")
    if stack or in_end:
        raise bad("unbalanced braces")
    if not joints:
        raise bad("no joints")
    # MOTION
    if i >= len(tokens) or tokens[i].upper() != "MOTION":
        raise bad("no MOTION section")
    try:
        assert tokens[i + 1].lower() == "frames:"
        n_frames = int(tokens[i + 2])
        assert tokens[i + 3].lower() == "frame" and tokens[i + 4].lower() == "time:"
        frame_time = float(tokens[i + 5])
    except (AssertionError, IndexError, ValueError):
        raise LlamoError(f"{name} has a broken BVH MOTION header (Frames: / Frame Time:).") from None
    if n_frames < 1 or frame_time <= 0:
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


def _words(name: str) -> tuple[str | None, str]:
    """'LeftUpLeg' -> ('left', 'upleg'); 'UpperLeg_L' -> ('left', 'upperleg'); 'Spine1' -> (None, 'spine')."""
    name = re.sub(r"^.*[:|]", "", name)  # namespaces: mixamorig:LeftArm
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", name)
    words = [p.lower() for p in parts if not p.isdigit()]
    side = None
    rest = []
    for w in words:
        if w in ("left", "l", "lft") and side is None:
            side = "left"
        elif w in ("right", "r", "rt", "rgt") and side is None:
            side = "right"
        elif w not in ("bip", "joint", "jnt", "bone", "mixamorig", "def", "b"):
            rest.append(w)
    return side, "".join(rest)


# Roles with a side, each a list of accepted base names in priority order.
# Roles are assigned in this order and a joint takes one role only, so "Shoulder" is the collar
# when there is no Clavicle/Collar (Mixamo, Bandai) and the upper arm when there is (SMPL), and
# "Foot" is the ankle unless an Ankle exists (SMPL's L_Ankle + L_Foot).
_SIDED = {
    "hip": ("upleg", "upperleg", "thigh", "femur", "hip"),
    "knee": ("leg", "lowerleg", "calf", "shin", "knee", "tibia", "lowleg"),
    "ankle": ("ankle", "foot"),
    "foot": ("toebase", "toe", "toes", "ball", "footend", "foot"),
    "collar": ("clavicle", "collar", "shoulder"),
    "shoulder": ("arm", "upperarm", "humerus", "uparm", "shoulder"),
    "elbow": ("forearm", "lowerarm", "elbow", "lowarm"),
    "wrist": ("wrist", "hand"),
}
_REQUIRED = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")


def _depth(joints: list[BvhJoint], j: int) -> int:
    d = 0
    while joints[j].parent >= 0:
        j = joints[j].parent
        d += 1
    return d


def _find_roles(bvh: Bvh, name: str) -> dict[str, int]:
    joints = bvh.joints
    info = [_words(j.name) for j in joints]
    roles: dict[str, int] = {}

    def pick(cands):
        return min(cands, key=lambda j: _depth(joints, j)) if cands else None

    for base in ("hips", "pelvis", "hip"):
        c = pick([j for j, (s, b) in enumerate(info) if s is None and b == base])
        if c is not None:
            roles["pelvis"] = c
            break
    else:
        roles["pelvis"] = 0
    for role, bases in _SIDED.items():
        for side in ("left", "right"):
            taken = set(roles.values())
            for base in bases:
                c = pick([j for j, (s, b) in enumerate(info) if s == side and b == base and j not in taken])
                if c is not None:
                    roles[f"{side}_{role}"] = c
                    break
    for role, bases in (("neck", ("neck", "neckbase", "neckupper")), ("head", ("head",))):
        for base in bases:
            c = pick([j for j, (s, b) in enumerate(info) if s is None and b == base])
            if c is not None:
                roles[role] = c
                break
    missing = [f"{s}_{r}" for r in _REQUIRED for s in ("left", "right") if f"{s}_{r}" not in roles]
    if "head" not in roles and "neck" not in roles:
        missing.append("head")
    if missing:
        raise LlamoError(
            f"{name}: no BVH joint is recognisable as {', '.join(missing[:3])} (joint names do not match)."
        )
    return roles


def _chain(joints: list[BvhJoint], top: int, bottom: int) -> list[int]:
    """Joint indices from `bottom` up to `top` inclusive, returned top-first ([] if not an ancestor)."""
    out = [top]
    j = joints[top].parent
    while j >= 0 and j != bottom:
        out.append(j)
        j = joints[j].parent
    if j != bottom:
        return []
    out.append(bottom)
    return out[::-1]


def _along(points: np.ndarray, fractions: list[float]) -> np.ndarray:
    """Points at arc-length fractions along a polyline per frame: (T, P, 3) -> (T, F, 3)."""
    seg = np.linalg.norm(np.diff(points, axis=1), axis=-1)  # (T, P-1)
    cum = np.concatenate([np.zeros((points.shape[0], 1)), np.cumsum(seg, axis=1)], axis=1)
    total = np.maximum(cum[:, -1:], 1e-9)
    out = np.zeros((points.shape[0], len(fractions), 3))
    for k, f in enumerate(fractions):
        target = f * total[:, 0]
        idx = np.clip((cum < target[:, None]).sum(axis=1) - 1, 0, points.shape[1] - 2)
        a = np.take_along_axis(cum, idx[:, None], 1)[:, 0]
        b = np.take_along_axis(cum, idx[:, None] + 1, 1)[:, 0]
        w = np.clip((target - a) / np.maximum(b - a, 1e-9), 0, 1)
        pa = points[np.arange(len(idx)), idx]
        pb = points[np.arange(len(idx)), idx + 1]
        out[:, k] = pa + w[:, None] * (pb - pa)
    return out


UNIT_SCALES = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}


def bvh_to_canonical(bvh: Bvh, name: str = "the file") -> tuple[np.ndarray, dict]:
    """Retarget FK positions onto the canonical 22 joints, metres, y up. Returns joints and notes."""
    pos, ends = bvh_positions(bvh)
    roles = _find_roles(bvh, name)
    t = pos.shape[0]
    out = np.zeros((t, NUM_JOINTS, 3))
    for role, j in roles.items():
        if role in JOINT_INDEX:
            out[:, JOINT_INDEX[role]] = pos[:, j]
    notes = {"bvh_roles": {r: bvh.joints[j].name for r, j in roles.items()}}
    neck_j = roles.get("neck", roles.get("head"))
    if "neck" not in roles:
        out[:, JOINT_INDEX["neck"]] = pos[:, neck_j]
    if "head" not in roles:
        h = ends[:, neck_j]
        out[:, JOINT_INDEX["head"]] = np.where(np.isnan(h), pos[:, neck_j], h)
    elif (
        np.allclose(out[:, JOINT_INDEX["head"]], out[:, JOINT_INDEX["neck"]])
        and not np.isnan(ends[0, roles["head"]]).any()
    ):
        out[:, JOINT_INDEX["head"]] = ends[:, roles["head"]]
    # spine: arc length along the source chain pelvis -> neck
    chain = _chain(bvh.joints, neck_j, roles["pelvis"])
    if len(chain) < 2:
        chain = [roles["pelvis"], neck_j]
    pts = _along(pos[:, chain], list(SPINE_ARC_FRACTIONS.values()))
    for k, sname in enumerate(SPINE_ARC_FRACTIONS):
        out[:, JOINT_INDEX[sname]] = pts[:, k]
    notes["bvh_spine_chain"] = [bvh.joints[j].name for j in chain]
    for side in ("left", "right"):
        if f"{side}_collar" not in roles:
            out[:, JOINT_INDEX[f"{side}_collar"]] = 0.5 * (
                out[:, JOINT_INDEX["spine3"]] + out[:, JOINT_INDEX[f"{side}_shoulder"]]
            )
        if f"{side}_foot" not in roles:
            a = roles[f"{side}_ankle"]
            kids = bvh.joints[a].children
            if kids:
                out[:, JOINT_INDEX[f"{side}_foot"]] = pos[:, kids[0]]
            elif not np.isnan(ends[0, a]).any():
                out[:, JOINT_INDEX[f"{side}_foot"]] = ends[:, a]
            else:
                raise LlamoError(f"{name}: the {side} foot has no toe joint or End Site.")
    # up axis: pelvis->head mostly along z means Z-up; turn it Y-up (x, z, -y)
    up = np.median(out[:, JOINT_INDEX["head"]] - out[:, JOINT_INDEX["pelvis"]], axis=0)
    if abs(up[2]) > abs(up[1]) and abs(up[2]) > abs(up[0]):
        out = out[..., [0, 2, 1]] * np.array([1.0, 1.0, -1.0]) if up[2] > 0 else out
        notes["bvh_up_axis"] = "z"
    else:
        notes["bvh_up_axis"] = "y"
        if up[1] < 0:
            out = out * np.array([1.0, -1.0, -1.0])
    # units from body height (head to lowest foot, first frame)
    feet = [JOINT_INDEX[k] for k in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    height = out[0, JOINT_INDEX["head"], 1] - out[0, feet, 1].min()
    height = max(height, 1e-9)
    # the first unit (m, cm, mm, inches) that gives a human head height; else scale to 1.6 m
    unit = next((u for u, k in UNIT_SCALES.items() if 0.9 <= height * k <= 2.3), None)
    scale = UNIT_SCALES[unit] if unit else 1.6 / height
    out = out * scale
    notes["bvh_units"] = unit or f"unknown (scaled by {scale:.4g} to a 1.6 m head height)"
    return out.astype(np.float32), notes


def load_bvh(path: str | Path) -> Motion:
    path = Path(path)
    try:
        text = path.read_text(errors="strict")
    except (UnicodeDecodeError, OSError) as exc:
        raise LlamoError(f"{path.name} is not a readable BVH text file ({type(exc).__name__}).") from None
    bvh = parse_bvh(text, path.name)
    joints, notes = bvh_to_canonical(bvh, path.name)
    fps = 1.0 / bvh.frame_time
    if abs(fps - round(fps)) < 0.01:
        fps = float(round(fps))
    warnings = []
    if notes["bvh_units"].startswith("unknown"):
        warnings.append(
            "the BVH units are not m, cm, mm or inches; the body was scaled to a 1.6 m head height"
        )
    return Motion.from_joints(joints, fps, meta=notes, warnings=warnings, **_source(path, "bvh"))


# Mixamo-style names for the canonical joints (what `save_bvh` writes; `load_bvh` reads them back).
BVH_NAMES = {
    "pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck", "head": "Head",
    **{f"{s}_{j}": f"{s.capitalize()}{n}" for s in ("left", "right") for j, n in (
        ("hip", "UpLeg"), ("knee", "Leg"), ("ankle", "Foot"), ("foot", "ToeBase"), ("collar", "Shoulder"),
        ("shoulder", "Arm"), ("elbow", "ForeArm"), ("wrist", "Hand"))},
}  # fmt: skip


def save_bvh(motion: Motion, path: str | Path, names: dict[str, str] | None = None) -> Path:
    """Write a motion as a BVH of the canonical skeleton (translation-only channels, centimetres).

    Each joint carries its own 3 position channels (no rotations): an exact, simple encoding of
    joint positions that round-trips through `load_bvh` and opens in BVH viewers as a point cloud.
    """
    from llamo.fileio import atomic_path
    from llamo.skeleton import JOINT_NAMES, PARENTS

    cm = motion.joints * 100.0
    children: dict[int, list[int]] = {i: [] for i in range(NUM_JOINTS)}
    for c, p in enumerate(PARENTS):
        if p >= 0:
            children[p].append(c)
    lines: list[str] = ["HIERARCHY"]
    order: list[int] = []
    rest = cm[0]

    def emit(j, depth):
        pad = "  " * depth
        kw = "ROOT" if PARENTS[j] < 0 else "JOINT"
        off = rest[j] - (rest[PARENTS[j]] if PARENTS[j] >= 0 else 0)
        name = (names or BVH_NAMES)[JOINT_NAMES[j]]
        lines.append(f"{pad}{kw} {name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {off[0]:.4f} {off[1]:.4f} {off[2]:.4f}")
        lines.append(f"{pad}  CHANNELS 3 Xposition Yposition Zposition")
        order.append(j)
        for c in children[j]:
            emit(c, depth + 1)
        if not children[j]:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 0 0", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    local = cm.copy()
    for j in order:
        if PARENTS[j] >= 0:
            local[:, j] = cm[:, j] - cm[:, PARENTS[j]]
    for f in range(motion.num_frames):
        lines.append(" ".join(f"{v:.4f}" for j in order for v in local[f, j]))
    with atomic_path(path) as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n")
    return Path(path)


def iter_inputs(folder: str | Path) -> list[Path]:
    """Supported files in a folder (recursive, sorted, hidden files skipped)."""
    folder = Path(folder)
    out = []
    for p in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in p.relative_to(folder).parts)
        if p.is_file() and not hidden and p.suffix.lower() in VIDEO_SUFFIXES + MOTION_SUFFIXES:
            out.append(p)
    return out
