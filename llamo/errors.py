"""One exception type for bad input: its message is one clear sentence for the user."""


class LlamoError(Exception):
    """A problem with the user's input or setup, reported without a traceback."""
