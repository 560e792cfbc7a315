"""The status page's view-model: what a person sees, as frozen plain data (pure, no clock).

``build_status`` turns what the controller knows after a round (the feeds' views, the round's
decisions, the last event reports, the problems) into a StatusView; status/page.py renders it.
Nothing secret goes in: no feed URL, no pod or user name, no free-text fetch error (feeds are
named and their state is a word of the FetchResult vocabulary).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..config.settings import Settings
from ..decisions import PoolDecision
from ..feeds.types import FeedStatus
from ..model import Occurrence, Problem
from ..planning import NEXT_EVENT_HORIZON, CalendarView, lead_for, timeline
from ..reports.record import EventReport

HORIZON = NEXT_EVENT_HORIZON  # the 7 days ahead the page shows (feeds keep them expanded)
REPORTS_SHOWN = 3  # last event reports per pool


@dataclass(frozen=True)
class ProblemView:
    """A problem as the page shows it; ``suggestion`` is the corrected line, if one is known."""

    kind: str
    message: str
    calendar: str | None = None
    event: str | None = None
    start: datetime | None = None
    suggestion: str | None = None


@dataclass(frozen=True)
class Step:
    """From ``at`` on (until the next step), the pool's calendar target is ``nodes``."""

    at: datetime
    nodes: int


@dataclass(frozen=True)
class EventView:
    """One upcoming (or running) occurrence that names the pool."""

    title: str
    calendar: str
    start: datetime
    end: datetime
    lead: timedelta
    request: int
    problems: tuple[ProblemView, ...] = ()

    @property
    def opens(self) -> datetime:
        return self.start - self.lead


@dataclass(frozen=True)
class WarmView:
    """The pool's warm state in this replica's last round."""

    backend: str  # placeholders | capacityBuffer
    action: str
    target: int | None
    desired: int | None
    current: int | None  # placeholder replicas (or the buffer's replicas) now
    ready: int | None  # placeholders running (current - pending); the buffer's status replicas
    pending: int
    nodes: int | None
    free: int | None
    error: str | None = None


@dataclass(frozen=True)
class ReportView:
    """One event report, as the page shows it (no pod names, no scheduler messages)."""

    title: str
    start: datetime | None
    arrivals: int
    wait_p50: float | None
    wait_p95: float | None
    wait_max: float | None
    over_target: int
    target_s: float
    ready_in_time: bool
    warm_at_start: int
    asked: int
    advice: str


@dataclass(frozen=True)
class PoolView:
    name: str
    steps: tuple[Step, ...]
    events: tuple[EventView, ...]
    warm: WarmView | None
    reports: tuple[ReportView, ...]


@dataclass(frozen=True)
class FeedView:
    name: str
    ok: bool
    result: str
    last_success: datetime | None


@dataclass(frozen=True)
class StatusView:
    now: datetime
    until: datetime
    zone: ZoneInfo
    role: str  # leader / standby / "" (no election)
    pools: tuple[PoolView, ...]
    problems: tuple[ProblemView, ...]
    feeds: tuple[FeedView, ...]


@dataclass(frozen=True)
class StatusInputs:
    """What the controller knows after a round at ``now``. ``problems``: the list to fix
    (``run``: the plan's problems of no event, and the upcoming ones the loop keeps)."""

    settings: Settings
    now: datetime
    views: Sequence[CalendarView]
    problems: Sequence[Problem]
    decisions: Sequence[PoolDecision] = ()
    feeds: Sequence[FeedStatus] = ()
    reports: Mapping[str, Sequence[EventReport]] | None = None
    role: str = ""


def problem_view(problem: Problem) -> ProblemView:
    return ProblemView(
        problem.kind.value,
        problem.message,
        problem.calendar,
        problem.event,
        problem.start,
        suggestion=problem.suggestion,
    )


def upcoming(views: Sequence[CalendarView], now: datetime, until: datetime) -> list[Occurrence]:
    """The occurrences running at ``now`` or starting before ``until``, by start."""
    found = [
        o
        for view in views
        if view.calendar is not None
        for o in view.calendar.occurrences(now, until)
    ]
    return sorted(found, key=lambda o: (o.start, o.summary))


def build_status(inputs: StatusInputs) -> StatusView:
    settings, now = inputs.settings, inputs.now
    until = now + HORIZON
    plans = timeline(inputs.views, settings, now, until)
    occurrences = upcoming(inputs.views, now, until)
    decisions = {d.pool: d for d in inputs.decisions}
    reports = inputs.reports or {}
    pools = []
    for name, pool in settings.pools.items():
        steps = tuple(Step(p.at, p.pools[name].target) for p in plans if name in p.pools)
        events = tuple(
            EventView(
                o.summary,
                o.calendar,
                o.start,
                o.end,
                lead_for(o, pool, settings),
                o.requests[name],
                tuple(problem_view(p) for p in o.problems),
            )
            for o in occurrences
            if name in o.requests
        )
        warm = warm_view(decisions[name], pool.backend) if name in decisions else None
        shown = list(reports.get(name, ()))[-REPORTS_SHOWN:]
        pools.append(
            PoolView(pool.name, steps, events, warm, tuple(report_view(r) for r in reversed(shown)))
        )
    feeds = tuple(FeedView(f.name, f.ok, f.last_result, f.last_success) for f in inputs.feeds)
    problems = sorted(
        dict.fromkeys(inputs.problems), key=lambda p: (p.start is not None, p.start or now)
    )
    return StatusView(
        now,
        until,
        settings.default_zone,
        inputs.role,
        tuple(pools),
        tuple(problem_view(p) for p in problems),
        feeds,
    )


def warm_view(decision: PoolDecision, backend: str) -> WarmView:
    ready = None if decision.current is None else max(0, decision.current - decision.pending)
    error = decision.error
    if decision.buffer is not None:  # the buffer's own count of what it holds
        backend, ready = "capacityBuffer", decision.buffer.status_replicas
        error = decision.error or decision.buffer.problem
    return WarmView(
        backend,
        decision.action.value,
        decision.target,
        decision.desired,
        decision.current,
        ready,
        decision.pending,
        decision.nodes,
        decision.free,
        error,
    )


def report_view(report: EventReport) -> ReportView:
    """An event report as the page shows it."""
    wait, advice = report.wait_s, report.advice
    if advice.nodes is None:
        text = f"no advice: {advice.why or 'not enough data'}"
    else:
        lead = f", lead at least {advice.lead_s:.0f}s" if advice.lead_s else ""
        text = f"next time ask for {advice.nodes} node(s){lead} ({advice.why})"
    return ReportView(
        title=report.title,
        start=report.start,
        arrivals=report.arrivals,
        wait_p50=wait.p50 if wait else None,
        wait_p95=wait.p95 if wait else None,
        wait_max=wait.max if wait else None,
        over_target=report.over_target,
        target_s=report.target_s,
        ready_in_time=report.capacity_ready_in_time,
        warm_at_start=report.warm_at_start,
        asked=report.asked,
        advice=text,
    )
