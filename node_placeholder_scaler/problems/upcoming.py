"""The problems of what is coming: the occurrences from now (minus a grace) to a horizon.

Pure: the views (good copies) and the window in, frozen ``UpcomingProblem`` values out. The
window is ``[now - GRACE, now + HORIZON)``: an occurrence counts when it overlaps it, so an
event that is on now still counts, and one that ended more than GRACE ago no longer does.
``validate`` judges this window by default, ``plan`` lists its problems, and the running
controller tells each problem once (problems/watch.py) and serves them to the status page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..config.settings import Settings
from ..model import Occurrence, Problem, ProblemKind
from ..planning import CalendarView, guarded, refusals

GRACE = timedelta(hours=1)  # an occurrence that ended up to this long ago still counts
HORIZON = timedelta(days=14)  # ... and one that starts up to this far ahead


@dataclass(frozen=True)
class UpcomingProblem:
    """A problem of one upcoming occurrence, with what to do about it.

    No feed URL: ``calendar`` is the configured name. ``pool`` is None for a problem that
    names no pool (a bad ``lead:`` line, an oversized description).
    """

    calendar: str
    title: str
    start: datetime
    pool: str | None
    kind: ProblemKind
    line: str | None
    suggestion: str | None
    message: str

    def as_dict(self) -> dict[str, str | None]:
        return {
            "calendar": self.calendar,
            "title": self.title,
            "start": self.start.isoformat(),
            "pool": self.pool,
            "kind": self.kind,
            "line": self.line,
            "suggestion": self.suggestion,
            "message": self.message,
        }

    def as_problem(self) -> Problem:
        return Problem(
            self.kind,
            self.message,
            self.calendar,
            self.title,
            self.start,
            pool=self.pool,
            line=self.line,
            suggestion=self.suggestion,
        )


def window(now: datetime, horizon: timedelta = HORIZON) -> tuple[datetime, datetime]:
    """The default window judged at ``now``."""
    return now - GRACE, now + horizon


def upcoming(
    views: Sequence[CalendarView], start: datetime, end: datetime, settings: Settings | None = None
) -> tuple[UpcomingProblem, ...]:
    """The problems of every occurrence overlapping [start, end), by start, each once.

    Only the range each good copy was expanded for is read (the controller keeps it wider
    than the horizon, ``validate`` expands for its window): never a parse inside a round.
    """
    found: dict[UpcomingProblem, None] = {}
    for view in views:
        calendar = view.calendar
        if calendar is None:
            continue
        first, last = max(start, calendar.window[0]), min(end, calendar.window[1])
        if first >= last:
            continue
        occurrences = (
            calendar.occurrences(first, last)
            if settings is None
            else guarded(view, settings, first, last)
        )  # with guardrail clips
        for occurrence in occurrences:
            found.update(dict.fromkeys(_of(occurrence, view)))
    return tuple(sorted(found, key=lambda p: (p.start, p.calendar, p.title, p.message)))


def _of(occurrence: Occurrence, view: CalendarView) -> Iterable[UpcomingProblem]:
    for problem in (*occurrence.problems, *refusals(occurrence, view.source.pools)):
        yield UpcomingProblem(
            calendar=occurrence.calendar,
            title=occurrence.summary,
            start=occurrence.start,
            pool=problem.pool,
            kind=problem.kind,
            line=problem.line,
            suggestion=problem.suggestion,
            message=problem.message,
        )


def counts(problems: Iterable[UpcomingProblem]) -> dict[tuple[str, ProblemKind], int]:
    """How many upcoming problems per (calendar, kind): the metric's values."""
    result: dict[tuple[str, ProblemKind], int] = {}
    for problem in problems:
        key = (problem.calendar, problem.kind)
        result[key] = result.get(key, 0) + 1
    return result
