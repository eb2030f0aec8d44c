"""Reading files with a size limit, so that a huge or endless file (a device, a pipe) is refused
instead of filling memory."""

from __future__ import annotations

import os

# Far above any model description; a larger file is refused before it is read.
DEFAULT_LIMIT = 64 * 1024 * 1024


class FileTooLarge(OSError):
    """The file holds more than the limit allows."""


def read_limited(path: "str | os.PathLike[str]", limit: int = DEFAULT_LIMIT) -> bytes:
    """The file's bytes; raises FileTooLarge past ``limit`` bytes (and OSError as open does)."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"{os.fspath(path)} is larger than {limit:,} bytes")
    return data
