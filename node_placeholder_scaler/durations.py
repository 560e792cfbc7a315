"""Durations as operators write them: "90s", "15m", "1h30m", "2d" or integer seconds."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


class DurationError(ValueError):
    """A text that is not a duration."""


def parse_duration(value: object) -> timedelta:
    """Parse a non-negative duration; raise DurationError with a readable reason."""
    if isinstance(value, bool):
        raise DurationError(f"expected a duration such as 90s, 15m or 1h30m, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise DurationError(f"a duration cannot be negative, got {value}")
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise DurationError(f"expected a duration such as 90s, 15m or 1h30m, got {value!r}")
    text = value.strip().lower().replace(" ", "")
    if text.isdigit():
        return timedelta(seconds=int(text))
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise DurationError(f"expected a duration such as 90s, 15m or 1h30m, got {value!r}")
    seconds = sum(
        int(number) * _UNITS[unit]
        for number, unit in zip(match.groups(), "dhms", strict=True)
        if number is not None
    )
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
