"""``run``: a dumb loop around one reconcile round; it catches, logs, counts and goes on.

Each round: refresh the feeds that are due (the CalendarBook decides), plan at ``now``,
reconcile every pool, export metrics, update the probes. ``--once`` makes one round;
SIGTERM/SIGINT end the loop between rounds.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Protocol

from .metrics import FeedStatus, Metrics
from .model import Plan
from .reconcile import Cluster, RoundResult, reconcile_once
from .server import Clock, Health, Server, utc_now
from .settings import Settings

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_ERRORS, EXIT_CONFIG = 0, 1, 2


class Planner(Protocol):
    """The calendar side of a round (feeds.CalendarBook through BookPlanner, or a test's)."""

    def refresh(self, now: datetime) -> None: ...

    def plan(self, now: datetime) -> Plan: ...

    def feeds(self, now: datetime) -> Sequence[FeedStatus]: ...


class ApiProbe(Protocol):
    """API usage counters and a reachability check (kube.Kube)."""

    def answered(self) -> int: ...

    def usage(self) -> tuple[int, int]: ...

    def check(self) -> None: ...


class BookPlanner:
    """feeds.CalendarBook as a Planner."""

    def __init__(self, settings: Settings) -> None:
        from .feeds import CalendarBook

        self.settings = settings
        self.book = CalendarBook(settings)

    def refresh(self, now: datetime) -> None:
        self.book.refresh(now)

    def plan(self, now: datetime) -> Plan:
        return self.book.plan(now)

    def feeds(self, now: datetime) -> list[FeedStatus]:
        return [
            FeedStatus(
                name=s.name,
                ok=s.usable(now, self.settings.max_staleness),
                last_success=s.last_success,
                staleness_seconds=s.staleness(now),
                last_result=s.last_result,
                last_attempt=s.last_attempt,
            )
            for s in self.book.states()
        ]


@dataclass
class Controller:
    """Everything a round needs, built once by run_main (or by a test)."""

    settings: Settings
    cluster: Cluster
    api: ApiProbe
    planner: Planner
    metrics: Metrics
    health: Health
    namespace: str
    dry_run: bool = False
    clock: Clock = utc_now

    def round(self) -> RoundResult | None:
        """One round; never raises (except KeyboardInterrupt/SystemExit)."""
        started, now = time.monotonic(), self.clock()
        requests_before, bytes_before = self.api.usage()
        answered_before = self.api.answered()
        try:
            self.planner.refresh(now)
        except Exception:
            logger.exception("feed refresh failed")
            self.metrics.error("feeds")
        try:
            feeds = self.planner.feeds(now)
            self.metrics.observe_feeds(feeds)
            plan = self.planner.plan(now)
            self.metrics.observe_plan(plan)
            result = reconcile_once(
                self.cluster, plan, self.settings, self.namespace, dry_run=self.dry_run
            )
        except Exception:
            logger.exception("round failed")
            self.metrics.error("round")
            return None
        seconds = time.monotonic() - started
        requests, size = self.api.usage()
        self.metrics.observe_round(result, seconds, self.clock())
        self.metrics.observe_api(requests - requests_before, size - bytes_before)
        api_ok = self.api.answered() > answered_before or self._check_api()
        self.health.round_done(self.clock(), api_ok=api_ok, feeds_ok=all(f.ok for f in feeds))
        logger.debug(
            "round done in %.3fs: %s API requests, %s bytes",
            seconds,
            requests - requests_before,
            size - bytes_before,
        )
        return result

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


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s: stopping after this round", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def missing_selectors(settings: Settings) -> list[str]:
    return [name for name, pool in settings.pools.items() if not pool.node_selector]


def run_main(settings: Settings, *, once: bool, dry_run: bool, kubeconfig: str | None) -> int:
    """``node-placeholder-scaler run``; returns the exit code."""
    from . import kube

    missing = missing_selectors(settings)
    if missing:
        print(
            f"error: bad configuration: {settings.path}: pools.{missing[0]}.nodeSelector: "
            "is required for run",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        client = kube.Kube(kube.load_api_client(kubeconfig))
    except Exception as error:
        print(f"error: cannot load the Kubernetes client configuration: {error}", file=sys.stderr)
        return EXIT_CONFIG
    namespace = settings.namespace or kube.default_namespace()
    metrics = Metrics()
    metrics.initialise(list(settings.pools), [c.name for c in settings.calendars])
    health = Health(settings.interval, utc_now())
    controller = Controller(
        settings, client, client, BookPlanner(settings), metrics, health, namespace, dry_run
    )
    logger.info(
        "starting: namespace=%s pools=%s calendars=%s interval=%ss dry_run=%s once=%s",
        namespace,
        ",".join(settings.pools),
        ",".join(c.name for c in settings.calendars),
        settings.interval.total_seconds(),
        dry_run,
        once,
    )
    stop = threading.Event()
    install_signal_handlers(stop)
    server = (
        None
        if once
        else Server(
            settings.metrics_port, metrics.registry, health, utc_now, host=settings.metrics_address
        ).start()
    )
    if not once:
        cache = client.start_pod_cache()
        cache.synced.wait(timeout=min(30.0, settings.interval.total_seconds()))
    try:
        result = loop(controller, stop, once=once)
    finally:
        client.stop_pod_cache()
        if server is not None:
            server.stop()
    logger.info("stopped")
    if once and (result is None or result.errors()):
        return EXIT_ERRORS
    return EXIT_OK
