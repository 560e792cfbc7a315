"""One series (the events sharing a UID) -> its occurrences in a window, bounded.

The per-series and per-occurrence seams: whatever one series contains, the damage stays in
it. A rule that cannot be read or is refused keeps the series' DTSTART occurrence; a series
that cannot be expanded falls back to its DTSTART (and its moved occurrences); every such
case is a Problem naming the event and its date. Expansion is capped per series, per window
and by a time budget per feed (``Limits``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import x_wr_timezone
from recurring_ical_events import EventAdapter, Series

from ..model import Occurrence, Problem, ProblemKind
from .bounds import BudgetExhausted, Limits, SeriesTimeout, time_limit
from .components import Cleaner, as_text, instant, is_cancelled, summary
from .descriptions import ParsedDescription, parse_description
from .timezones import error_text

_RECURRENCE = ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")


class _Rules(Series.RecurrenceRules):  # type: ignore[misc]
    """r-i-e's rules, each given an UNTIL at the end of the queried span.

    dateutil walks a rule from DTSTART until it passes UNTIL; a rule that matches nothing
    (BYMONTH=2;BYMONTHDAY=30) would otherwise walk to the year 9999.
    """

    def rrule_between(self, span_start: Any, span_stop: Any) -> Iterator[Any]:
        rules: list[Any] = self.rrules  # type: ignore[has-type]
        self.rrules = [_until(rule, span_stop) for rule in rules]
        yield from super().rrule_between(span_start, span_stop)


def _until(rule: Any, stop: datetime) -> Any:
    start = getattr(rule, "_dtstart", None)  # a dateutil rrule (not the rruleset)
    if start is None:
        return rule
    stop = (
        stop.replace(tzinfo=None)
        if start.tzinfo is None
        else (stop.replace(tzinfo=start.tzinfo) if stop.tzinfo is None else stop)
    )
    if rule._until is not None and rule._until <= stop:
        return rule
    with warnings.catch_warnings():  # COUNT and UNTIL together: dateutil only warns
        warnings.simplefilter("ignore", DeprecationWarning)
        capped = rule.replace(until=stop)
    capped.until, capped.string = rule.until, rule.string
    return capped


class _BoundedSeries(Series):  # type: ignore[misc]
    RecurrenceRules = _Rules


class Expander:
    """Collects the occurrences and problems of one feed, series by series."""

    def __init__(
        self,
        name: str,
        zone: ZoneInfo,
        pools: Collection[str],
        *,
        window: tuple[datetime, datetime],
        limits: Limits,
        utc_to_zone: bool,
    ) -> None:
        self.name, self.zone, self.pools, self.window = name, zone, tuple(pools), window
        self.limits, self.utc_to_zone = limits, utc_to_zone
        self.deadline = time.monotonic() + limits.time_budget
        self.occurrences: list[Occurrence] = []
        self.cleaner = Cleaner(name, zone, window, limits.max_rule_steps)
        self.described: list[Problem] = []  # description problems of every event
        self._descriptions: dict[str, ParsedDescription] = {}
        pad = timedelta(days=1)  # floating and all-day times are compared in local time
        self._local = tuple(
            (t.astimezone(zone) + d).replace(tzinfo=None)
            for t, d in zip(window, (-pad, pad), strict=True)
        )

    @property
    def problems(self) -> list[Problem]:
        return self.cleaner.problems

    def note(self, kind: ProblemKind, message: str, component: Any, title: str) -> None:
        """A problem of a parsed event (or, if it was not parsed, of its raw title)."""
        if component is not None:
            self.cleaner.report(kind, message, component)
        else:
            self.problems.append(Problem(kind, message, self.name, title[:200] or "(no title)"))

    def check_budget(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExhausted(f"the time budget of {self.limits.time_budget:g}s is used up")
        if len(self.occurrences) >= self.limits.max_occurrences:
            raise BudgetExhausted(
                f"the feed has more than {self.limits.max_occurrences} occurrences in the window"
            )

    def series(self, components: list[Any]) -> None:
        """Expand one series (the per-series seam)."""
        before = len(self.occurrences)
        try:
            kept = self.cleaner.clean(components)
            for component in kept:
                self._describe_all(component)
            groups = self.cleaner.split_duplicates(kept)
        except MemoryError:
            raise
        except Exception as error:  # a component the checks themselves cannot read
            self.cleaner.report(
                ProblemKind.BAD_COMPONENT,
                f"the event cannot be read: {error_text(error)}",
                components[0],
            )
            return
        for group in groups:
            try:
                with time_limit(self.series_seconds()):
                    self._expand(group)
            except (BudgetExhausted, MemoryError):
                raise
            except (Exception, SeriesTimeout) as error:  # cannot expand: DTSTART only
                reason = (
                    f"its expansion took longer than {self.limits.series_seconds:g}s"
                    if isinstance(error, SeriesTimeout)
                    else f"the series cannot be expanded ({error_text(error)})"
                )
                del self.occurrences[before:]
                self.cleaner.report(
                    ProblemKind.OVER_LIMIT
                    if isinstance(error, SeriesTimeout)
                    else ProblemKind.BAD_RULE,
                    f"{reason}; only its first occurrence and its moved occurrences count",
                    group[0],
                )
                for component in group:
                    self.add(component)
            before = len(self.occurrences)

    def series_seconds(self) -> float:
        """The time limit of the next series: its own limit, within the feed's budget."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BudgetExhausted(f"the time budget of {self.limits.time_budget:g}s is used up")
        return min(self.limits.series_seconds, left)

    def _expand(self, group: list[Any]) -> None:
        if len(group) == 1 and not any(key in group[0] for key in _RECURRENCE):
            self.add(group[0])  # a lone event: its one occurrence, no expansion needed
            return
        calendar = icalendar.Calendar()
        calendar.subcomponents = group
        if self.utc_to_zone:
            calendar = x_wr_timezone.to_standard(calendar, timezone=self.zone)
        series = _BoundedSeries([EventAdapter(c) for c in calendar.subcomponents])
        for count, occurrence in enumerate(series.between(*self._local), start=1):
            if count > self.limits.max_per_series:
                self.cleaner.report(
                    ProblemKind.OVER_LIMIT,
                    (
                        f"more than {self.limits.max_per_series} occurrences in the window; "
                        "the rest are ignored"
                    ),
                    group[0],
                )
                return
            self.check_budget()
            self.add(occurrence.as_component(False))

    def add(self, component: Any) -> None:
        """One occurrence, if it overlaps the window (the per-occurrence seam)."""
        try:
            if is_cancelled(component):
                return
            start = instant(component.decoded("DTSTART"), self.zone)
            end = self._end(component, start)
            if not (start < self.window[1] and end > self.window[0]):
                return
            parsed = self._describe(component)
            self.occurrences.append(
                Occurrence(
                    calendar=self.name,
                    uid=as_text(component.get("UID"))[:200],
                    summary=summary(component),
                    start=start,
                    end=end,
                    requests=parsed.requests,
                    lead=parsed.lead,
                    seats=parsed.seats,
                    arrival=parsed.arrival,
                    problems=self._in_context(parsed.problems, component, start),
                )
            )
        except (KeyError, ValueError, TypeError, OverflowError, AttributeError) as error:
            self.cleaner.report(
                ProblemKind.BAD_TIME,
                f"an occurrence cannot be placed in time: {error_text(error)}",
                component,
            )

    def _end(self, component: Any, start: datetime) -> datetime:
        if "DTEND" in component:
            end = instant(component.decoded("DTEND"), self.zone)
        elif "DURATION" in component:
            end = start + component.decoded("DURATION")
        elif not isinstance(component.decoded("DTSTART"), datetime):
            end = start + timedelta(days=1)  # an all-day event without DTEND: one day
        else:
            end = start
        return max(end, start)

    def _describe(self, component: Any) -> ParsedDescription:
        return self._describe_text(_description_text(component))

    def _describe_text(self, text: str) -> ParsedDescription:
        parsed = self._descriptions.get(text)
        if parsed is None:
            parsed = parse_description(text, self.pools)
            self._descriptions[text] = parsed
        return parsed

    def _describe_all(self, component: Any) -> None:
        if is_cancelled(component):
            return
        parsed = self._describe(component)
        if parsed.problems:
            start = instant(component.decoded("DTSTART"), self.zone)
            self.described.extend(self._in_context(parsed.problems, component, start))

    def describe_raw(self, text: str, event: str, start: datetime | None) -> None:
        """The description problems of an event that is not parsed (far from the window)."""
        parsed = self._describe_text(text)
        self.described.extend(
            replace(p, calendar=self.name, event=event, start=start) for p in parsed.problems
        )

    def _in_context(
        self, problems: tuple[Problem, ...], component: Any, start: datetime
    ) -> tuple[Problem, ...]:
        event = summary(component)
        return tuple(replace(p, calendar=self.name, event=event, start=start) for p in problems)


def _description_text(component: Any) -> str:
    for key in ("DESCRIPTION", "X-ALT-DESC"):
        text = as_text(component.get(key))
        if text.strip():
            return text
    return ""


__all__ = ["BudgetExhausted", "Expander", "Limits"]
