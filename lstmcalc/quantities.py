"""Quantities in words: byte sizes as Keras prints them."""

from __future__ import annotations


def readable_bytes(size: float) -> str:
    """Keras's ``readable_memory_size``: 536.00 KB, 43.75 KB, 0.00 B."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"
