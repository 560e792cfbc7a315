"""Recurrence rules checked against the RFC 5545 value space before anything expands them.

A rule that is not in that space (``COUNT=abc``, ``INTERVAL=0`` or ``-1``, ``BYDAY=MO, TU``),
or that would make a course calendar expand without bound (secondly or minutely recurrence,
or a rule that needs too many steps from its DTSTART to reach the window) is refused with a
readable reason; its series then keeps only its DTSTART occurrence.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_UNIT = {
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(days=7),
    "MONTHLY": timedelta(days=28),
    "YEARLY": timedelta(days=365),
}
_SUB_HOURLY = frozenset({"SECONDLY", "MINUTELY"})
_RANGES = {
    "BYSECOND": (0, 60, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}
_DAY = "(?:SU|MO|TU|WE|TH|FR|SA)"
_BYDAY = re.compile(rf"([+-]?[0-9]{{1,2}})?{_DAY}")
_SIGNED = re.compile(r"[+-]?[0-9]{1,3}")
_POSITIVE = re.compile(r"[0-9]{1,9}")
_UNTIL = re.compile(r"[0-9]{8}(?:T[0-9]{6}Z?)?")
MAX_TEXT = 500


class RuleError(ValueError):
    """A recurrence rule refused, with the reason."""


def check_rule(text: str) -> dict[str, str]:
    """The parts of a valid rule (upper-case keys); raise RuleError otherwise."""
    if len(text) > MAX_TEXT:
        raise RuleError(f"the rule is longer than {MAX_TEXT} characters")
    parts: dict[str, str] = {}
    for part in text.strip().split(";"):
        key, equals, value = part.partition("=")
        key = key.upper()
        if not equals or key in parts:
            raise RuleError(f"{part[:40]!r} is not a NAME=VALUE part (or is repeated)")
        parts[key] = value.upper()
        _check_part(key, parts[key])
    freq = parts.get("FREQ")
    if freq is None:
        raise RuleError("FREQ is missing")
    if freq in _SUB_HOURLY:
        raise RuleError(f"FREQ={freq}: a course calendar has no sub-hourly recurrence")
    for key in ("BYSECOND", "BYMINUTE"):
        if len(parts.get(key, "").split(",")) > 1:
            raise RuleError(f"{key} with several values is sub-hourly recurrence")
    _check_possible(parts)
    return parts


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _check_possible(parts: dict[str, str]) -> None:
    """Refuse the rules that can never match (dateutil would walk to the year 9999)."""
    if "BYMONTHDAY" in parts:
        months = [int(m) for m in parts.get("BYMONTH", "1,2,3,4,5,6,7,8,9,10,11,12").split(",")]
        days = [abs(int(d)) for d in parts["BYMONTHDAY"].split(",")]
        if not any(d <= _DAYS_IN_MONTH[m - 1] for m in months for d in days):
            raise RuleError("BYMONTHDAY never falls in BYMONTH: the rule never matches")
    most = {"MONTHLY": 5, "YEARLY": 53}.get(parts["FREQ"], 0)
    for item in parts.get("BYDAY", "").split(","):
        ordinal = item[:-2]
        if ordinal and abs(int(ordinal)) > most:
            raise RuleError(f"BYDAY={item} never matches with FREQ={parts['FREQ']}")


def _check_part(key: str, value: str) -> None:
    if key == "FREQ":
        if value not in _UNIT and value not in _SUB_HOURLY:
            raise RuleError(f"FREQ={value[:20]!r} is not a frequency")
    elif key in ("INTERVAL", "COUNT"):
        if not _POSITIVE.fullmatch(value) or int(value) < 1:
            raise RuleError(f"{key}={value[:20]!r} is not a whole number >= 1")
    elif key == "UNTIL":
        if not _UNTIL.fullmatch(value):
            raise RuleError(f"UNTIL={value[:30]!r} is not a date or date-time")
    elif key == "WKST":
        if not re.fullmatch(_DAY, value):
            raise RuleError(f"WKST={value[:20]!r} is not a weekday")
    elif key == "BYDAY":
        _check_list(key, value, _check_day)
    elif key in _RANGES:
        _check_list(key, value, lambda item: _check_number(key, item))
    else:
        raise RuleError(f"{key[:20]!r} is not a recurrence rule part")


def _check_list(key: str, value: str, check: object) -> None:
    items = value.split(",")
    if len(items) > 400:
        raise RuleError(f"{key} has more than 400 values")
    for item in items:
        check(item)  # type: ignore[operator]


def _check_day(item: str) -> None:
    match = _BYDAY.fullmatch(item)
    if match is None or (match.group(1) and not 1 <= abs(int(match.group(1))) <= 53):
        raise RuleError(f"BYDAY value {item[:20]!r} is not a weekday like MO, 1MO or -1FR")


def _check_number(key: str, item: str) -> None:
    low, high, signed = _RANGES[key]
    if not _SIGNED.fullmatch(item) or (not signed and item[0] in "+-"):
        raise RuleError(f"{key} value {item[:20]!r} is not a number")
    if not low <= abs(int(item)) <= high:
        raise RuleError(f"{key} value {item} is outside {low}..{high}")


def steps_to(parts: dict[str, str], start: datetime, stop: datetime) -> int:
    """How many FREQ periods the expansion walks from DTSTART to ``stop``."""
    if stop <= start:
        return 0
    period = _UNIT[parts["FREQ"]] * int(parts.get("INTERVAL", "1"))
    return int((stop - start) / period)


def until_of(parts: dict[str, str], zone: ZoneInfo) -> datetime | None:
    """UNTIL as an aware instant (a date or floating time read in ``zone``), or None."""
    text = parts.get("UNTIL")
    if text is None:
        return None
    timed = "T" in text
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:8])
    hour, minute, second = (int(text[a : a + 2]) if timed else 0 for a in (9, 11, 13))
    try:
        return datetime(
            year, month, day, hour, minute, second, tzinfo=UTC if text.endswith("Z") else zone
        )
    except ValueError:
        raise RuleError(f"UNTIL={text} is not a date or date-time") from None


def screen_zone_rule(text: str) -> str | None:
    """Why a VTIMEZONE's RRULE is refused (only yearly or monthly rules), or None."""
    try:
        parts = check_rule(text)
    except RuleError as error:
        return str(error)
    if parts["FREQ"] not in ("YEARLY", "MONTHLY"):
        return f"a zone rule recurs yearly, not FREQ={parts['FREQ']}"
    return None
