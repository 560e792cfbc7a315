"""Event reports, live: the round hook of ``run`` around reports/measurement.py and
reports/advice.py.

Each round the Reporter opens the active occurrences in the Tracker (reports/tracker.py) and
tells it the pools' nodes (what reconcile read, through ``Observing``). ``settle`` after an
occurrence's end it builds its report per pool and puts it where operators look: the store (a
ConfigMap per pool), a Kubernetes Event (reason EventReport) on the placeholder Deployment,
the metrics and one INFO log line.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from ..backends.capacitybuffers import CapacityBuffer
from ..config.sections import ReportSettings
from ..config.settings import Settings
from ..decisions import RoundResult, Stage
from ..model import Plan
from ..observed import Placeholders, Resources
from ..planning import lead_for
from ..reasons import EVENT_REPORT
from ..seating.autosize import series_of
from ..seating.track import ClassTrack, as_report, follow
from .advice import message, recommend, summary, users_per_node
from .measurement import arrivals, measure
from .record import EventReport
from .timelines import NodeTimeline, PodRecord, Window, selector_labels
from .tracker import Observing, Tracker

logger = logging.getLogger(__name__)

RECENT = 3  # reports kept in memory per pool for the status page


def windows(plan: Plan, settings: Settings) -> list[Window]:
    """The occurrences active in ``plan``, one Window per pool they name."""
    found = []
    for pool, target in plan.pools.items():
        for occurrence in target.occurrences:
            series = series_of(occurrence.calendar, occurrence.uid, occurrence.summary)
            lead = lead_for(occurrence, settings.pools[pool], settings)
            found.append(
                Window(
                    pool,
                    series,
                    occurrence.summary,
                    occurrence.start,
                    occurrence.end,
                    lead,
                    occurrence.requests.get(pool, 0),
                    occurrence.seats.get(pool, 0),
                )
            )
    return found


def build(
    window: Window,
    records: Sequence[PodRecord],
    nodes: Sequence[NodeTimeline],
    placeholders: Placeholders | None,
    *,
    settings: Settings,
    rs: ReportSettings,
    now: datetime,
    free_at_start: int = 0,
    seats_per_node: int = 0,
) -> tuple[EventReport, tuple[float, ...]]:
    """One occurrence's report on one pool and its arrivals' waits; ``seats_per_node``: as
    the class-sized rule counted it (else from the placeholder)."""
    pool = settings.pools[window.pool]
    namespace = placeholders.namespace if placeholders else ""
    labels = selector_labels(placeholders.selector) if placeholders else {}
    pods = [r.seen_from(pool.node_selector, namespace, labels) for r in records]
    m = measure(
        window,
        pods,
        nodes,
        now,
        target_s=rs.wait_target.total_seconds(),
        free_at_start=free_at_start,
    )
    came = {(p.namespace, p.name) for p in arrivals(window, pods, frozenset(n.name for n in nodes))}
    per_node = seats_per_node or users_per_node(
        placeholders.requests if placeholders else Resources(),
        _typical_request([r for r in records if (r.namespace, r.name) in came]),
    )
    advice = recommend(m, per_node, interval_s=settings.interval.total_seconds())
    return summary(m, advice), m.waits


def _typical_request(records: Sequence[PodRecord]) -> Resources:
    """The most common requests among the user pods that arrived."""
    counts = Counter((r.requests.cpu_milli, r.requests.memory) for r in records)
    if not counts:
        return Resources()
    cpu, memory = counts.most_common(1)[0][0]
    return Resources(cpu, memory)


class Store(Protocol):
    def load(self, deployment: str) -> list[EventReport]: ...

    def add(self, deployment: str, report: EventReport, retention: int) -> None: ...


class MetricsSink(Protocol):
    def observe_report(
        self, pool: str, report: EventReport, waits: Sequence[float] = ()
    ) -> None: ...

    def error(self, stage: Stage, pool: str = "") -> None: ...


class Reporter:
    """The round hook of ``run``: opens occurrences, follows nodes, reports when due."""

    def __init__(
        self,
        settings: Settings,
        rs: ReportSettings,
        tracker: Tracker,
        observing: Observing,
        *,
        store: Store | None,
        metrics: MetricsSink,
        plan_at: Callable[[datetime], Plan] | None = None,
        write: bool = True,
        announce: Callable[[str, str, EventReport], None] | None = None,
    ) -> None:
        """``plan_at``: the calendar plan at an instant (for the first round's look back);
        ``write``: store reports and create Events (not in a dry run); ``announce``: told
        each new report (pool, summary, report: the webhook)."""
        self.settings, self.rs, self.tracker = settings, rs, tracker
        self.observing, self.store, self.metrics = observing, store, metrics
        self.plan_at, self.write, self.announce = plan_at, write, announce
        self.placeholders: dict[str, Placeholders] = {}
        self.reported: set[tuple[str, datetime]] = set()  # (series, start) already stored
        self.free: dict[tuple[str, str, datetime], int] = {}  # free node-equivalents at start
        self.recent: dict[str, list[EventReport]] = {}  # last reports per pool (the page)
        self.buffers: dict[str, CapacityBuffer] = {}  # buffer pools: their CapacityBuffer
        self.classes: dict[tuple[str, str, datetime], ClassTrack] = {}  # class-sized events
        self.stored: dict[str, list[EventReport]] = {}  # every kept report per pool
        self.autosize: dict[tuple[str, str, datetime], str] = {}  # what autosize said

    def restore(self) -> None:
        """At start: the last stored report of each pool back into the gauges."""
        for name, pool in self.settings.pools.items():
            try:
                stored = self.store.load(pool.deployment) if self.store else []
            except Exception as error:
                logger.warning("pool=%s cannot read its event reports: %s", name, error)
                self.metrics.error(Stage.REPORT, name)
                continue
            self.reported |= {r.key for r in stored}
            self.recent[name] = stored[-RECENT:]
            self.stored[name] = list(stored)
            if stored:
                self.metrics.observe_report(name, stored[-1])

    def after_round(self, plan: Plan, result: RoundResult, now: datetime) -> None:
        """After a round at ``now``. The first round also looks at the plan of ``now -
        settle``: occurrences that ended while the controller was down are still reported."""
        earlier = None
        if self.plan_at is not None:
            earlier, self.plan_at = self.plan_at(now - self.rs.settle), None
        for window in windows(plan, self.settings) + (
            windows(earlier, self.settings) if earlier else []
        ):
            if (window.series, window.start) in self.reported:
                continue
            if self.tracker.open(window):
                logger.info(
                    "pool=%s following %r (%s) for its event report",
                    window.pool,
                    window.title,
                    window.start.isoformat(),
                )
            self._free_at_start(window, result, now)
            self._follow_class(window, result, now)
        self.placeholders.update(self.observing.placeholders)
        self.buffers.update(self.observing.buffers)
        for name, pool in self.settings.pools.items():
            nodes = self.observing.nodes.get(frozenset(pool.node_selector.items()))
            if nodes is None and self.tracker.is_open(name):
                try:  # the event is over (target 0): reconcile read no nodes this round
                    nodes = self.observing.cluster.list_nodes(pool.node_selector)
                except Exception as error:
                    logger.warning("pool=%s event report: cannot list nodes: %s", name, error)
                    self.metrics.error(Stage.REPORT, name)
            if nodes is not None:
                self.tracker.nodes_seen(name, nodes, now)
        self.observing.nodes.clear()
        self.observing.placeholders.clear()
        self.observing.buffers.clear()
        for window in self.tracker.due(now, self.rs.settle):
            self._report(window, now)
        self.tracker.prune()

    def _free_at_start(self, window: Window, result: RoundResult, now: datetime) -> None:
        """The free room of the last round before the start (else of the first after it)."""
        key = (window.pool, window.series, window.start)
        free = next((d.free for d in result.pools if d.pool == window.pool), None)
        if free is not None and (now <= window.start or key not in self.free):
            self.free[key] = free

    def _follow_class(self, window: Window, result: RoundResult, now: datetime) -> None:
        """A class-sized event: fold this round's phase into its track (the report's class);
        remember what autosize said."""
        key = (window.pool, window.series, window.start)
        decision = next((d for d in result.pools if d.pool == window.pool), None)
        if decision is not None and decision.autosize:
            self.autosize[key] = decision.autosize
        if window.students and decision is not None and decision.seating is not None:
            self.classes[key] = follow(
                self.classes.get(key, ClassTrack(window.students)), decision.seating, now
            )

    def history(self, pool: str) -> list[EventReport]:
        """The pool's kept reports, oldest first (autosize learns from them)."""
        return self.stored.get(pool, [])

    def _report(self, window: Window, now: datetime) -> None:
        pool = self.settings.pools[window.pool]
        placeholders = self.placeholders.get(pool.deployment)
        records, nodes = self.tracker.snapshot(window.pool)
        key = (window.pool, window.series, window.start)
        free = self.free.pop(key, 0)
        track = self.classes.pop(key, None)
        report, waits = build(
            window,
            records,
            nodes,
            placeholders,
            settings=self.settings,
            rs=self.rs,
            now=now,
            free_at_start=free,
            seats_per_node=track.seats_per_node if track else 0,
        )
        report = replace(
            report,
            seated=as_report(track) if track else None,
            autosize=self.autosize.pop(key, None),
        )
        text = message(report)
        logger.info("pool=%s event report: %s", window.pool, text)
        self.metrics.observe_report(window.pool, report, waits)
        self.reported.add(report.key)
        self.recent[window.pool] = [*self.recent.get(window.pool, []), report][-RECENT:]
        self.stored[window.pool] = [*self.stored.get(window.pool, []), report][-self.rs.retention :]
        if not self.write:
            return
        if self.announce is not None:
            self.announce(window.pool, text, report)
        try:
            if self.store is not None:
                self.store.add(pool.deployment, report, self.rs.retention)
            buffer = self.buffers.get(pool.buffer)
            if pool.backend == "capacityBuffer" and buffer is not None:
                self.observing.cluster.record_buffer_event(  # type: ignore[attr-defined]
                    buffer, EVENT_REPORT.name, text, now
                )
            elif placeholders is not None:
                self.observing.cluster.record_event(placeholders, EVENT_REPORT.name, text, now)
        except Exception as error:
            logger.warning("pool=%s event report not stored: %s", window.pool, error)
            self.metrics.error(Stage.REPORT, window.pool)
