"""The conversation format now lives on the ground floor, in `llamo.conversation`."""

# shim (issue 15): remove in the import sweep
from llamo.conversation import (  # noqa: F401
    MOTION_MARKER,
    ROLE_FROM,
    Conversation,
    Turn,
    parse_row,
    read_jsonl,
    to_row,
    write_jsonl,
)
