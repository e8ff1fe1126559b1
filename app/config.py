"""`AppConfig`: every limit and deployment switch of the web app in one dataclass.

Values come from command-line flags (`python -m app --help`) or environment variables, so the
same code runs on a laptop, under `launch(auth=...)` and on a Hugging Face Space.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from llamo.errors import LlamoError
from llamo.storage import storage_plan

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "assets" / "examples"
TAGS = ("wrong action", "wrong body part", "wrong count", "hallucination", "other")


@dataclass
class AppConfig:
    max_file_mb: int = 200  # uploads above this are refused (Gradio's max_file_size too)
    max_duration_s: float = 600.0  # clips longer than this are refused before decoding
    video_fps: float = 20.0  # pose extraction rate
    queue_size: int = 64  # bounded queue: the 65th waiting request is refused
    extract_concurrency: int = 1  # pose extraction runs at once (CPU-bound, MediaPipe)
    chat_concurrency: int = 16  # generations at once (shared model, own KV caches; see docs/app.md)
    batched: bool = True  # one llamo.serving.Scheduler decodes all tabs' answers together (never on ZeroGPU)
    max_new_tokens: int = 160  # default answer length; the accordion allows up to 512
    min_new_tokens: int = 0  # >0: answers run to this many tokens (capped by max): tests, benchmarks
    stream_interval_s: float = 0.15  # streamed answers reach the page this often at most (first text at once)
    delete_cache: tuple[int, int] = (1800, 3600)  # every 30 min, delete temp files older than 1 h
    session_ttl_s: int = 3 * 3600  # a session's state (and its temp folder) dies after this
    max_sessions: int = 100  # tabs holding a clip; beyond it the oldest idle one is freed
    max_sessions_mb: int = 2048  # memory all sessions may hold (estimated, app/registry.py)
    job_time_limit_s: float = 300.0  # opening a clip or writing an answer stops after this
    users: dict[str, str] = field(default_factory=dict)  # launch(auth=...) name -> password
    reviewers: frozenset[str] = frozenset()  # names (auth users or HF usernames) that review
    admins: frozenset[str] = frozenset()  # names that also change settings and export everything
    examples_dir: Path = EXAMPLES_DIR
    on_spaces: bool = False  # running on a Hugging Face Space (SPACE_ID is set)
    oauth: bool = False  # the Space has hf_oauth: true (OAUTH_CLIENT_ID is set)
    persistent_storage: bool = True  # False on a Space without a storage bucket: annotations die on restart

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def typed_names_allowed(self) -> bool:
        """A typed name identifies the annotator only locally: never with auth, never on a Space."""
        return not self.users and not self.on_spaces

    @classmethod
    def from_env(cls, **overrides) -> AppConfig:
        env = os.environ
        cfg = cls(
            max_file_mb=int(env.get("LLAMO_MAX_FILE_MB", 200)),
            max_duration_s=float(env.get("LLAMO_MAX_DURATION_S", 600)),
            users=parse_users(env.get("LLAMO_USERS", "")),
            reviewers=names(env.get("LLAMO_REVIEWERS", "")),
            admins=names(env.get("LLAMO_ADMINS", "")),
            batched=env.get("LLAMO_BATCHED", "1") != "0",
            on_spaces=bool(env.get("SPACE_ID")),
            oauth=bool(env.get("SPACE_ID") and env.get("OAUTH_CLIENT_ID")),
        )
        if cfg.on_spaces:  # persistent only on an attached storage bucket (llamo/storage.py)
            cfg.persistent_storage = storage_plan().persistent
        for key, value in overrides.items():
            if value is not None:
                setattr(cfg, key, value)
        return cfg


def names(spec: str) -> frozenset[str]:
    """`ana,rui` -> {"ana", "rui"}."""
    return frozenset(n.strip() for n in spec.split(",") if n.strip())


def parse_users(spec: str) -> dict[str, str]:
    """`name:password[,name:password...]`, or `@file` with one `name:password` per line."""
    spec = spec.strip()
    if not spec:
        return {}
    if spec.startswith("@"):
        path = Path(spec[1:])
        if not path.is_file():
            raise LlamoError(f"users file {path} does not exist.")
        items = [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    else:
        items = [s.strip() for s in spec.split(",") if s.strip()]
    users = {}
    for item in items:
        name, sep, password = item.partition(":")
        if not sep or not name or not password:
            raise LlamoError(f"a user must be written name:password, not {item.split(':')[0]!r}:...")
        users[name] = password
    return users
