"""Hugging Face Spaces entry point (`app_file: app.py`): Spaces runs this file as a script, so it
lives at the repository root where `app`, `llamo` and `annotations` import as packages."""

import os
import sys

os.environ.setdefault("GRADIO_SERVER_NAME", "0.0.0.0")  # Spaces routes to 0.0.0.0:7860

from llamo.storage import hub_cache_env, storage_plan  # noqa: E402  (stdlib only)

hub_cache_env(storage_plan())  # HF_HOME on the storage bucket, before gradio imports huggingface_hub

from app.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
