"""Feed bytes -> its calendar properties and top-level components, as text blocks.

One linear pass over the unfolded lines, before any iCalendar parsing, so that each
component can be parsed (and fail) on its own: one broken event or time zone costs only
itself. A component that is not closed ends at the next top-level BEGIN and is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_NEWLINE = re.compile(r"\r\n|\n|\r")
MAX_LINE = 200_000  # characters of one unfolded content line (the rest is cut, reported)
TOP_LEVEL = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "VAVAILABILITY"})


class Block:
    """One top-level component (BEGIN to END) as its unfolded lines in one string.

    One string per component, not a list of lines: a 5.8 MB feed of 35,000 events takes
    a few MB here. Fields are read from the text when asked (raw values, unescaped not).
    """

    __slots__ = ("_lines", "closed", "name", "raw", "uid")

    def __init__(self, name: str, first: str) -> None:
        self.name, self.raw, self.uid, self.closed = name, "", "", False
        self._lines: list[str] | None = [first]

    def append(self, line: str, top: bool) -> None:
        if self._lines is not None:
            self._lines.append(line)
            if top and not self.uid and line[:4].upper() == "UID:":
                self.uid = line[4:].strip()[:500]

    def finish(self, closed: bool) -> None:
        """The component is complete: keep its text as one string."""
        if self._lines is not None:
            self.closed = closed
            self.raw = "\r\n".join(self._lines)
            self._lines = None

    @property
    def lines(self) -> list[str]:
        return self.raw.split("\r\n") if self._lines is None else self._lines

    def text(self, lines: list[str] | None = None) -> str:
        """The component's text (or ``lines`` of it, mended), closed."""
        raw = self.raw if lines is None else "\r\n".join(lines)
        end = "" if self.closed else f"\r\nEND:{self.name}"
        return f"{raw}{end}\r\n"

    @property
    def fields(self) -> dict[str, str]:
        """The raw values of UID, SUMMARY, DTSTART, ... of the component itself."""
        found: dict[str, str] = {}
        for line in self.lines[1:]:
            if line[:6].upper() == "BEGIN:":
                break  # a subcomponent (VALARM): its properties are not the event's
            for name in _FIELDS:
                if (
                    name not in found
                    and line[: len(name)].upper() == name
                    and (line[len(name) : len(name) + 1] in (":", ";"))
                ):
                    found[name] = line[value_start(line) :].strip()[:200]
        return found

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


_FIELDS = (
    "UID",
    "SUMMARY",
    "DTSTART",
    "DTEND",
    "DURATION",
    "RRULE",
    "RDATE",
    "RECURRENCE-ID",
    "STATUS",
)


def value_start(line: str) -> int:
    """After the first ':' outside quotes (``DTSTART;TZID="(UTC-05:00) ...":...``)."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return index + 1
    return len(line)


def _physical(text: str) -> Iterator[str]:
    """The text's lines, one at a time (no list of them all: memory stays one copy)."""
    at = 0
    for match in _NEWLINE.finditer(text):
        yield text[at : match.start()]
        at = match.end()
    yield text[at:]
    yield ""


def unfold(text: str, cut: list[int]) -> Iterator[str]:
    """Content lines with folds (a line break then a space or tab) joined, empty ones
    dropped, each cut at MAX_LINE characters (counted in ``cut[0]``)."""
    parts: list[str] = []
    for raw in _physical(text):
        if raw[:1] in (" ", "\t") and parts:
            parts.append(raw[1:])
            continue
        if parts:
            line = "".join(parts)
            if len(line) > MAX_LINE:
                cut[0] += 1
                line = line[:MAX_LINE]
            yield line
        parts = [raw] if raw else []


def split_feed(data: bytes, max_events: int) -> SplitFeed:
    """Split feed bytes into blocks; keep at most ``max_events`` VEVENTs."""
    text = data.decode("utf-8-sig", "replace")
    feed = SplitFeed()
    current: Block | None = None
    stack: list[str] = []
    cut = [0]
    for line in unfold(text, cut):
        head = line[:6].upper()
        if head == "BEGIN:":
            current, stack = _begin(
                feed, current, stack, line, name=line[6:].strip().upper(), max_events=max_events
            )
        elif head[:4] == "END:":
            current, stack = _end(feed, current, stack, line, line[4:].strip().upper())
        elif current is not None:
            current.append(line, top=len(stack) == 1)
        elif feed.calendars:
            feed.properties.append(line)
    if current is not None:
        _unclosed(feed, current)
    feed.cut_lines = cut[0]
    return feed


def _unclosed(feed: SplitFeed, block: Block) -> None:
    block.finish(closed=False)
    feed.unclosed.append(block)


def _begin(
    feed: SplitFeed,
    current: Block | None,
    stack: list[str],
    line: str,
    *,
    name: str,
    max_events: int,
) -> tuple[Block | None, list[str]]:
    if name == "VCALENDAR":
        if current is not None:
            _unclosed(feed, current)
        feed.calendars += 1
        return None, []
    if not feed.calendars:
        return current, stack  # text before any VCALENDAR: not ours to read
    if current is not None and name not in TOP_LEVEL:
        current.append(line, top=False)
        return current, [*stack, name]
    if current is not None:
        _unclosed(feed, current)
    block = Block(name, line)
    if name == "VEVENT":
        if len(feed.events) >= max_events:
            feed.skipped_events += 1
            block = Block(name, line)  # read to its END, then dropped
        else:
            feed.events.append(block)
    elif name == "VTIMEZONE":
        feed.zones.append(block)
    return block, [name]


def _end(
    feed: SplitFeed, current: Block | None, stack: list[str], line: str, name: str
) -> tuple[Block | None, list[str]]:
    if name == "VCALENDAR":
        if current is not None:
            _unclosed(feed, current)
        feed.ended = True
        return None, []
    if current is None:
        return None, []
    current.append(line, top=False)
    if name not in stack:
        return current, stack  # a stray END inside a component: the parser reports it
    while stack and stack.pop() != name:
        pass
    if not stack:
        current.finish(closed=True)
        return None, []
    return current, stack
