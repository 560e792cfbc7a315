"""Plain data shared by the calendar engine, the planner and the controller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Problem:
    """Something wrong in the input, reported (log, metric, plan output), never raised.

    kind is one of a small fixed set (it is a metric label): bad-value, unknown-pool,
    bad-lead, duplicate, clamped, not-allowed, feed-error, feed-stale, calendar-error.
    """

    kind: str
    message: str
    calendar: str | None = None
    event: str | None = None
    start: datetime | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "message": self.message,
            "calendar": self.calendar,
            "event": self.event,
            "start": self.start.isoformat() if self.start else None,
        }


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a calendar event, with its parsed description.

    start and end are aware datetimes in UTC; end is exclusive.
    requests maps lower-case pool names to the requested number of warm nodes.
    """

    calendar: str
    uid: str
    summary: str
    start: datetime
    end: datetime
    requests: Mapping[str, int] = field(default_factory=dict)
    lead: timedelta | None = None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class PoolTarget:
    """The calendar target of one pool at one instant, and why."""

    pool: str
    target: int
    requested: int | None  # combined value of the active events before clamping; None: no event
    clamped: bool
    occurrences: tuple[Occurrence, ...]  # the active occurrences that name this pool
    known: bool = True  # False: no feed that may name this pool has a good copy

    @property
    def event_names(self) -> tuple[str, ...]:
        return tuple(o.summary for o in self.occurrences)


@dataclass(frozen=True)
class Plan:
    """Calendar targets of every configured pool at instant ``at`` (no cluster involved)."""

    at: datetime
    pools: Mapping[str, PoolTarget]
    events: tuple[Occurrence, ...]
    problems: tuple[Problem, ...]
    next_start: Mapping[str, datetime | None] = field(default_factory=dict)
