"""Animated GLB of the skeleton, for `gr.Model3D` (autoplays and loops glTF animations) and Blender.

Scene: one root node; 22 joint nodes, each carrying a small sphere and animated by its
translation; under each parent joint, one bone node per child, carrying a unit cylinder along +y
and animated by rotation (+y -> bone direction) and scale (1, length, 1). Animated nodes use TRS,
never `matrix` (glTF forbids animating matrix nodes). One keyframe per motion frame, linear.
A static ground square sits at the lowest foot point.

The body is turned so that its mean facing direction is glTF's +Z (the asset's front), its first
pelvis position is above the origin and the floor is y = 0; lengths are unchanged.
trimesh builds the sphere and cylinder meshes; pygltflib writes the file, since trimesh can
neither author nor read animations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygltflib as g
import trimesh

from llamo.fileio import atomic_path
from llamo.kinematics import floor_height
from llamo.motion import Motion
from llamo.skeleton import BONES, JOINT_INDEX, JOINT_NAMES, JOINT_SIDES, facing_direction

SIDE_RGBA = {
    "left": (0.12, 0.47, 0.71, 1.0),
    "right": (0.84, 0.15, 0.16, 1.0),
    "centre": (0.3, 0.3, 0.3, 1.0),
}
SIDES = ("left", "right", "centre")


@dataclass(frozen=True)
class GlbConfig:
    joint_radius: float = 0.035  # metres
    bone_radius: float = 0.018
    sphere_subdivisions: int = 1  # 80 triangles
    cylinder_sections: int = 10
    ground: bool = True


def align_to_front(joints: np.ndarray) -> np.ndarray:
    """(T, 22, 3) -> same, turned about +y so the mean facing is +Z, first pelvis at x=z=0, floor y=0."""
    f = facing_direction(joints.astype(np.float64)).mean(axis=0)
    a = float(np.arctan2(f[0], f[2])) if np.hypot(f[0], f[2]) > 1e-6 else 0.0
    c, s = np.cos(-a), np.sin(-a)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])  # rotation about y by -a
    out = joints.astype(np.float64) @ rot.T
    pelvis0 = out[0, JOINT_INDEX["pelvis"]]
    out[..., 0] -= pelvis0[0]
    out[..., 2] -= pelvis0[2]
    out[..., 1] -= floor_height(out)
    return out


def bone_rotations(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bone vectors (..., 3) -> (quaternions xyzw turning +y onto them (..., 4), lengths (...))."""
    length = np.linalg.norm(d, axis=-1)
    u = d / np.maximum(length, 1e-9)[..., None]
    # q = (y x u, 1 + y.u), normalised; y x u = (uz, 0, -ux).
    q = np.stack([u[..., 2], np.zeros_like(u[..., 0]), -u[..., 0], 1.0 + u[..., 1]], axis=-1)
    flipped = q[..., 3] < 1e-6  # u = -y: half turn about x
    q[flipped] = (1.0, 0.0, 0.0, 0.0)
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    return q, length


class _Builder:
    """Accumulates binary blobs, buffer views and accessors for one GLB buffer."""

    def __init__(self) -> None:
        self.gltf = g.GLTF2(asset=g.Asset(generator="llamo", version="2.0"))
        self.blob = bytearray()

    def add(self, array: np.ndarray, kind: str, target: int | None = None, minmax: bool = False) -> int:
        array = np.ascontiguousarray(array)
        while len(self.blob) % 4:
            self.blob.append(0)
        offset = len(self.blob)
        self.blob.extend(array.tobytes())
        self.gltf.bufferViews.append(
            g.BufferView(buffer=0, byteOffset=offset, byteLength=array.nbytes, target=target)
        )
        ctype = g.UNSIGNED_INT if array.dtype == np.uint32 else g.FLOAT
        acc = g.Accessor(
            bufferView=len(self.gltf.bufferViews) - 1,
            componentType=ctype,
            count=int(array.shape[0]),
            type=kind,
        )
        if minmax:
            flat = array.reshape(array.shape[0], -1)
            acc.min = [float(v) for v in flat.min(axis=0)]
            acc.max = [float(v) for v in flat.max(axis=0)]
        self.gltf.accessors.append(acc)
        return len(self.gltf.accessors) - 1

    def mesh(self, tm: trimesh.Trimesh, name: str) -> dict[str, int]:
        """One mesh per side colour, sharing the vertex and index accessors."""
        pos = self.add(tm.vertices.astype(np.float32), g.VEC3, g.ARRAY_BUFFER, minmax=True)
        nrm = self.add(tm.vertex_normals.astype(np.float32), g.VEC3, g.ARRAY_BUFFER)
        idx = self.add(tm.faces.astype(np.uint32).reshape(-1), g.SCALAR, g.ELEMENT_ARRAY_BUFFER)
        out = {}
        for m, side in enumerate(SIDES):
            prim = g.Primitive(attributes=g.Attributes(POSITION=pos, NORMAL=nrm), indices=idx, material=m)
            self.gltf.meshes.append(g.Mesh(name=f"{name}_{side}", primitives=[prim]))
            out[side] = len(self.gltf.meshes) - 1
        return out


def motion_to_glb(motion: Motion, config: GlbConfig | None = None) -> bytes:
    """The animated GLB as bytes (one animation, one keyframe per frame)."""
    cfg = config or GlbConfig()
    joints = align_to_front(motion.joints)  # (T, 22, 3) float64
    t = motion.num_frames
    b = _Builder()
    gl = b.gltf
    gl.materials = [
        g.Material(
            name=side,
            pbrMetallicRoughness=g.PbrMetallicRoughness(
                baseColorFactor=list(SIDE_RGBA[side]), metallicFactor=0.0, roughnessFactor=0.7
            ),
        )
        for side in SIDES
    ]
    sphere = trimesh.creation.icosphere(subdivisions=cfg.sphere_subdivisions, radius=cfg.joint_radius)
    cyl = trimesh.creation.cylinder(radius=cfg.bone_radius, height=1.0, sections=cfg.cylinder_sections)
    # trimesh's cylinder runs along z, centred: turn it onto +y and move it to [0, 1].
    cyl.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    cyl.apply_translation([0, 0.5, 0])
    sphere_mesh = b.mesh(sphere, "joint")
    bone_mesh = b.mesh(cyl, "bone")

    times = b.add((np.arange(t) / motion.fps).astype(np.float32), g.SCALAR, minmax=True)
    root = g.Node(name="motion", children=[])
    gl.nodes.append(root)
    anim = g.Animation(name="motion", samplers=[], channels=[])

    def animate(node: int, path: str, values: np.ndarray, kind: str) -> None:
        out = b.add(values.astype(np.float32), kind)
        anim.samplers.append(g.AnimationSampler(input=times, output=out, interpolation="LINEAR"))
        anim.channels.append(
            g.AnimationChannel(
                sampler=len(anim.samplers) - 1, target=g.AnimationChannelTarget(node=node, path=path)
            )
        )

    joint_node: dict[int, int] = {}
    for j, name in enumerate(JOINT_NAMES):
        node = g.Node(
            name=name,
            mesh=sphere_mesh[JOINT_SIDES[j]],
            translation=[float(v) for v in joints[0, j]],
            children=[],
        )
        gl.nodes.append(node)
        joint_node[j] = len(gl.nodes) - 1
        root.children.append(joint_node[j])
        animate(joint_node[j], "translation", joints[:, j], g.VEC3)
    for p, c in BONES:
        q, length = bone_rotations(joints[:, c] - joints[:, p])  # (T, 4), (T,)
        scale = np.stack([np.ones(t), length, np.ones(t)], axis=-1)
        node = g.Node(
            name=f"bone_{JOINT_NAMES[p]}_{JOINT_NAMES[c]}",
            mesh=bone_mesh[JOINT_SIDES[c]],
            rotation=[float(v) for v in q[0]],
            scale=[float(v) for v in scale[0]],
        )
        gl.nodes.append(node)
        gl.nodes[joint_node[p]].children.append(len(gl.nodes) - 1)
        animate(len(gl.nodes) - 1, "rotation", q, g.VEC4)
        animate(len(gl.nodes) - 1, "scale", scale, g.VEC3)
    if cfg.ground:
        lo, hi = joints[..., [0, 2]].min(axis=(0, 1)) - 0.5, joints[..., [0, 2]].max(axis=(0, 1)) + 0.5
        verts = np.array(
            [[lo[0], 0, lo[1]], [hi[0], 0, lo[1]], [hi[0], 0, hi[1]], [lo[0], 0, hi[1]]], np.float32
        )
        pos = b.add(verts, g.VEC3, g.ARRAY_BUFFER, minmax=True)
        nrm = b.add(np.tile(np.float32([0, 1, 0]), (4, 1)), g.VEC3, g.ARRAY_BUFFER)
        idx = b.add(np.array([0, 2, 1, 0, 3, 2], np.uint32), g.SCALAR, g.ELEMENT_ARRAY_BUFFER)
        gl.materials.append(
            g.Material(
                name="ground",
                pbrMetallicRoughness=g.PbrMetallicRoughness(
                    baseColorFactor=[0.72, 0.77, 0.69, 1.0], metallicFactor=0.0, roughnessFactor=1.0
                ),
            )
        )
        prim = g.Primitive(
            attributes=g.Attributes(POSITION=pos, NORMAL=nrm), indices=idx, material=len(gl.materials) - 1
        )
        gl.meshes.append(g.Mesh(name="ground", primitives=[prim]))
        gl.nodes.append(g.Node(name="ground", mesh=len(gl.meshes) - 1))
        root.children.append(len(gl.nodes) - 1)
    gl.animations = [anim]
    gl.scenes = [g.Scene(name="llamo", nodes=[0])]
    gl.scene = 0
    gl.buffers = [g.Buffer(byteLength=len(b.blob))]
    gl.set_binary_blob(bytes(b.blob))
    return b"".join(gl.save_to_bytes())


def write_glb(motion: Motion, path: str | Path, config: GlbConfig | None = None) -> Path:
    """Write the animated GLB atomically; returns the path."""
    path = Path(path)
    data = motion_to_glb(motion, config)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
