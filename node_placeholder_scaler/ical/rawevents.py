"""Events far from the window, read without the iCalendar parser.

Parsing is most of the cost of a feed, and most events of a long-lived feed are far from
the planning window. A single event (one VEVENT for its UID, no RRULE, RDATE or
RECURRENCE-ID) that starts after the window, or ends two days before it, cannot be active
in it: it is not parsed. Its description is still read from its raw text, so that
``problems()`` (``validate``) names every event's description problems.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .icsplit import value_start

MARGIN = timedelta(days=2)  # more than any UTC offset, so a local date is safely outside
_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})(?:T([0-9]{2})([0-9]{2})([0-9]{2})(Z?))?")
_ESCAPE = re.compile(r"\\(.)")
_RECURRING = ("RRULE", "RDATE", "RECURRENCE-ID")
_DURATION = re.compile(
    r"\+?P(?:([0-9]{1,6})W)?(?:([0-9]{1,6})D)?"
    r"(?:T(?:([0-9]{1,6})H)?(?:([0-9]{1,6})M)?(?:([0-9]{1,6})S)?)?"
)


def far_from(fields: dict[str, str], window: tuple[datetime, datetime]) -> bool:
    """Whether this lone event (its raw ``Block.fields``) certainly misses the window."""
    if any(name in fields for name in _RECURRING):
        return False
    start = _day(fields.get("DTSTART", ""))
    if start is None:
        return False
    if start > (window[1] + MARGIN).date():
        return True
    end = (
        _day(fields.get("DTEND", ""))
        if "DURATION" not in fields
        else _plus(start, fields["DURATION"])
    )
    # an end before the start is a problem of the event: parse it so that it is reported
    return end is not None and start <= end < (window[0] - MARGIN).date()


def _plus(start: date, text: str) -> date | None:
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    weeks, days, hours, minutes, seconds = (int(match[i] or 0) for i in range(1, 6))
    length = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    try:
        return start + length + timedelta(days=1)  # the time of day is not read: a day more
    except OverflowError:
        return None


def _day(text: str) -> date | None:
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def start_of(raw: str, zone: ZoneInfo) -> datetime | None:
    """A raw DTSTART as a UTC instant (floating and TZID times read in ``zone``)."""
    match = _DATE.fullmatch(raw)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(match[i] or 0) for i in range(1, 7))
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC if match[7] else zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def text_of(lines: list[str], name: str) -> str:
    """The unescaped TEXT value of a component's first ``name`` property ("" if none)."""
    for line in lines[1:]:
        if line[: len(name)].upper() == name and line[len(name) : len(name) + 1] in (":", ";"):
            return _ESCAPE.sub(_unescape, line[value_start(line) :])
        if line[:6].upper() == "BEGIN:":
            break  # a subcomponent (VALARM) follows: its DESCRIPTION is not the event's
    return ""


def _unescape(match: re.Match[str]) -> str:
    char = match[1]
    return "\n" if char in "nN" else char
