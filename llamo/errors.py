"""One exception type for bad input: its message is one clear sentence for the user."""


class LlamoError(Exception):
    """A problem with the user's input or setup, reported without a traceback."""


def clock(seconds: float) -> str:
    """0:06, 1:02:03: times as the sentences of errors and warnings give them."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
