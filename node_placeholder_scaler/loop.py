"""A dumb loop around one reconcile round; it catches, logs, counts and goes on.

Each round: plan at ``now`` from the feeds' last good copies (refreshed in the background),
reconcile every pool, export metrics, update the probes. ``once`` makes one round; setting
``stop`` ends the loop between rounds. The ``run`` command (cli/run.py) builds the Controller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from . import planning
from .config.settings import Settings
from .decisions import RoundResult, Stage
from .feeds.book import CalendarBook, FeedRefresher
from .feeds.types import FeedStatus, FetchSink
from .metrics import Metrics
from .model import Plan
from .outages import Outages, WouldScale
from .port import ApiProbe, Clock, History, Notice, Notices, PlaceholderCluster, utc_now
from .problems.upcoming import UpcomingProblem, upcoming, window
from .problems.watch import ProblemWatch
from .reconcile import reconcile_once
from .server import Health

logger = logging.getLogger(__name__)


class Planner(Protocol):
    """The calendar side of a round (feeds.CalendarBook through BookPlanner, or a test's).
    The feeds are refreshed off the round, so a round only reads."""

    def plan(self, now: datetime) -> Plan: ...

    def feeds(self, now: datetime) -> Sequence[FeedStatus]: ...


class Leadership(Protocol):
    """leadership.Elector: may this replica write now?"""

    def is_leader(self) -> bool: ...


class PoolChecks(Protocol):
    """poolwatch.PoolWatch: the pool checks, now and then, each cause told once."""

    def maybe_run(self, now: datetime, *, leading: bool) -> object: ...


class BookPlanner:
    """feeds.CalendarBook as a Planner: refreshed in the background by a FeedRefresher, so a
    round only reads the last good copies and never waits on a feed server."""

    def __init__(
        self, settings: Settings, clock: Clock = utc_now, *, sink: FetchSink | None = None
    ) -> None:
        """``sink``: told each fetch's result as it happens (the metrics)."""
        self.settings = settings
        self.book = CalendarBook(settings, sink=sink)
        self.refresher = FeedRefresher(self.book, clock)

    def start(self, wait: float) -> None:
        """Start refreshing; wait up to ``wait`` seconds for every feed's first attempt."""
        self.refresher.start()
        self.refresher.loaded.wait(wait)

    def stop(self) -> None:
        self.refresher.stop()

    def load(self, now: datetime) -> None:
        """Refresh every feed now, in this thread (``run --once``)."""
        self.book.refresh(now, force=True)

    def plan(self, now: datetime) -> Plan:
        return planning.plan(self.book.views(now), self.settings, now)

    def upcoming(self, now: datetime) -> tuple[UpcomingProblem, ...]:
        """The problems of the occurrences in the default window at ``now``."""
        return upcoming(self.book.views(now), *window(now), self.settings)

    def feeds(self, now: datetime) -> list[FeedStatus]:
        return self.book.statuses(now)


@dataclass
class Controller:
    """Everything a round needs, built once by the ``run`` command (or by a test)."""

    settings: Settings
    cluster: PlaceholderCluster
    api: ApiProbe
    planner: Planner
    metrics: Metrics
    health: Health
    namespace: str
    dry_run: bool = False
    clock: Clock = utc_now
    after_round: Callable[[Plan, RoundResult, datetime], None] | None = None  # event reports
    leader: Leadership | None = None  # None: the only replica (no election), always writes
    notices: Notices | None = None  # None: no outage Events (tests that do not need them)
    outages: Outages = field(default_factory=Outages)
    would_scale: WouldScale = field(default_factory=WouldScale)  # a dry run's Events
    status: Callable[[Plan, RoundResult, datetime], None] | None = None  # the status page
    # the upcoming calendar problems (watch.current) and who was told; None: not watched
    watch: ProblemWatch | None = None
    pool_checks: PoolChecks | None = None  # None: no pool checks (run --once, tests)
    history: History | None = None  # each pool's stored event reports (autosize); None: none

    def round(self) -> RoundResult | None:
        """One round; never raises (except KeyboardInterrupt/SystemExit)."""
        started, now = time.monotonic(), self.clock()
        usage_before, answered_before = self.api.usage(), self.api.answered()
        try:
            self.metrics.observe_feeds(self.planner.feeds(now))
        except Exception:
            logger.exception("feed status failed")
            self.metrics.error(Stage.FEEDS)
        try:
            plan, result, leading = self._reconcile(now)
        except Exception:
            logger.exception("round failed")
            self.metrics.error(Stage.ROUND)
            return None
        if self.after_round is not None and leading:  # the leader reports (it writes them)
            self._guarded("event reports", self.after_round, plan, result, now)
        if self.status is not None:  # every replica serves its own page
            self._guarded("status page", self.status, plan, result, now)
        if self.pool_checks is not None:
            self._guarded("pool checks", self.pool_checks.maybe_run, now, leading=leading)
        self._account(result, started, usage_before, answered_before)
        return result

    def _reconcile(self, now: datetime) -> tuple[Plan, RoundResult, bool]:
        """Plan and reconcile (the leader only); the plan, the result, and whether it led."""
        plan = self.planner.plan(now)
        leading = self.leader is None or self.leader.is_leader()
        if self.watch is not None:  # kept every round, told (once) by the leader
            self._guarded(
                "upcoming problems", self.watch.round, now, leading=leading, dry_run=self.dry_run
            )
        if not leading:  # standby: no writes, and no calendar gauges (the leader's count)
            self.metrics.forget_calendar()
            return plan, RoundResult(now, self.dry_run, ()), False
        self.metrics.observe_plan(plan)
        result = reconcile_once(
            self.cluster,
            plan,
            self.settings,
            self.namespace,
            dry_run=self.dry_run,
            history=self.history,
        )
        notices = self.outages.observe(result)
        self._tell(self.would_scale.observe(result) if self.dry_run else notices, now)
        return plan, result, True

    def _guarded(self, what: str, call: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """One of the round's optional parts (reports, the status page, the problem watch,
        the pool checks): its failure is logged and counted, and the round goes on."""
        try:
            call(*args, **kwargs)
        except Exception:
            logger.exception("%s failed", what)
            self.metrics.error(Stage.ROUND)

    def _account(
        self, result: RoundResult, started: float, before: tuple[int, int], answered: int
    ) -> None:
        """The round's metrics (time, API use, API reachability) and the probes."""
        seconds = time.monotonic() - started
        requests, size = (now - then for now, then in zip(self.api.usage(), before, strict=True))
        self.metrics.observe_round(result, seconds, self.clock())
        api_ok = self.api.answered() > answered or self._check_api()
        self.metrics.observe_api(requests, size, up=api_ok)
        self.health.round_done(self.clock())
        logger.debug("round done in %.3fs: %s API requests, %s bytes", seconds, requests, size)

    def _tell(self, notices: list[Notice], now: datetime) -> None:
        """Write the outage Events (a dry run's: WouldScale); a failed write is counted."""
        if self.notices is None:
            return
        for notice in notices:
            try:
                self.notices.record_notice(self.namespace, notice, now)
            except Exception as error:
                logger.warning(
                    "pool=%s could not write the %s Event: %s", notice.pool, notice.reason, error
                )
                self.metrics.error(Stage.EVENT, notice.pool)

    def _check_api(self) -> bool:
        try:
            self.api.check()
        except Exception as error:
            logger.warning("Kubernetes API not reachable: %s", error)
            return False
        return True


def loop(controller: Controller, stop: threading.Event, *, once: bool) -> RoundResult | None:
    """Rounds every ``interval`` until ``stop`` is set; the last round's result."""
    interval = controller.settings.interval.total_seconds()
    result = None
    while not stop.is_set():
        started = time.monotonic()
        result = controller.round()
        if once:
            break
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    return result
