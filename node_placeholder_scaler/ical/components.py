"""The per-component seam: each parsed VEVENT is checked before its series expands.

What affects timing and cannot be read is removed from the component and reported (a broken
DTEND, RDATE or EXDATE, a refused RRULE, DTEND before DTSTART, a TZID naming no zone);
an event without a readable DTSTART is dropped and reported. Everything else (alarms, X-
properties) is left alone: it never costs the event.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar.prop import vBroken, vRecur

from ..model import Problem, ProblemKind
from ..urls import printable
from .rules import RuleError, check_rule, steps_to, until_of

UTC = ZoneInfo("UTC")
_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]{1,9}")
_DATE_FORMS = "a date YYYYMMDD or a date-time YYYYMMDDTHHMMSS"
_FORMS = {
    "DTEND": _DATE_FORMS,
    "RDATE": _DATE_FORMS,
    "EXDATE": _DATE_FORMS,
    "DURATION": "a duration such as PT1H30M",
}


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(as_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def summary(component: Any) -> str:
    """The event's title, one line without control characters, at most 200 characters."""
    value = component.get("SUMMARY")
    return summary_text(as_text(value[0] if isinstance(value, list) and value else value))


def summary_text(text: str) -> str:
    return printable(text[:1000], 200) or "(no title)"  # the one rule for untrusted text


def is_cancelled(component: Any) -> bool:
    return as_text(component.get("STATUS")).strip().upper() == "CANCELLED"


def instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value as an aware UTC datetime (dates and floating times in zone)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0), tzinfo=zone)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _values(component: Any, name: str) -> list[Any]:
    value = component.get(name)
    return [] if value is None else value if isinstance(value, list) else [value]


class Cleaner:
    """Checks components of one feed; collects the problems found."""

    def __init__(
        self, name: str, zone: ZoneInfo, window: tuple[datetime, datetime], max_rule_steps: int
    ) -> None:
        self.name, self.zone, self.max_rule_steps = name, zone, max_rule_steps
        self.stop = (window[1] + timedelta(days=1)).astimezone(zone).replace(tzinfo=None)
        self.problems: list[Problem] = []
        self._zones_reported: set[str] = set()

    def report(self, kind: ProblemKind, message: str, component: Any) -> None:
        try:
            start: datetime | None = instant(component.decoded("DTSTART"), self.zone)
        except Exception:  # the problem may be that very DTSTART
            start = None
        self.problems.append(Problem(kind, message, self.name, summary(component), start))

    def clean(self, components: list[Any]) -> list[Any]:
        return [c for c in components if self._clean(c)]

    def _clean(self, component: Any) -> bool:
        start = component.get("DTSTART")
        if (
            start is None
            or isinstance(start, vBroken)
            or not isinstance(getattr(start, "dt", None), date)
        ):
            self.report(
                ProblemKind.BAD_COMPONENT,
                "no readable DTSTART; the event is ignored (write DTSTART as a date or date-time)",
                component,
            )
            return False
        if isinstance(component.get("RECURRENCE-ID"), (vBroken, list)):
            self.report(
                ProblemKind.BAD_COMPONENT,
                "RECURRENCE-ID cannot be read; this moved "
                "occurrence is ignored (write it as the DTSTART it moves)",
                component,
            )
            return False
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            self._check_zone(component, name)
        self._check_end(component)
        for name in ("RDATE", "EXDATE"):
            self._check_dates(component, name)
        self._check_rules(component)
        return True

    def _check_zone(self, component: Any, name: str) -> None:
        prop = component.get(name)
        if prop is None or isinstance(prop, (vBroken, list)):
            return  # an unreadable DTEND is _check_end's to report (the event keeps its start)
        tzid = prop.params.get("TZID")
        value = getattr(prop, "dt", None)
        if (
            tzid
            and isinstance(value, datetime)
            and value.tzinfo is None
            and (tzid not in self._zones_reported)
        ):
            self._zones_reported.add(tzid)
            self.report(
                ProblemKind.UNKNOWN_ZONE,
                (
                    f"TZID {tzid[:100]!r} names no known zone and no readable VTIMEZONE; its times "
                    f"are read in {self.zone.key} (add its VTIMEZONE or use an IANA zone name)"
                ),
                component,
            )

    def _check_end(self, component: Any) -> None:
        for name in ("DTEND", "DURATION"):
            if isinstance(component.get(name), (vBroken, list)):
                component.pop(name)
                self.report(
                    ProblemKind.BAD_TIME,
                    f"{name} cannot be read; the event is read "
                    f"without an end (write {_FORMS[name]})",
                    component,
                )
        start = instant(component.decoded("DTSTART"), self.zone)
        end = instant(component.decoded("DTEND"), self.zone) if "DTEND" in component else None
        if end is not None and end < start:
            component.pop("DTEND")
            self.report(
                ProblemKind.BAD_TIME,
                "DTEND is before DTSTART; the event is read without an end (correct DTEND)",
                component,
            )
        elif end == start and not isinstance(component.decoded("DTSTART"), datetime):
            component.pop("DTEND")
            self.report(
                ProblemKind.BAD_TIME,
                "an all-day event whose DTEND is its DTSTART; "
                "read as one day (set DTEND to the next day)",
                component,
            )
        duration = component.get("DURATION")
        if duration is not None and not (
            isinstance(duration.dt, timedelta) and duration.dt >= timedelta(0)
        ):
            component.pop("DURATION")
            self.report(
                ProblemKind.BAD_TIME,
                "DURATION is negative or not a duration; the "
                "event is read without an end (write a duration such as PT1H30M)",
                component,
            )

    def _check_dates(self, component: Any, name: str) -> None:
        values = _values(component, name)
        good = [v for v in values if not isinstance(v, vBroken)]
        if len(good) == len(values):
            return
        component.pop(name)
        for value in good:
            component.add(name, value, encode=False)
        for value in values:
            if isinstance(value, vBroken):
                self.report(
                    ProblemKind.BAD_RULE,
                    f"{name} {str(value)[:60]!r} cannot be read; "
                    f"it is ignored (write {_FORMS[name]})",
                    component,
                )

    def _check_rules(self, component: Any) -> None:
        rules = _values(component, "RRULE")
        if not rules:
            return
        readable = []
        for rule in rules:
            text = str(rule) if isinstance(rule, vBroken) else rule.to_ical().decode()
            if not text.strip():
                continue  # an empty RRULE (Outlook holiday exports): no recurrence
            try:
                readable.append(self._read_rule(text, component))
            except RuleError as error:
                kind = ProblemKind.OVER_LIMIT if "steps" in str(error) else ProblemKind.BAD_RULE
                self.report(
                    kind,
                    f"RRULE {text[:80]!r} is refused: {error}; only the first "
                    "occurrence counts (correct the rule)",
                    component,
                )
                component.pop("RRULE")
                return
        component.pop("RRULE")
        for rule in readable:
            component.add("RRULE", rule, encode=False)

    def _read_rule(self, text: str, component: Any) -> Any:
        try:
            parts = check_rule(text)
        except RuleError:
            repaired = _SPACE.sub("", text)
            parts = check_rule(repaired)  # raises the reason if spaces were not all
            self.report(
                ProblemKind.BAD_RULE,
                f"RRULE {text[:80]!r} has spaces; read as {repaired[:80]!r} (remove the spaces)",
                component,
            )
            text = repaired
        start = instant(component.decoded("DTSTART"), self.zone).astimezone(self.zone)
        until = until_of(parts, self.zone)
        if until is not None and until < start:
            raise RuleError("UNTIL is before DTSTART, so the rule adds nothing")
        steps = steps_to(parts, start.replace(tzinfo=None), self.stop)
        if steps > self.max_rule_steps:
            raise RuleError(
                f"it needs {steps} steps from DTSTART to reach the window "
                f"(at most {self.max_rule_steps})"
            )
        try:
            return vRecur.from_ical(text)
        except (ValueError, TypeError) as error:
            raise RuleError(str(error)[:100]) from None

    def split_duplicates(self, components: list[Any]) -> list[list[Any]]:
        """Series by UID: events sharing a UID with equal SEQUENCE stay separate events."""
        cores = [c for c in components if "RECURRENCE-ID" not in c]
        if len(cores) <= 1:
            return [components] if components else []
        moved = [c for c in components if "RECURRENCE-ID" in c]
        best = max(_sequence(c) for c in cores)
        same = [c for c in cores if _sequence(c) == best]
        older = len(cores) - len(same)
        if len(same) > 1:
            self.report(
                ProblemKind.DUPLICATE_UID,
                f"{len(same)} events share this UID and "
                "SEQUENCE; each is planned as its own event (give each its own UID)",
                same[1],
            )
        if older:
            self.report(
                ProblemKind.DUPLICATE_UID,
                f"{older} older version(s) of this event "
                "(lower SEQUENCE, same UID) are ignored (remove them from the feed)",
                same[0],
            )
        return [[same[0], *moved], *[[c] for c in same[1:]]]


def _sequence(component: Any) -> int:
    text = as_text(component.get("SEQUENCE")).strip()
    return int(text) if _DIGITS.fullmatch(text) else 0
