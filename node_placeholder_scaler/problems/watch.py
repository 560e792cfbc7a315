"""The running controller tells each upcoming calendar problem early and once.

Every round the watch reads the problems of the occurrences from now - 1h to 14 days ahead
(problems/upcoming.py) and keeps them as ``current``: a tuple of frozen UpcomingProblem values (the
status page reads it). The leader alone then tells each problem it has not told yet:

- one WARNING log line: calendar, event title, date, the line, the suggestion (never a URL);
- one Warning Event, reason ``CalendarProblem``, on the pool's placeholder Deployment (on the
  pool's CapacityBuffer for a buffer pool; on the controller's leader-election Lease for a
  problem that names no pool, such as a bad ``lead:`` line);
- optionally a webhook message (problems/notifications.py).

A problem that leaves the window (fixed, or past) is forgotten, so it is told again if it
comes back. The gauge ``node_placeholder_upcoming_problems{calendar,kind}`` is the leader's
alone; a standby, or a replica that loses the Lease, drops the calendar gauges (metrics.py).
A failed Event write is counted (errors_total, stage event) and retried next round. At most
MAX_PER_ROUND problems are told per round; the rest in the next rounds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from ..backends.capacitybuffers import API_VERSION as BUFFER_API_VERSION
from ..backends.capacitybuffers import KIND as BUFFER_KIND
from ..config.settings import Settings
from ..decisions import Stage
from ..metrics import Metrics
from ..port import EventWriter
from ..reasons import CALENDAR_PROBLEM
from ..subjects import Subject
from .upcoming import UpcomingProblem, counts

logger = logging.getLogger(__name__)
MAX_PER_ROUND = 20  # problems told per round (a feed full of typos costs rounds, not a burst)
LEASE = Subject("coordination.k8s.io/v1", "Lease", "")  # the name is the configured lease's


class Announcer(Protocol):
    """Tells people about a new problem (notifications.Notifier)."""

    def problem(self, problem: UpcomingProblem) -> None: ...


class ProblemWatch:
    """The upcoming problems of the last round and which of them were told."""

    def __init__(
        self,
        settings: Settings,
        source: Callable[[datetime], Sequence[UpcomingProblem]],
        metrics: Metrics,
        *,
        events: EventWriter | None,
        namespace: str,
        announcer: Announcer | None = None,
    ) -> None:
        self.settings, self.source, self.metrics = settings, source, metrics
        self.events, self.namespace, self.announcer = events, namespace, announcer
        self.current: tuple[UpcomingProblem, ...] = ()
        self._told: set[UpcomingProblem] = set()

    def round(self, now: datetime, *, leading: bool, dry_run: bool = False) -> None:
        """Read the problems; as leader, export the gauge and tell the new ones."""
        self.current = tuple(self.source(now))
        if not leading:
            return  # the caller drops the calendar gauges (metrics.forget_calendar)
        self.metrics.observe_upcoming(
            counts(self.current), [c.name for c in self.settings.calendars]
        )
        self._told &= set(self.current)
        new = [p for p in self.current if p not in self._told][:MAX_PER_ROUND]
        for problem in new:
            if self._tell(problem, now, dry_run):
                self._told.add(problem)

    def _tell(self, problem: UpcomingProblem, now: datetime, dry_run: bool) -> bool:
        """Log, Event, webhook; False when the Event could not be written (told again)."""
        logger.warning(
            "calendar problem: calendar=%s event=%r date=%s line=%r suggestion=%s: %s",
            problem.calendar,
            problem.title,
            _date(problem.start, self.settings),
            problem.line,
            problem.suggestion or "-",
            problem.message,
        )
        if self.events is not None and not dry_run:
            try:
                self.events.record_about(
                    self.namespace,
                    self.subject(problem.pool),
                    CALENDAR_PROBLEM.name,
                    problem_message(problem, self.settings),
                    now,
                    warning=True,
                )
            except Exception as error:
                logger.warning("could not write the %s Event: %s", CALENDAR_PROBLEM.name, error)
                self.metrics.error(Stage.EVENT, problem.pool or "")
                return False
        if self.announcer is not None and not dry_run:
            self.announcer.problem(problem)
        return True

    def subject(self, pool: str | None) -> Subject:
        """The object a problem's Event is about."""
        settings = self.settings.pools.get(pool or "")
        if settings is None:
            return Subject(LEASE.api_version, LEASE.kind, self.settings.leader_election.lease_name)
        if settings.backend == "capacityBuffer":
            return Subject(BUFFER_API_VERSION, BUFFER_KIND, settings.buffer)
        return Subject("apps/v1", "Deployment", settings.deployment)


def problem_message(problem: UpcomingProblem, settings: Settings) -> str:
    """The Event's text: which calendar and event, when, the line and its suggestion."""
    return (
        f"calendar {problem.calendar}, event {problem.title!r} on "
        f"{_date(problem.start, settings)}: {problem.message}"
    )


def _date(start: datetime, settings: Settings) -> str:
    return start.astimezone(settings.default_zone).strftime("%Y-%m-%d %H:%M %Z")
