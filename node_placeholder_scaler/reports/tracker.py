"""Event reports, live: the shell around reports/measurement.py and reports/advice.py in ``run``.

The pod watch (kube/podcache.py) tells the Tracker of every pod change (no extra API call);
each round tells it the active occurrences (the plan), the pools' nodes and placeholder
Deployments (what reconcile read, through ``Observing``). ``settle`` after an occurrence's end
the Reporter builds its report per pool and puts it where operators look: the store (a
ConfigMap per pool), a Kubernetes Event (reason EventReport) on the placeholder Deployment,
the metrics and one INFO log line.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..backends.capacitybuffers import CapacityBuffer
from ..config.sections import ReportSettings
from ..config.settings import Settings
from ..decisions import RoundResult, Stage
from ..model import Plan
from ..observed import NodeInfo, Placeholders, Resources
from ..planning import lead_for
from ..port import PlaceholderCluster
from ..reasons import EVENT_REPORT
from ..seating.autosize import series_of
from ..seating.track import ClassTrack, as_report, follow
from .advice import message, recommend, summary, users_per_node
from .measurement import arrivals, measure
from .record import EventReport
from .timelines import NodeTimeline, PodRecord, Window, selector_labels

logger = logging.getLogger(__name__)

RECENT = 3  # reports kept in memory per pool for the status page
MAX_RECORDS = 50_000  # pods remembered at once (a cluster's live pods and recent deletions)


class Observing:
    """A port.Cluster that remembers what this round's reconcile read (the nodes, the
    placeholder Deployments): the two reads are its own, everything else is the cluster's."""

    def __init__(self, cluster: PlaceholderCluster) -> None:
        self.cluster = cluster
        self.nodes: dict[frozenset[tuple[str, str]], list[NodeInfo]] = {}
        self.placeholders: dict[str, Placeholders] = {}
        self.buffers: dict[str, CapacityBuffer] = {}  # buffer pools: their CapacityBuffer

    def read_buffer(self, namespace: str, name: str) -> CapacityBuffer:
        found: CapacityBuffer = self.cluster.read_buffer(namespace, name)  # type: ignore[attr-defined]
        self.buffers[name] = found
        return found

    def read_placeholders(self, namespace: str, deployment: str) -> Placeholders:
        found = self.cluster.read_placeholders(namespace, deployment)
        self.placeholders[deployment] = found
        return found

    def list_nodes(self, node_selector: Mapping[str, str]) -> list[NodeInfo]:
        found = self.cluster.list_nodes(node_selector)
        self.nodes[frozenset(node_selector.items())] = found
        return found

    def __getattr__(self, name: str) -> Any:
        """Every other call of the cluster (the pods, the writes, a buffer pool's calls) goes
        straight through."""
        return getattr(self.cluster, name)


class Tracker:
    """Pod records (from the watch), node timelines and open occurrences. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, PodRecord] = {}
        self._nodes: dict[str, dict[str, NodeTimeline]] = {}
        self._open: dict[tuple[str, str, datetime], Window] = {}
        self.dropped = 0  # pod records not kept (MAX_RECORDS reached)

    def observe(self, uid: str, update: Callable[[PodRecord | None], PodRecord]) -> None:
        """The watch saw pod ``uid`` change: ``update(old record)`` is its new record."""
        with self._lock:
            old = self._records.get(uid)
            if old is None and len(self._records) >= MAX_RECORDS:
                self.dropped += 1
                return
            record = update(old)
            if record.deleted is not None and not self._open:
                self._records.pop(uid, None)  # nothing open needs a deleted pod
            else:
                self._records[uid] = record

    def open(self, window: Window) -> bool:
        key = (window.pool, window.series, window.start)
        with self._lock:
            new = key not in self._open
            self._open[key] = window
        return new

    def is_open(self, pool: str) -> bool:
        with self._lock:
            return any(w.pool == pool for w in self._open.values())

    def nodes_seen(self, pool: str, nodes: Sequence[NodeInfo], now: datetime) -> None:
        with self._lock:
            known = self._nodes.setdefault(pool, {})
            names = {n.name for n in nodes}
            for n in nodes:
                old = known.get(n.name)
                ready = (old.ready if old else None) or n.ready_since
                known[n.name] = NodeTimeline(n.name, n.created, ready)
            for name, old in list(known.items()):
                if name not in names and old.deleted is None:
                    known[name] = NodeTimeline(name, old.created, old.ready, now)

    def due(self, now: datetime, settle: timedelta) -> list[Window]:
        """Open occurrences whose end + settle has passed (closed by this call)."""
        with self._lock:
            done = [k for k, w in self._open.items() if now >= w.end + settle]
            return [self._open.pop(k) for k in done]

    def snapshot(self, pool: str) -> tuple[list[PodRecord], list[NodeTimeline]]:
        with self._lock:
            return list(self._records.values()), list(self._nodes.get(pool, {}).values())

    def prune(self) -> None:
        """Forget deleted pods and nodes no open occurrence can need."""
        with self._lock:
            oldest = min((w.opens for w in self._open.values()), default=None)
            for uid, r in list(self._records.items()):
                if r.deleted is not None and (oldest is None or r.deleted < oldest):
                    del self._records[uid]
            for known in self._nodes.values():
                for name, n in list(known.items()):
                    if n.deleted is not None and (oldest is None or n.deleted < oldest):
                        del known[name]


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
