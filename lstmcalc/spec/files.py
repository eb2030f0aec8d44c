"""Reading a spec file's bytes safely: regular files only, never more than ``MAX_SPEC_BYTES``.

Every reader (YAML specs, and the readers of other formats) goes through ``read_limited`` so that
a device (``/dev/zero``), a FIFO, a directory, a broken link or a huge file ends at once with a
diagnostic (S026, S027) instead of a hang, a traceback or the memory filling up.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO, Optional

from ..diagnostics import Problem
from .source import Location

# 10 MiB: a spec of 50,000 layers written as mappings is about 3 MB. Checked before reading.
MAX_SPEC_BYTES = 10 * 1024 * 1024

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _unreadable(path: str, message: str, hint: str) -> Problem:
    return Problem("S026", message, hint, Location(path, None, None))


def _too_large(path: str, size: Optional[int], limit: int) -> Problem:
    amount = f"is {size:,} bytes" if size is not None else f"holds more than {limit:,} bytes"
    return Problem("S027", f"{path} {amount}; lstmcalc reads specs of at most {limit:,} bytes "
                               f"({limit / (1024 * 1024):g} MiB).",
                       "Split the model, or check that this is the spec you meant.", Location(path, None, None))


def read_limited(path: str, limit: int = MAX_SPEC_BYTES) -> bytes:
    """The bytes of the regular file at ``path``. Raises FileNotFoundError when nothing is there,
    Problem S026 when it cannot be read (permission, broken link, device, FIFO, directory,
    I/O error) and S027 when it is larger than ``limit``."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked on the
        # descriptor itself, so a file swapped after a stat cannot slip through.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                             | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise _unreadable(path, f"{path} is a broken symbolic link (to {os.readlink(path)}).",
                              "Remove the link, or point it at an existing spec.") from None
        raise
    except IsADirectoryError:
        raise _unreadable(path, f"{path} is a directory, not a spec file.",
                          "`lstmcalc check` takes directories; the other commands one spec file.") from None
    except OSError as error:
        raise _unreadable(path, f"Cannot open {path}: {error.strerror or error}.",
                          "Check the file's permissions (lstmcalc needs to read it).") from None
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise _unreadable(path, f"{path} is {_kind(mode)}, not a spec file; lstmcalc reads regular files only.",
                              "Give the path of a YAML spec (or `-` to read one from standard input).")
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise _too_large(path, size, limit)
        return _read_at_most(handle, path, limit)


def read_stream_limited(stream: BinaryIO, name: str = "<stdin>", limit: int = MAX_SPEC_BYTES) -> bytes:
    """At most ``limit`` bytes from a stream such as standard input; S027 when it holds more."""
    return _read_at_most(stream, name, limit)


def _read_at_most(handle: BinaryIO, name: str, limit: int) -> bytes:
    try:
        data = handle.read(limit + 1)  # a file may grow after its size was checked
    except OSError as error:
        raise _unreadable(name, f"Cannot read {name}: {error.strerror or error}.",
                          "Check the file (and the disk or share it lives on).") from None
    if data is None:  # a non-blocking stream with nothing to read yet
        data = b""
    if len(data) > limit:
        raise _too_large(name, None, limit)
    return data


# The first bytes of NumPy's files: .npy, and .npz (a zip archive, possibly empty).
_ARRAY_MAGIC = (b"\x93NUMPY", b"PK\x03\x04", b"PK\x05\x06")


def array_file_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be a .npy or .npz file (not a regular file, unreadable, other content),
    or None. Checked before NumPy opens it, so that a FIFO never blocks and a text file is not
    called "pickled data"."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as error:
        return f"{error.strerror or error}."
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            return f"it is {_kind(mode)}, not a file of arrays."
        start = handle.read(6)
    if not start.startswith(_ARRAY_MAGIC):
        shown = start.decode("ascii", "backslashreplace") if start else "nothing"
        return (f"it is neither a .npy file (which starts with \\x93NUMPY) nor a .npz archive (PK); it "
                f"starts with {shown!r}.")
    return None


def decode_spec(data: bytes, name: Optional[str]) -> str:
    """UTF-8 text (a byte-order mark is dropped); S001 when the bytes are not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Problem("S001", f"The file is not UTF-8 text ({error.reason} at byte {error.start}).",
                          "Save the spec as UTF-8 YAML.", Location(name, None, None)) from None
