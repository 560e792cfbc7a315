"""Feed bytes -> a parsed calendar that expands into occurrences over a window.

Parsing happens once per new feed content; expansion is cached per window, so a
planning round over an unchanged feed only filters a short list.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from .descriptions import ParsedDescription, parse_description
from .model import Occurrence, Problem

logger = logging.getLogger(__name__)

UTC = ZoneInfo("UTC")
# An expansion covers at least this much after the requested start, so that the
# controller's 30 s rounds re-expand about once a week, not every round.
EXPANSION_AHEAD = timedelta(days=15)
EXPANSION_PAD = timedelta(days=1)


class CalendarError(Exception):
    """The feed is not an iCalendar we can read."""


def choose_zone(
    source_zone: ZoneInfo | None, feed_zone: str | None, default_zone: ZoneInfo | None
) -> tuple[ZoneInfo, str | None]:
    """The calendar's own zone: source setting, else X-WR-TIMEZONE, else global, else UTC.

    Returns the zone and, if X-WR-TIMEZONE named an unknown zone, a warning text.
    """
    if source_zone is not None:
        return source_zone, None
    if feed_zone:
        try:
            return ZoneInfo(feed_zone.strip()), None
        except (KeyError, ValueError):
            warning = f"X-WR-TIMEZONE {feed_zone!r} is not a known zone; ignored"
            return default_zone or UTC, warning
    return default_zone or UTC, None


class ParsedCalendar:
    """One good copy of a feed: its events, ready to expand."""

    def __init__(self, name: str, ical: icalendar.Calendar, zone: ZoneInfo,
                 pools: Collection[str], warnings: tuple[Problem, ...] = ()) -> None:
        self.name = name
        self.zone = zone
        self.warnings = warnings
        self._ical = ical
        self._pools = tuple(pools)
        self.warnings += _drop_undated(ical, name)
        self._query = recurring_ical_events.CalendarQuery(ical, skip_bad_series=True)
        self._descriptions: dict[str, ParsedDescription] = {}
        self._window: tuple[datetime, datetime] | None = None
        self._cached: list[Occurrence] = []
        self.event_count = sum(1 for _ in ical.walk("VEVENT"))

    def occurrences(self, start: datetime, end: datetime) -> list[Occurrence]:
        """Occurrences overlapping [start, end), sorted by start (aware UTC datetimes)."""
        window = self._window
        if window is None or start < window[0] or end > window[1]:
            window = (start - EXPANSION_PAD, max(end, start + EXPANSION_AHEAD) + EXPANSION_PAD)
            self._cached = self._expand(*window)
            self._window = window
        return [o for o in self._cached if o.start < end and o.end > start]

    def problems(self) -> list[Problem]:
        """Every description problem of every event and override (for `validate`)."""
        found = list(self.warnings)
        for component in self._ical.walk("VEVENT"):
            if _is_cancelled(component):
                continue
            try:
                start = self._instant(component.decoded("DTSTART"))
            except (KeyError, ValueError, TypeError):
                found.append(Problem("calendar-error", "event without a readable DTSTART",
                                     self.name, _summary(component)))
                continue
            parsed = self._describe(component)
            found.extend(_in_context(parsed.problems, self.name, _summary(component), start))
        return found

    def _expand(self, start: datetime, end: datetime) -> list[Occurrence]:
        # Floating and all-day times are compared naively by the library: query in
        # the calendar's zone, then filter exactly on UTC instants.
        local_start = start.astimezone(self.zone).replace(tzinfo=None)
        local_end = end.astimezone(self.zone).replace(tzinfo=None)
        found = []
        try:
            components = self._query.between(local_start, local_end)
        except Exception as error:  # a series the library cannot expand: keep the rest going
            logger.warning("calendar=%s cannot expand events: %s", self.name, _short(error))
            self.warnings += (Problem("calendar-error", f"cannot expand events: {_short(error)}",
                                      self.name),)
            return []
        for component in components:
            occurrence = self._occurrence(component)
            if occurrence is not None and occurrence.start < end and occurrence.end > start:
                found.append(occurrence)
        found.sort(key=lambda o: (o.start, o.end, o.summary))
        return found

    def _occurrence(self, component: icalendar.cal.Component) -> Occurrence | None:
        if _is_cancelled(component):
            return None
        try:
            start = self._instant(component.decoded("DTSTART"))
            end = self._end(component, start)
        except (KeyError, ValueError, TypeError, OverflowError) as error:
            logger.debug("calendar=%s skipped an occurrence: %s", self.name, error)
            return None
        parsed = self._describe(component)
        summary = _summary(component)
        return Occurrence(
            calendar=self.name,
            uid=str(component.get("UID", "")),
            summary=summary,
            start=start,
            end=end,
            requests=parsed.requests,
            lead=parsed.lead,
            problems=_in_context(parsed.problems, self.name, summary, start),
        )

    def _end(self, component: icalendar.cal.Component, start: datetime) -> datetime:
        if "DTEND" in component:
            end = self._instant(component.decoded("DTEND"))
        elif "DURATION" in component:
            end = start + component.decoded("DURATION")
        elif not isinstance(component.decoded("DTSTART"), datetime):
            end = start + timedelta(days=1)  # an all-day event without DTEND: one day
        else:
            end = start
        return max(end, start)

    def _instant(self, value: date | datetime) -> datetime:
        if not isinstance(value, datetime):
            value = datetime.combine(value, time(0), tzinfo=self.zone)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        return value.astimezone(UTC)

    def _describe(self, component: icalendar.cal.Component) -> ParsedDescription:
        text = _description_text(component)
        parsed = self._descriptions.get(text)
        if parsed is None:
            parsed = parse_description(text, self._pools)
            self._descriptions[text] = parsed
        return parsed


def parse_calendar(
    data: bytes,
    *,
    name: str,
    pools: Collection[str],
    source_zone: ZoneInfo | None = None,
    default_zone: ZoneInfo | None = None,
) -> ParsedCalendar:
    """Parse feed bytes; raise CalendarError with a readable reason."""
    try:
        ical = icalendar.Calendar.from_ical(data)
    except Exception as error:  # the library raises many kinds on bad input
        raise CalendarError(f"not a readable iCalendar feed: {_short(error)}") from None
    if not isinstance(ical, icalendar.Calendar) or ical.name != "VCALENDAR":
        raise CalendarError("not an iCalendar feed (no VCALENDAR)")
    feed_zone = ical.get("X-WR-TIMEZONE")
    zone, warning = choose_zone(source_zone, str(feed_zone) if feed_zone else None, default_zone)
    warnings = (Problem("calendar-error", warning, name),) if warning else ()
    try:
        if feed_zone is not None and warning is None:
            # Google publishes UTC times beside X-WR-TIMEZONE: read them in that zone
            # so that recurring series keep their local time across DST.
            ical = x_wr_timezone.to_standard(ical, timezone=zone)
        return ParsedCalendar(name, ical, zone, pools, warnings)
    except Exception as error:
        raise CalendarError(f"cannot expand the calendar: {_short(error)}") from None


def _drop_undated(ical: icalendar.Calendar, name: str) -> tuple[Problem, ...]:
    """Remove VEVENTs without DTSTART (they cannot be placed in time); report each."""
    problems = []
    for parent in [ical, *ical.walk()]:
        kept = []
        for component in parent.subcomponents:
            if component.name == "VEVENT" and "DTSTART" not in component:
                problems.append(Problem("calendar-error", "event without DTSTART; ignored",
                                        name, _summary(component)))
            else:
                kept.append(component)
        parent.subcomponents = kept
    return tuple(problems)


def _description_text(component: icalendar.cal.Component) -> str:
    for key in ("DESCRIPTION", "X-ALT-DESC"):
        value = component.get(key)
        text = _as_text(value)
        if text.strip():
            return text
    return ""


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_as_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _summary(component: icalendar.cal.Component) -> str:
    summary = _as_text(component.get("SUMMARY")).strip()
    return summary or "(no title)"


def _is_cancelled(component: icalendar.cal.Component) -> bool:
    return str(component.get("STATUS", "")).strip().upper() == "CANCELLED"


def _in_context(
    problems: tuple[Problem, ...], calendar: str, event: str, start: datetime
) -> tuple[Problem, ...]:
    return tuple(
        Problem(p.kind, p.message, calendar, event, start) for p in problems
    )


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]
