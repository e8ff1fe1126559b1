"""One exception type for bad input: its message is one clear sentence for the user."""


class LlamoError(Exception):
    """A problem with the user's input or setup, reported without a traceback."""


def clock(seconds: float) -> str:
    """0:06, 1:02:03: times as the sentences of errors and warnings give them."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


DISK_FULL = "the server's disk is full; nothing was saved."


def disk_full(exc: BaseException | None) -> bool:
    """Whether `exc` (or an exception it was raised from) says the disk or quota is full: an
    OSError with ENOSPC/EDQUOT, or SQLite's "database or disk is full"."""
    import errno

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "database or disk is full" in str(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
