"""HTTP middleware for a faster page: Gradio's `/assets/` files have content hashes in their
names, so browsers may keep them for a year. Gradio sends only an ETag, which costs a round
trip per file on every load (~120 files on this page).

Not compressed here: gzip in the server's event loop made a cold load about 2 s slower on 2
cores (`python -m bench.app`), compressing the same ~1 MB of JS for every new visitor."""

from __future__ import annotations

from starlette.middleware import Middleware

IMMUTABLE = (b"cache-control", b"public, max-age=31536000, immutable")


class AssetCache:
    """ASGI middleware: immutable caching for `/assets/`; everything else (the page, the API,
    SSE streams, uploaded and served files) passes untouched."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "http" and scope.get("path", "").startswith("/assets/"):
            send = _with_header(send, *IMMUTABLE)
        return await self.app(scope, receive, send)


def _with_header(send, name: bytes, value: bytes):
    async def wrapped(message):
        if message["type"] == "http.response.start" and message.get("status") == 200:
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != name]
            message = {**message, "headers": [*headers, (name, value)]}
        await send(message)

    return wrapped


def page_middleware() -> list[Middleware]:
    """For `launch(app_kwargs={"middleware": ...})`."""
    return [Middleware(AssetCache)]
