"""Occurrences + settings + an instant -> the calendar target of every pool.

Pure: no I/O, no clock. An occurrence is active for pool P at t when
``start - lead <= t < end`` (lead: the event's ``lead:``, else the pool's, else the global).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .config.settings import CalendarSource, PoolSettings, Settings
from .guardrails import Holding, clip, holdings
from .ical.calendar import ParsedCalendar
from .ical.descriptions import MAX_EVENT_LEAD
from .model import ClassRequest, Occurrence, Plan, PoolTarget, Problem, ProblemKind

NEXT_EVENT_HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class CalendarView:
    """What the planner sees of one source: its good copy (if any) and its feed problems."""

    source: CalendarSource
    calendar: ParsedCalendar | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class _Request:
    occurrence: Occurrence
    pool: str
    count: int
    active_from: datetime
    seats: bool = False  # count is a class size (``user: 120 students``), not nodes


def lead_for(occurrence: Occurrence, pool: PoolSettings | None, settings: Settings) -> timedelta:
    """The event's ``lead:``, else the pool's leadTime, else the global one (``0s`` is a lead).

    ``pool`` None: the lead of an occurrence as a whole (when its problems start to show).
    """
    if occurrence.lead is not None:
        return occurrence.lead
    if pool is not None and pool.lead_time is not None:
        return pool.lead_time
    return settings.lead_time


def lead_horizon(settings: Settings) -> timedelta:
    """How long before its start an occurrence may need warm room: the longest lead (a
    pool's, the default, or an event's own, at most MAX_EVENT_LEAD)."""
    return max(settings.max_lead(), MAX_EVENT_LEAD)


def horizon(settings: Settings) -> timedelta:
    """How far past ``at`` a plan looks at occurrences: their leads and the next-event
    gauge. The feeds expand their calendars at least this far (feeds/book.py)."""
    return lead_horizon(settings) + NEXT_EVENT_HORIZON


def plan(views: Sequence[CalendarView], settings: Settings, at: datetime) -> Plan:
    """The calendar targets at instant ``at``."""
    occurrences = _collect(views, settings, at, at + horizon(settings))
    requests, notes = _requests(occurrences, views, settings)
    next_start = {
        pool: min(
            (r.active_from for r in requests if r.pool == pool and r.active_from > at), default=None
        )
        for pool in settings.pools
    }
    return replace(_plan_at(at, requests, notes, views, settings), next_start=next_start)


def timeline(
    views: Sequence[CalendarView], settings: Settings, start: datetime, end: datetime
) -> list[Plan]:
    """The plan at ``start`` and at every later instant up to ``end`` where a target changes."""
    occurrences = _collect(views, settings, start, end + lead_horizon(settings))
    requests, notes = _requests(occurrences, views, settings)
    instants = sorted(
        {start}
        | {t for r in requests for t in (r.active_from, r.occurrence.end) if start < t <= end}
    )
    plans: list[Plan] = []
    for instant in instants:
        current = _plan_at(instant, requests, notes, views, settings)
        targets = {p: t.target for p, t in current.pools.items()}
        if not plans or targets != {p: t.target for p, t in plans[-1].pools.items()}:
            plans.append(current)
    return plans


def held(
    views: Sequence[CalendarView], settings: Settings, start: datetime, end: datetime
) -> list[Holding]:
    """Node-hours (and cost) each event held in [start, end) holds per pool: after the
    guardrails, allow-listed requests only."""
    occurrences = _collect(views, settings, start, end + lead_horizon(settings))
    requests, _ = _requests(occurrences, views, settings)
    pools: dict[int, tuple[Occurrence, dict[str, int]]] = {}
    for r in requests:
        if r.active_from < end and r.occurrence.end > start:
            pools.setdefault(id(r.occurrence), (r.occurrence, {}))[1][r.pool] = r.count
    return holdings(
        [replace(o, requests=counts) for o, counts in pools.values()],
        lambda o, pool: lead_for(o, settings.pools.get(pool), settings),
        {name: p.price_per_node_hour for name, p in settings.pools.items()},
    )


def _collect(
    views: Iterable[CalendarView], settings: Settings, start: datetime, end: datetime
) -> list[Occurrence]:
    found: list[Occurrence] = []
    for view in views:
        found.extend(guarded(view, settings, start, end))
    return found


def guarded(
    view: CalendarView, settings: Settings, start: datetime, end: datetime
) -> list[Occurrence]:
    """The view's occurrences overlapping [start, end), clipped to its calendar's guardrails
    (counted from far enough back that a day's or week's budget is the same whatever
    ``start`` is, within the range the good copy was expanded for)."""
    calendar, source = view.calendar, view.source
    if calendar is None:
        return []
    first = max(start - source.limits.lookback(), min(start, calendar.window[0]))
    clipped = clip(
        calendar.occurrences(first, end),
        source.limits,
        calendar.zone,
        lambda o, pool: lead_for(o, settings.pools.get(pool), settings),
        source.pools,
    )
    return [o for o in clipped if o.end > start]


def refusals(occurrence: Occurrence, allowed: Collection[str] | None) -> list[Problem]:
    """The occurrence's requests for pools outside its calendar's allow-list."""
    return [
        Problem(
            ProblemKind.NOT_ALLOWED,
            f"calendar {occurrence.calendar!r} may not request pool {pool!r}; ignored",
            occurrence.calendar,
            occurrence.summary,
            occurrence.start,
            pool=pool,
        )
        for pool in {**occurrence.requests, **occurrence.seats}
        if allowed is not None and pool not in allowed
    ]


@dataclass(frozen=True)
class _Notes:
    """Problems tied to one occurrence, shown while it is in its window."""

    occurrence: Occurrence
    opens: datetime
    problems: tuple[Problem, ...]


def _requests(
    occurrences: Iterable[Occurrence], views: Sequence[CalendarView], settings: Settings
) -> tuple[list[_Request], list[_Notes]]:
    """Expand occurrences into (pool, count) requests; allow-list refusals become problems."""
    sources = {view.source.name: view.source for view in views}
    requests: list[_Request] = []
    notes: list[_Notes] = []
    for occurrence in occurrences:
        allowed = sources[occurrence.calendar].pools
        problems = list(occurrence.problems)
        opens = occurrence.start - lead_for(occurrence, None, settings)
        problems.extend(refusals(occurrence, allowed))
        asked = [(pool, count, False) for pool, count in occurrence.requests.items()]
        asked += [(pool, count, True) for pool, count in occurrence.seats.items()]
        for pool, count, seats in asked:
            if allowed is not None and pool not in allowed:
                continue
            lead = lead_for(occurrence, settings.pools[pool], settings)
            requests.append(_Request(occurrence, pool, count, occurrence.start - lead, seats))
            opens = min(opens, occurrence.start - lead)
        if problems:
            notes.append(_Notes(occurrence, opens, tuple(problems)))
    return requests, notes


def _plan_at(
    at: datetime,
    requests: Sequence[_Request],
    notes: Sequence[_Notes],
    views: Sequence[CalendarView],
    settings: Settings,
) -> Plan:
    active = [r for r in requests if r.active_from <= at < r.occurrence.end]
    problems: list[Problem] = [p for view in views for p in view.problems]
    for note in notes:
        if note.opens <= at < note.occurrence.end:
            problems.extend(note.problems)
    events: dict[int, Occurrence] = {id(r.occurrence): r.occurrence for r in active}
    known = _known_pools(views, settings)
    pools = {}
    for name, pool in settings.pools.items():
        target, clamp = _target(pool, [r for r in active if r.pool == name], settings)
        pools[name] = _with_known(target, name in known)
        if clamp is not None:
            problems.append(clamp)
    return Plan(at, pools, tuple(events.values()), tuple(_unique(problems)))


def _target(
    pool: PoolSettings, active: Sequence[_Request], settings: Settings
) -> tuple[PoolTarget, Problem | None]:
    name = pool.name.lower()
    occurrences = tuple({id(r.occurrence): r.occurrence for r in active}.values())
    classes = tuple(ClassRequest(r.occurrence, r.count, r.active_from) for r in active if r.seats)
    nodes = [r for r in active if not r.seats]
    if not nodes:
        floor = 0 if classes else pool.min_replicas
        return PoolTarget(name, floor, None, False, occurrences, classes=classes), None
    found, problem = _node_target(pool, nodes, settings)
    return replace(found, occurrences=occurrences, classes=classes), problem


def _node_target(
    pool: PoolSettings, active: Sequence[_Request], settings: Settings
) -> tuple[PoolTarget, Problem | None]:
    """The target of the node-form requests (``user: 3``)."""
    name = pool.name.lower()
    occurrences = tuple(r.occurrence for r in active)
    counts = [r.count for r in active]
    requested = sum(counts) if settings.overlap == "sum" else max(counts)
    if requested <= pool.max_replicas:
        return PoolTarget(name, requested, requested, False, occurrences), None
    events = ", ".join(o.summary for o in occurrences)
    problem = Problem(
        ProblemKind.CLAMPED,
        f"pool {name!r}: {requested} requested by {events}; clamped to maxReplicas "
        f"{pool.max_replicas}",
    )
    return PoolTarget(name, pool.max_replicas, requested, True, occurrences), problem


def _known_pools(views: Sequence[CalendarView], settings: Settings) -> set[str]:
    known: set[str] = set()
    for view in views:
        if view.calendar is not None:
            known |= (
                set(view.source.pools) if view.source.pools is not None else set(settings.pools)
            )
    return known


def _with_known(target: PoolTarget, known: bool) -> PoolTarget:
    return target if known else replace(target, known=False)


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    result = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            result.append(problem)
    return result
