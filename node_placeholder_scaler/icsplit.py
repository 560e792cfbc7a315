"""Feed bytes -> its calendar properties and top-level components, as text blocks.

One linear pass over the unfolded lines, before any iCalendar parsing, so that each
component can be parsed (and fail) on its own: one broken event or time zone costs only
itself. A component that is not closed ends at the next top-level BEGIN and is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NEWLINE = re.compile(r"\r\n|\n|\r")
MAX_LINE = 200_000  # characters of one unfolded content line (the rest is cut, reported)
TOP_LEVEL = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE",
                       "VAVAILABILITY"})


@dataclass
class Block:
    """The unfolded content lines of one top-level component (BEGIN to END)."""

    name: str
    lines: list[str]
    closed: bool = False
    fields: dict[str, str] = field(default_factory=dict)  # UID, SUMMARY, DTSTART (raw)

    def text(self) -> str:
        end = [] if self.closed else [f"END:{self.name}"]
        return "\r\n".join([*self.lines, *end]) + "\r\n"

    def field(self, name: str) -> str:
        return self.fields.get(name, "")


@dataclass
class SplitFeed:
    """What a feed holds, before parsing: calendar properties and component blocks."""

    calendars: int = 0
    ended: bool = False  # an END:VCALENDAR was seen (a cut download has none)
    properties: list[str] = field(default_factory=list)
    zones: list[Block] = field(default_factory=list)
    events: list[Block] = field(default_factory=list)
    unclosed: list[Block] = field(default_factory=list)
    skipped_events: int = 0  # VEVENTs over the cap, not kept
    cut_lines: int = 0  # content lines longer than MAX_LINE, cut


_FIELDS = ("UID", "SUMMARY", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE",
           "RECURRENCE-ID", "STATUS")


def unfold(text: str) -> tuple[list[str], int]:
    """Content lines with folds (a line break then a space or tab) joined, empty ones
    dropped, each cut at MAX_LINE characters; and how many were cut."""
    lines: list[str] = []
    parts: list[str] = []
    cut = 0
    for raw in [*_NEWLINE.split(text), ""]:
        if raw[:1] in (" ", "\t") and parts:
            parts.append(raw[1:])
            continue
        if parts:
            line = "".join(parts)
            cut += len(line) > MAX_LINE
            lines.append(line[:MAX_LINE])
        parts = [raw] if raw else []
    return lines, cut


def split_feed(data: bytes, max_events: int) -> SplitFeed:
    """Split feed bytes into blocks; keep at most ``max_events`` VEVENTs."""
    text = data.decode("utf-8-sig", "replace")
    feed = SplitFeed()
    current: Block | None = None
    stack: list[str] = []
    lines, feed.cut_lines = unfold(text)
    for line in lines:
        head = line[:6].upper()
        if head == "BEGIN:":
            current, stack = _begin(feed, current, stack, line,
                                    name=line[6:].strip().upper(), max_events=max_events)
        elif head[:4] == "END:":
            current, stack = _end(feed, current, stack, line, line[4:].strip().upper())
        elif current is not None:
            current.lines.append(line)
            if len(stack) == 1:
                _note_field(current, line)
        elif feed.calendars:
            feed.properties.append(line)
    if current is not None:
        feed.unclosed.append(current)
    return feed


def _begin(feed: SplitFeed, current: Block | None, stack: list[str], line: str, *,
           name: str, max_events: int) -> tuple[Block | None, list[str]]:
    if name == "VCALENDAR":
        if current is not None:
            feed.unclosed.append(current)
        feed.calendars += 1
        return None, []
    if not feed.calendars:
        return current, stack  # text before any VCALENDAR: not ours to read
    if current is not None and name not in TOP_LEVEL:
        current.lines.append(line)
        return current, [*stack, name]
    if current is not None:
        feed.unclosed.append(current)
    block = Block(name, [line])
    if name == "VEVENT":
        if len(feed.events) >= max_events:
            feed.skipped_events += 1
            block = Block(name, [line])  # read to its END, then dropped
        else:
            feed.events.append(block)
    elif name == "VTIMEZONE":
        feed.zones.append(block)
    return block, [name]


def _end(feed: SplitFeed, current: Block | None, stack: list[str], line: str,
         name: str) -> tuple[Block | None, list[str]]:
    if name == "VCALENDAR":
        if current is not None:
            feed.unclosed.append(current)
        feed.ended = True
        return None, []
    if current is None:
        return None, []
    current.lines.append(line)
    if name not in stack:
        return current, stack  # a stray END inside a component: the parser reports it
    while stack and stack.pop() != name:
        pass
    if not stack:
        current.closed = True
        return None, []
    return current, stack


def _note_field(block: Block, line: str) -> None:
    for name in _FIELDS:
        if name in block.fields or line[:len(name)].upper() != name:
            continue
        rest = line[len(name):]
        if rest[:1] in (":", ";"):
            block.fields[name] = rest.split(":", 1)[-1].strip()[:200]
