"""BVH retargeting, by joint name, onto the canonical 22 joints (metres, y up):
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

import re

import numpy as np

from llamo.errors import LlamoError
from llamo.importers.bvh_parse import Bvh, BvhJoint, bvh_positions
from llamo.skeleton import JOINT_INDEX, NUM_JOINTS

SPINE_ARC_FRACTIONS = {"spine1": 0.2, "spine2": 0.45, "spine3": 0.62}


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
