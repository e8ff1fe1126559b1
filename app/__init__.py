"""LLaMo's web app: `create_app(model, store, config)` builds the Gradio Blocks.

python -m app                  # http://127.0.0.1:7860 on the default model
from app import create_app     # tests inject a small model and a temporary store
"""

from app import gpu as _gpu  # noqa: F401  (imports `spaces` before anything touches CUDA)
from app.config import AppConfig
from app.core import LlamoApp
from app.session import Session, Settings


def create_app(model=None, store=None, config: AppConfig | None = None, progress=None):
    """The queued Blocks, ready for `.launch(**launch_kwargs(demo.llamo_core))`.

    model: a llamo Llamo (default: llamo.model.load_default()); store: an annotations Store
    (default: Store.open(), i.e. LLAMO_DATA_DIR, /data or ./data)."""
    from app.ui import build_ui, queue

    if model is None:
        from llamo.model import load_default

        model = load_default(progress=progress)
    if store is None:
        from annotations.store import Store

        store = Store.open()
    core = LlamoApp(model, store, config or AppConfig.from_env())
    demo = queue(build_ui(core), core)
    close = demo.close

    def close_all(*args, **kwargs):  # the app shuts down with its server
        close(*args, **kwargs)
        core.close()

    demo.close = close_all
    return demo


__all__ = ["AppConfig", "LlamoApp", "Session", "Settings", "create_app"]
