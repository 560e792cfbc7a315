"""Prometheus metrics (prefix ``node_placeholder_``) on an injectable registry.

Labels are bounded: pool, calendar (the configured name), result, kind, stage, direction.
Never event titles, UIDs or feed URLs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .backends.buffer_metrics import BufferMetrics
from .decisions import POOL_STAGES, ROUND_STAGES, Action, Direction, RoundResult, Stage
from .feeds.types import FeedStatus, FetchResult
from .model import Plan, ProblemKind
from .preflight.pools import CHECKS
from .reports.record import EventReport
from .seating.metrics import ClassMetrics

PREFIX = "node_placeholder_"
FETCH_RESULTS = tuple(result.value for result in FetchResult)
UPCOMING_KINDS = (
    ProblemKind.UNKNOWN_POOL,
    ProblemKind.NEAR_MISS,
    ProblemKind.BAD_VALUE,
    ProblemKind.BAD_LEAD,
    ProblemKind.DUPLICATE,
    ProblemKind.BAD_TEXT,
    ProblemKind.NOT_ALLOWED,
)  # the kinds an occurrence's text can have
NOTIFICATION_KINDS, NOTIFICATION_RESULTS = ("problem", "report"), ("sent", "failed", "dropped")
WAIT_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1200)  # user waits (event reports)


class Metrics:
    """Every metric of the controller; ``observe_*`` export what a round saw and decided."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._pool_metrics()
        self._feed_metrics()
        self._round_metrics()
        self._report_metrics()
        self.buffers = BufferMetrics(self.registry)  # buffer pools' CapacityBuffer conditions
        self.classes = ClassMetrics(self.registry)  # class-sized requests: phase and seats

    def _gauge(self, name: str, text: str, *labels: str) -> Gauge:
        return Gauge(f"{PREFIX}{name}", text, labels, registry=self.registry)

    def _counter(self, name: str, text: str, *labels: str) -> Counter:
        return Counter(f"{PREFIX}{name}", text, labels, registry=self.registry)

    def _pool_metrics(self) -> None:
        self.target = self._gauge("calendar_target", "Calendar target (warm nodes)", "pool")
        self.headroom = self._gauge("headroom_nodes", "Free node-equivalents in the pool", "pool")
        self.desired = self._gauge("desired_replicas", "Placeholder replicas wanted", "pool")
        self.current = self._gauge("current_replicas", "Placeholder replicas seen", "pool")
        self.pending = self._gauge(
            "pending_placeholders", "Placeholder pods waiting for a node", "pool"
        )
        self.active = self._gauge("active_events", "Active calendar events naming the pool", "pool")
        self.next_start = self._gauge(
            "next_event_start_timestamp_seconds",
            "Start (minus lead) of the next event naming the pool",
            "pool",
        )
        self.patches = self._counter("scale_patches", "Scale patches", "pool", "direction")
        self.would_scale = self._gauge(
            "would_scale", "Dry run: 1 when the last round would have scaled the pool", "pool"
        )

    def _feed_metrics(self) -> None:
        self.fetches = self._counter("feed_fetches", "Feed fetches by result", "calendar", "result")
        self.feed_ok = self._gauge("feed_up", "1 when the feed has a usable good copy", "calendar")
        self.last_success = self._gauge(
            "feed_last_success_timestamp_seconds", "Time of the last good fetch", "calendar"
        )
        self.staleness = self._gauge("feed_staleness_seconds", "Age of the copy in use", "calendar")
        self.problems = self._gauge("problems", "Problems in the current plan by kind", "kind")
        self.pool_findings = self._gauge(
            "pool_findings",
            "Pool checks: 1 while the check finds why the pool would not "
            "scale (selector, too-big, limit)",
            "pool",
            "check",
        )
        self.upcoming = self._gauge(
            "upcoming_problems",
            "Problems of the occurrences from now - 1h to 14 days ahead (the leader only)",
            "calendar",
            "kind",
        )
        self.notifications = self._counter(
            "notifications",
            "Webhook messages by kind (problem, report) and result",
            "kind",
            "result",
        )

    def _round_metrics(self) -> None:
        self.duration = Histogram(
            f"{PREFIX}reconcile_duration_seconds",
            "Time of one round",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        self.errors = self._counter("errors", "Errors by stage", "stage", "pool")
        self.last_round = self._gauge("last_round_timestamp_seconds", "End of the last round")
        self.api_requests = self._counter("api_requests", "Kubernetes API requests")
        self.api_bytes = self._counter("api_response_bytes", "Kubernetes API bytes read")
        self.api_up = self._gauge(
            "api_up", "1 when the Kubernetes API answered during the last round"
        )
        self.leader = self._gauge("leader", "1 while this replica holds the Lease (it writes)")
        self.leader.set(1)  # no election (run --once): this process is the writer

    def _report_metrics(self) -> None:
        self.user_wait = Histogram(
            f"{PREFIX}user_wait_seconds",
            "Wait of each user pod that arrived during an event, to PodScheduled (event reports)",
            ["pool"],
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        self.ready_in_time = self._gauge(
            "capacity_ready_in_time",
            "Last event report: 1 when the warm capacity was ready in time, else 0",
            "pool",
        )
        self.recommended = self._gauge(
            "recommended_nodes",
            "Last event report: warm nodes advised for the next occurrence",
            "pool",
        )

    def observe_plan(self, plan: Plan) -> None:
        for name, target in plan.pools.items():
            self.target.labels(name).set(target.target)
            self.active.labels(name).set(len(target.occurrences))
        for name, start in plan.next_start.items():
            if start is None:
                _remove(self.next_start, name)
            else:
                self.next_start.labels(name).set(start.timestamp())
        counts = dict.fromkeys(ProblemKind, 0)
        for problem in plan.problems:
            counts[problem.kind] += 1
        for kind, count in counts.items():
            self.problems.labels(kind).set(count)

    def observe_upcoming(
        self, counts: Mapping[tuple[str, ProblemKind], int], calendars: Sequence[str]
    ) -> None:
        """Every (calendar, kind) of the description vocabulary is set, zero when clear."""
        for calendar in calendars:
            for kind in UPCOMING_KINDS:
                self.upcoming.labels(calendar, kind).set(counts.get((calendar, kind), 0))

    def forget_calendar(self) -> None:
        """A standby (or a replica that lost the Lease) exports no calendar gauges: only the
        leader's count, so that sums and alerts see each problem once and none stays stale."""
        for gauge in (self.target, self.active, self.next_start, self.problems, self.upcoming):
            gauge.clear()

    def observe_round(self, result: RoundResult, seconds: float, now: datetime) -> None:
        self.duration.observe(seconds)
        self.last_round.set(now.timestamp())
        for decision in result.pools:
            for gauge, value in (
                (self.headroom, decision.free),
                (self.desired, decision.desired),
                (self.current, decision.current),
            ):
                if value is not None:
                    gauge.labels(decision.pool).set(value)
            self.pending.labels(decision.pool).set(decision.pending)
            if decision.error and decision.stage:
                self.error(decision.stage, decision.pool)
            if decision.event_error:
                self.error(Stage.EVENT, decision.pool)
            if decision.action == Action.SCALED and decision.direction:
                self.patches.labels(decision.pool, decision.direction).inc()
            if result.dry_run:
                would = decision.action == Action.WOULD_SCALE
                self.would_scale.labels(decision.pool).set(1 if would else 0)
            if decision.buffer is not None:
                self.buffers.observe(decision.pool, decision.buffer)
            if decision.action != Action.LEFT_ALONE:
                self.classes.observe(decision.pool, decision.seating)

    def observe_report(self, pool: str, report: EventReport, waits: Sequence[float] = ()) -> None:
        """An event report; ``waits``: its arrivals' waits (empty when restored from the store
        after a restart)."""
        for wait in waits:
            self.user_wait.labels(pool).observe(wait)
        self.ready_in_time.labels(pool).set(1 if report.capacity_ready_in_time else 0)
        nodes = report.advice.nodes
        if nodes is None:
            _remove(self.recommended, pool)
        else:
            self.recommended.labels(pool).set(nodes)

    def error(self, stage: Stage, pool: str = "") -> None:
        self.errors.labels(stage, pool).inc()

    def observe_feeds(self, states: Sequence[FeedStatus]) -> None:
        """The feed gauges (the fetches are counted as they happen: ``fetched``)."""
        for state in states:
            self.feed_ok.labels(state.name).set(1 if state.ok else 0)
            if state.last_success is not None:
                self.last_success.labels(state.name).set(state.last_success.timestamp())
            if state.staleness_seconds is not None:
                self.staleness.labels(state.name).set(state.staleness_seconds)

    def fetched(self, calendar: str, result: FetchResult) -> None:
        """One fetch of a feed and its result (feeds.types.FetchSink; thread-safe)."""
        self.fetches.labels(calendar, result.value).inc()

    def observe_pool_findings(self, pools: Sequence[str], found: Iterable[tuple[str, str]]) -> None:
        """The pool checks' last result: every (pool, check) series, 1 where found."""
        present = set(found)
        for pool in pools:
            for check in CHECKS:
                self.pool_findings.labels(pool, check).set(1 if (pool, check) in present else 0)

    def observe_api(self, requests: int, size: int, *, up: bool) -> None:
        self.api_requests.inc(requests)
        self.api_bytes.inc(size)
        self.api_up.set(1 if up else 0)

    def initialise(
        self, pools: Sequence[str], calendars: Sequence[str], buffer_pools: Sequence[str] = ()
    ) -> None:
        """Create the labelled series up front so dashboards see zeros, not gaps."""
        self.buffers.initialise(buffer_pools)
        self.classes.initialise(pools)
        for kind in ProblemKind:
            self.problems.labels(kind)
        self.observe_upcoming({}, calendars)
        for sort in NOTIFICATION_KINDS:
            for outcome in NOTIFICATION_RESULTS:
                self.notifications.labels(sort, outcome)
        for stage in ROUND_STAGES:
            self.errors.labels(stage, "")
        for pool in pools:
            for direction in Direction:
                self.patches.labels(pool, direction)
            for stage in POOL_STAGES:
                self.errors.labels(stage, pool)
            self.user_wait.labels(pool)
            for check in CHECKS:
                self.pool_findings.labels(pool, check).set(0)
        for calendar in calendars:
            for result in FETCH_RESULTS:
                self.fetches.labels(calendar, result)


def _remove(gauge: Gauge, *labels: str) -> None:
    with contextlib.suppress(KeyError):
        gauge.remove(*labels)
