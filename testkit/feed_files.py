"""Feed files for the hostile cases: big ordinary calendars, paths that must not block."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def ordinary_calendar(events: int) -> bytes:
    """``events`` ordinary 50-minute events three hours apart from 2026-01-01 (about 230 bytes
    each: 35,000 events are about 8 MB), each with ``user: 1``."""
    return b"".join(_ordinary(events))


def write_ordinary_calendar(path: Path, events: int) -> Path:
    """The same calendar written piece by piece (the writer never holds it whole)."""
    with path.open("wb") as file:
        for piece in _ordinary(events):
            file.write(piece)
    return path


def _ordinary(events: int) -> Iterator[bytes]:
    yield b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\n"
    for index in range(events):
        day, hour = divmod(3 * index, 24)
        stamp = f"2026{1 + day // 28 % 12:02d}{1 + day % 28:02d}T{hour:02d}"
        yield "\r\n".join(
            [
                "BEGIN:VEVENT",
                f"UID:ordinary-{index}@hostile",
                "DTSTAMP:20260101T000000Z",
                f"DTSTART:{stamp}0000Z",
                f"DTEND:{stamp}5000Z",
                f"SUMMARY:Lecture {index} of course {index % 97}",
                "LOCATION:Room HG F 1",
                "DESCRIPTION:user: 1\\nBring your laptop",
                "END:VEVENT",
                "",
            ]
        ).encode()
    yield b"END:VCALENDAR\r\n"


def special_files(folder: Path) -> dict[str, str]:
    """Paths a feed must not block on: a named pipe, /dev/zero, a directory."""
    fifo = folder / "feed.fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    return {"fifo": str(fifo), "dev-zero": "/dev/zero", "directory": str(folder)}
