"""Outlook's Windows time-zone display names -> IANA zones, derived from maintained data.

Outlook on the web writes the zone's display name as the TZID, with no VTIMEZONE:
``(UTC-05:00) Eastern Time (US & Canada)``, older Exchange ``(GMT+10:00) Canberra, Melbourne,
Sydney`` or ``Kuala Lumpur, Singapore``. No table of display names is kept here. The rule
reads them with two maintained sources: the Windows zone IDs of CLDR's windowsZones data
that icalendar ships (``WINDOWS_TO_OLSON``) and the IANA database (``zoneinfo``):

1. ``(UTC±hh:mm)`` / ``(GMT±hh:mm)`` / ``(UTC)`` in front gives the standard offset;
2. the rest, without parentheses, ``X Time`` or ``X`` names the Windows zone ``X Standard
   Time`` (``Eastern Time`` -> ``Eastern Standard Time`` -> America/New_York; ``Haiti``),
   ``Coordinated Universal Time+12`` the Windows zone ``UTC+12``;
3. otherwise each comma-separated place is looked up as the city of a zone, first among
   the zones Windows IDs map to, then among all IANA zones (``Sydney`` -> Australia/Sydney),
   then each run of its words (``City of Buenos Aires``, ``Lord Howe Island``);
4. a candidate counts only if its standard offset (in OFFSET_YEAR) equals the offset in front;
   without an offset in front, only a list of places is read (rule 3), and only against
   the zones Windows IDs map to.

A name that fits none of these is not mapped (the caller reports it as an unknown zone).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

_PREFIX = re.compile(r"\(\s*(?:UTC|GMT)\s*(?:([+-])([0-9]{1,2}):?([0-9]{2}))?\s*\)\s*(.*)")
_PARENTHESES = re.compile(r"\([^)]*\)")
_UNIVERSAL = "Coordinated Universal Time"
OFFSET_YEAR = 2025  # display names show recent offsets; a fixed year keeps this pure (no clock)


def zone_for_display_name(name: str) -> str | None:
    """The IANA key for a Windows display name, or None when the rule finds none."""
    return _lookup(name.strip()[:200])


@cache
def _lookup(name: str) -> str | None:
    offset, text = _split(name)
    if not text:
        return None
    if text == _UNIVERSAL and offset in (None, timedelta(0)):
        return "UTC"
    if offset is None and "," not in text:
        return None  # one bare word ("Eastern") is too little to go on
    for key in _candidates(text, everywhere=offset is not None):
        if offset is None or _standard_offset(key) == offset:
            return key
    return None


def _split(name: str) -> tuple[timedelta | None, str]:
    match = _PREFIX.fullmatch(name)
    if match is None:
        return None, name
    sign, hours, minutes, text = match.groups()
    if sign is None:
        return timedelta(0), text.strip()
    size = timedelta(hours=int(hours), minutes=int(minutes))
    return (size if sign == "+" else -size), text.strip()


def _candidates(text: str, *, everywhere: bool) -> list[str]:
    plain = _PARENTHESES.sub("", text).strip()
    ids = [f"{plain[:-5]} Standard Time"] if plain.endswith(" Time") else []
    ids += [f"{plain} Standard Time", plain.replace(_UNIVERSAL, "UTC")]
    found = [WINDOWS_TO_OLSON[i] for i in ids if i in WINDOWS_TO_OLSON] if everywhere else []
    places = [p.strip().replace(" ", "_").lower() for p in plain.split(",") if p.strip()]
    for cities in (_windows_cities(), _all_cities()) if everywhere else (_windows_cities(),):
        found.extend(cities[p] for p in places if p in cities)
    if everywhere:  # a city named inside a place: "City of Buenos Aires", "Lord Howe Island"
        found.extend(_all_cities()[run] for p in places for run in _runs(p) if run in _all_cities())
    return found


def _runs(place: str) -> list[str]:
    """The runs of words of a place, longest first ("lord_howe_island" -> "lord_howe", ...)."""
    words = place.split("_")
    return [
        "_".join(words[a : a + n])
        for n in range(len(words) - 1, 0, -1)
        for a in range(len(words) - n + 1)
    ]


@cache
def _windows_cities() -> dict[str, str]:
    return _by_city(sorted(set(WINDOWS_TO_OLSON.values())))


@cache
def _all_cities() -> dict[str, str]:
    return _by_city(sorted(available_timezones()))


def _by_city(keys: list[str]) -> dict[str, str]:
    cities: dict[str, str] = {}
    for key in keys:
        cities.setdefault(key.rsplit("/", 1)[-1].lower(), key)
    return cities


def _standard_offset(key: str) -> timedelta | None:
    """The zone's offset in the half of OFFSET_YEAR without daylight saving time."""
    try:
        zone = ZoneInfo(key)
    except (KeyError, ValueError, OSError):
        return None
    for month in (1, 7):
        moment = datetime(OFFSET_YEAR, month, 15, 12, tzinfo=zone)
        if not moment.dst():
            return moment.utcoffset()
    return None
