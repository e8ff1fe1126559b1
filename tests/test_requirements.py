"""Lean, pinned installs: requirements.txt (the app and the Space) pulls in no test or lint tool,
even through its dependencies; requirements-dev.txt adds them; the environment the tests run in
matches the pins; the gradio pin agrees with the Space's sdk_version."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
DEV_TOOLS = {"pytest", "hypothesis", "playwright", "ruff"}


def _requirements(name: str) -> list[Requirement]:
    lines = (ROOT / name).read_text().splitlines()
    return [
        Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()[:1].isalnum()
    ]


def _closure(roots: list[Requirement]) -> set[str]:
    """Every installed distribution the roots pull in (markers evaluated, requested extras followed)."""
    seen: set[str] = set()
    todo = [(r, frozenset(r.extras)) for r in roots]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(req.name) or []:
            dep = Requirement(spec)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if dep.marker is None or any(dep.marker.evaluate(env) for env in envs):
                todo.append((dep, frozenset(dep.extras)))
    return seen


def test_runtime_requirements_carry_no_dev_tools():
    runtime = _requirements("requirements.txt")
    assert not {canonicalize_name(r.name) for r in runtime} & DEV_TOOLS
    assert not _closure(runtime) & DEV_TOOLS  # not even as a dependency of a dependency


def test_dev_requirements_add_the_tools_on_top():
    text = (ROOT / "requirements-dev.txt").read_text()
    assert re.search(r"^-r requirements\.txt$", text, re.M)
    assert {canonicalize_name(r.name) for r in _requirements("requirements-dev.txt")} == DEV_TOOLS


def test_installed_versions_match_the_pins():
    """The suite ran on these releases, so a pin that no longer matches them was not tested."""
    reqs = _requirements("requirements.txt") + _requirements("requirements-dev.txt")
    wrong = [
        f"{r.name} {metadata.version(r.name)} (wants {r.specifier})"
        for r in reqs
        if r.specifier and not r.specifier.contains(metadata.version(r.name).split("+")[0], prereleases=True)
    ]
    assert not wrong


def test_ml_stack_is_pinned_and_gradio_matches_the_space():
    pins = {canonicalize_name(r.name): str(r.specifier) for r in _requirements("requirements.txt")}
    for name in ("torch", "transformers", "peft", "accelerate", "gradio"):
        assert pins[name].startswith("=="), f"{name} is not pinned: {pins[name]!r}"
    sdk = re.search(r"^sdk_version:\s*(\S+)", (ROOT / "README.md").read_text(), re.M).group(1)
    assert Requirement(f"gradio{pins['gradio']}").specifier.contains(sdk)
