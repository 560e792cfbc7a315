"""Durations as operators write them: "90s", "15m", "1h30m", "2d" or integer seconds.

Only ASCII digits are numbers ("²" or "٣" are not), a text is at most MAX_TEXT characters
and a duration at most MAX_DURATION: anything else is a DurationError, never another exception.
"""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_NUMBER = "([0-9]{1,12})"  # [0-9], not \d: \d also matches "²" and "٣"
_DURATION = re.compile(rf"(?:{_NUMBER}d)?(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?")
_SECONDS = re.compile(_NUMBER)
MAX_TEXT = 64
MAX_DURATION = timedelta(days=3650)


class DurationError(ValueError):
    """A text that is not a duration."""


def _expected(value: object) -> DurationError:
    shown = repr(value) if len(repr(value)) <= MAX_TEXT else repr(value)[:MAX_TEXT] + "…"
    return DurationError(f"expected a duration such as 90s, 15m or 1h30m, got {shown}")


def parse_duration(value: object) -> timedelta:
    """Parse a non-negative duration; raise DurationError with a readable reason."""
    if isinstance(value, bool):
        raise _expected(value)
    if isinstance(value, int):
        if value < 0:
            raise DurationError(f"a duration cannot be negative, got {value}")
        return _bounded(value)
    if not isinstance(value, str):
        raise _expected(value)
    text = value.strip().lower().replace(" ", "")
    if not text or len(text) > MAX_TEXT:
        raise _expected(value)
    if _SECONDS.fullmatch(text):
        return _bounded(int(text))
    match = _DURATION.fullmatch(text)
    if match is None:
        raise _expected(value)
    seconds = sum(
        int(number) * _UNITS[unit]
        for number, unit in zip(match.groups(), "dhms", strict=True)
        if number is not None
    )
    return _bounded(seconds)


def _bounded(seconds: int) -> timedelta:
    if seconds > MAX_DURATION.total_seconds():
        raise DurationError(f"a duration is at most {format_duration(MAX_DURATION)}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Format a duration the way parse_duration reads it (e.g. 1h30m)."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
