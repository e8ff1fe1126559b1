"""Errors as the user sees them: every handler goes through `friendly`, so bad input shows one
readable sentence (gr.Error) and never a stack trace, and the tab stays usable."""

import functools
import inspect
import logging
import traceback

import gradio as gr

from app.render import esc
from llamo.errors import DISK_FULL, LlamoError, disk_full

log = logging.getLogger("llamo.app")


def sentence(msg: str) -> str:
    """A library message for gr.Error / gr.validate: first word capitalised unless it is a name
    (file.npz, an id), and HTML-escaped: Gradio renders error toasts as HTML (checked: an <img>
    in an error message loads), and messages carry user-chosen file names."""
    first = msg.split(" ", 1)[0]
    msg = msg[:1].upper() + msg[1:] if first.isalpha() and first.islower() else msg
    return esc(msg)


def _shown(fn, exc: Exception) -> Exception:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, LlamoError):
        return gr.Error(sentence(str(exc)), print_exception=False)
    if disk_full(exc):  # e.g. drawing the views into a full temp folder
        log.error("handler %s: the disk is full (%s)", fn.__name__, exc)
        return gr.Error(sentence(DISK_FULL), print_exception=False)
    log.error("handler %s failed:\n%s", fn.__name__, traceback.format_exc())
    return gr.Error(
        f"Something went wrong ({type(exc).__name__}); the app is still usable.", print_exception=False
    )


def friendly(fn):
    """LlamoError -> gr.Error with its sentence; anything else -> logged, short message. Keeps
    fn's name, signature and generator-ness (Gradio streams only generator functions)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - shown to the user as one sentence
                raise _shown(fn, exc) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise _shown(fn, exc) from None

    return wrapper
