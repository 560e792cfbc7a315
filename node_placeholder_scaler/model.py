"""Plain data shared by the calendar engine, the planner and the controller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class ProblemKind(StrEnum):
    """The fixed vocabulary of problem kinds (a metric label: keep it small)."""

    BAD_VALUE = "bad-value"  # a pool line whose number is not a whole number >= 0
    UNKNOWN_POOL = "unknown-pool"  # a misspelt pool name with a count: usr: 3, users: 3
    NEAR_MISS = "near-miss"  # a pool name and a count without the colon: user 3, user=3
    BAD_LEAD = "bad-lead"  # a lead: line that is no duration, or too long
    BAD_ARRIVAL = "bad-arrival"  # an arrival: line that is no duration, or too long
    DUPLICATE = "duplicate"  # a pool named twice in one description
    BAD_TEXT = "bad-text"  # a description over the size cap (read truncated)
    CLAMPED = "clamped"  # more requested than maxReplicas
    NOT_ALLOWED = "not-allowed"  # a calendar names a pool outside its allow-list
    CLIPPED = "clipped"  # a request or lead over one of its calendar's guardrails
    FEED_ERROR = "feed-error"  # the feed could not be fetched or read at all
    FEED_STALE = "feed-stale"  # the last good copy is older than maxStaleness
    CALENDAR_ERROR = "calendar-error"  # feed-level: unknown X-WR-TIMEZONE, no DTSTART, ...
    BAD_COMPONENT = "bad-component"  # a component (event, zone, alarm) that cannot be read
    BAD_RULE = "bad-rule"  # an unreadable or refused recurrence: DTSTART only
    OVER_LIMIT = "over-limit"  # an expansion limit or the time budget was reached
    BAD_TIME = "bad-time"  # DTEND before DTSTART, a duration that overflows
    UNKNOWN_ZONE = "unknown-zone"  # a TZID that names no zone: read in the calendar's zone
    DUPLICATE_UID = "duplicate-uid"  # events sharing a UID without RECURRENCE-ID


@dataclass(frozen=True)
class Problem:
    """Something wrong in the input, reported (log, metric, plan output), never raised.

    ``kind`` is a ProblemKind (a plain string of that vocabulary is converted).
    """

    kind: ProblemKind
    message: str
    calendar: str | None = None
    event: str | None = None
    start: datetime | None = None
    pool: str | None = None  # the pool the line names or probably meant
    line: str | None = None  # the description line (quoted, shortened)
    suggestion: str | None = None  # the request the line probably meant, e.g. "user: 3"

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ProblemKind(self.kind))

    def as_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "message": self.message,
            "calendar": self.calendar,
            "event": self.event,
            "start": self.start.isoformat() if self.start else None,
            "pool": self.pool,
            "line": self.line,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a calendar event, with its parsed description.

    start and end are aware datetimes in UTC; end is exclusive.
    requests maps lower-case pool names to the requested number of warm nodes; seats maps
    them to a class size (``user: 120 students``, seating/rule.py); arrival is how long its
    classes take to arrive (``arrival: 10m``; None: the pool's arrivalSpread).
    """

    calendar: str
    uid: str
    summary: str
    start: datetime
    end: datetime
    requests: Mapping[str, int] = field(default_factory=dict)
    lead: timedelta | None = None
    problems: tuple[Problem, ...] = ()
    seats: Mapping[str, int] = field(default_factory=dict)
    arrival: timedelta | None = None


@dataclass(frozen=True)
class ClassRequest:
    """One active class-sized request of a pool: ``seats`` people arriving from ``start``."""

    occurrence: Occurrence
    seats: int
    opens: datetime | None = None  # start - lead (planning.py); None: the start

    @property
    def start(self) -> datetime:
        return self.occurrence.start

    @property
    def window_opens(self) -> datetime:
        return self.start if self.opens is None else self.opens

    @property
    def spread(self) -> timedelta | None:
        """How long its students take to arrive, as the event says (None: the pool's)."""
        return self.occurrence.arrival


@dataclass(frozen=True)
class PoolTarget:
    """The calendar target of one pool at one instant, and why."""

    pool: str
    target: int
    requested: int | None  # combined value of the active events before clamping; None: no event
    clamped: bool
    occurrences: tuple[Occurrence, ...]  # the active occurrences that name this pool
    known: bool = True  # False: no feed that may name this pool has a good copy
    classes: tuple[ClassRequest, ...] = ()  # active class-sized requests (seating/rule.py)

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
