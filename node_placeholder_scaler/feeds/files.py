"""Reading a local file that nobody vouches for (the config file, a feed given as a path).

Regular files only, checked before the file is opened and again on the open descriptor (a
named pipe, a device such as /dev/zero or a directory is refused before anything is read, and
nothing blocks), and never more than ``limit`` bytes read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class NotRegularFile(Exception):
    """A directory, a named pipe, a socket or a device."""


class FileTooLarge(Exception):
    """More than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


def read_regular(path: str | Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Raises NotRegularFile, FileTooLarge, or the OSError of a file that cannot be read.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(path)
    if info.st_size > limit:
        raise FileTooLarge(limit)
    with os.fdopen(os.open(path, OPEN_FLAGS), "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):  # swapped since the stat
            raise NotRegularFile(path)
        body = file.read(limit + 1)
    if len(body) > limit:  # grew since the stat
        raise FileTooLarge(limit)
    return body
