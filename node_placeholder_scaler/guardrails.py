"""Cost guardrails: what one calendar may ask for, and the node-hours an event holds.

Pure: occurrences and limits in, clipped occurrences out (no I/O, no clock).

A calendar's limits (its ``calendars[]`` keys, all unset by default):

- ``maxNodes``: the most nodes one event may request in one pool;
- ``maxNodeHoursPerDay`` / ``maxNodeHoursPerWeek``: the most node-hours the calendar's events
  may hold per calendar day / ISO week (counted in the calendar's time zone, by the day of an
  event's start, all pools together); events are served in start order, so a later event
  gets what is left;
- ``maxLead``: the longest ``lead:`` an event may give.

A request over a limit is clipped, not dropped: it gets what the limit leaves (possibly 0),
and the event carries a ``clipped`` problem that names the limit. An event holds a pool's
placeholders from ``start - lead`` to ``end``: node-hours = nodes x that time in hours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from .durations import format_duration
from .model import Occurrence, Problem, ProblemKind

HOUR = timedelta(hours=1)
LeadOf = Callable[[Occurrence, str], timedelta]  # the lead of an occurrence in one pool


@dataclass(frozen=True)
class Limits:
    """One calendar's guardrails; None: no limit."""

    max_nodes: int | None = None
    max_node_hours_per_day: float | None = None
    max_node_hours_per_week: float | None = None
    max_lead: timedelta | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (
                self.max_nodes,
                self.max_node_hours_per_day,
                self.max_node_hours_per_week,
                self.max_lead,
            )
        )

    def lookback(self) -> timedelta:
        """How far before an instant events still count against a budget of that instant."""
        if self.max_node_hours_per_week is not None:
            return timedelta(days=8)
        if self.max_node_hours_per_day is not None:
            return timedelta(days=2)
        return timedelta(0)


def node_hours(occurrence: Occurrence, pool: str, count: int, lead_of: LeadOf) -> float:
    """Node-hours ``count`` nodes of ``pool`` are held for the occurrence (lead included)."""
    held = occurrence.end - (occurrence.start - lead_of(occurrence, pool))
    return count * max(held, timedelta(0)) / HOUR


def held_hours(occurrence: Occurrence, lead_of: LeadOf) -> dict[str, float]:
    """Node-hours of each pool the occurrence requests."""
    return {
        pool: node_hours(occurrence, pool, count, lead_of)
        for pool, count in occurrence.requests.items()
    }


@dataclass
class _Budget:
    """A node-hour budget per period (day or week) and what is used of it."""

    name: str
    limit: float
    period: Callable[[date], object]
    used: dict[object, float]

    def allows(self, day: date, hours_each: float, count: int) -> int:
        left = self.limit - self.used.get(self.period(day), 0.0)
        if hours_each <= 0:
            return count
        return max(0, min(count, math.floor(left / hours_each + 1e-9)))

    def spend(self, day: date, hours: float) -> None:
        key = self.period(day)
        self.used[key] = self.used.get(key, 0.0) + hours


def clip(
    occurrences: Sequence[Occurrence],
    limits: Limits,
    zone: ZoneInfo,
    lead_of: LeadOf,
    allowed: frozenset[str] | None = None,
) -> list[Occurrence]:
    """One calendar's occurrences with requests and leads clipped to its limits, in start
    order. Pools outside ``allowed`` are left alone (the planner refuses them)."""
    ordered = sorted(occurrences, key=lambda o: (o.start, o.uid))
    if not limits.any:
        return ordered
    clipper = _Clipper(limits, zone, lead_of, allowed)
    return [clipper.clip(o) for o in ordered]


class _Clipper:
    """Serves one calendar's occurrences in start order against its limits."""

    def __init__(
        self, limits: Limits, zone: ZoneInfo, lead_of: LeadOf, allowed: frozenset[str] | None
    ) -> None:
        self.limits, self.zone, self.lead_of, self.allowed = limits, zone, lead_of, allowed
        self.budgets = []
        if limits.max_node_hours_per_day is not None:
            self.budgets.append(
                _Budget("maxNodeHoursPerDay", limits.max_node_hours_per_day, lambda d: d, {})
            )
        if limits.max_node_hours_per_week is not None:
            self.budgets.append(
                _Budget(
                    "maxNodeHoursPerWeek",
                    limits.max_node_hours_per_week,
                    lambda d: d.isocalendar()[:2],
                    {},
                )
            )

    def clip(self, occurrence: Occurrence) -> Occurrence:
        problems: list[str] = []
        most = self.limits.max_lead
        if most is not None and occurrence.lead is not None and occurrence.lead > most:
            problems.append(
                f"lead {format_duration(occurrence.lead)} is over the calendar's "
                f"maxLead {format_duration(most)}; clipped to it"
            )
            occurrence = replace(occurrence, lead=most)
        requests: dict[str, int] = {}
        for pool, count in sorted(occurrence.requests.items()):
            if self.allowed is not None and pool not in self.allowed:
                requests[pool] = count
                continue
            granted, why = self._grant(occurrence, pool, count)
            if why:
                problems.append(f"pool {pool!r}: {count} requested; {why}; clipped to {granted}")
            requests[pool] = granted
        if not problems:
            return occurrence
        found = tuple(
            Problem(
                ProblemKind.CLIPPED, text, occurrence.calendar, occurrence.summary, occurrence.start
            )
            for text in problems
        )
        return replace(
            occurrence,
            requests=_in_order(occurrence.requests, requests),
            problems=occurrence.problems + found,
        )

    def _grant(self, occurrence: Occurrence, pool: str, count: int) -> tuple[int, str]:
        granted, why = count, ""
        most = self.limits.max_nodes
        if most is not None and granted > most:
            granted, why = most, f"over the calendar's maxNodes {most}"
        day = occurrence.start.astimezone(self.zone).date()
        each = node_hours(occurrence, pool, 1, self.lead_of)
        for budget in self.budgets:
            fits = budget.allows(day, each, granted)
            if fits < granted:
                used = budget.used.get(budget.period(day), 0.0)
                why = (
                    f"{granted * each:g} node-hours would pass the calendar's "
                    f"{budget.name} {budget.limit:g} ({used:g} already held)"
                )
                granted = fits
        for budget in self.budgets:
            budget.spend(day, granted * each)
        return granted, why


def _in_order(original: Mapping[str, int], clipped: Mapping[str, int]) -> dict[str, int]:
    return {pool: clipped[pool] for pool in original}


@dataclass(frozen=True)
class Holding:
    """What one event will hold of one pool: nodes, for how long, and the cost."""

    occurrence: Occurrence
    pool: str
    nodes: int
    node_hours: float
    cost: float | None  # None: no price configured for the pool


def holdings(
    occurrences: Sequence[Occurrence], lead_of: LeadOf, prices: Mapping[str, float | None]
) -> list[Holding]:
    """Per event (in start order) and pool it requests: node-hours and cost."""
    found = []
    for occurrence in sorted(occurrences, key=lambda o: (o.start, o.uid)):
        for pool, hours in held_hours(occurrence, lead_of).items():
            price = prices.get(pool)
            found.append(
                Holding(
                    occurrence,
                    pool,
                    occurrence.requests[pool],
                    hours,
                    None if price is None else hours * price,
                )
            )
    return found
