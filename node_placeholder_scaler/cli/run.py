"""``run``: build the controller once (client, metrics, probes, pod cache) and loop.

SIGTERM/SIGINT end the loop between rounds. Exit 0; 1 when ``--once`` made a round with
errors; 2 for a configuration the loop cannot run with.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from ..config.settings import ConfigError, Settings
from ..leadership import Elector, GatedCluster, identity
from ..loop import BookPlanner, Controller, loop
from ..metrics import Metrics
from ..port import Notices, utc_now
from ..preflight.pools import pool_check
from ..preflight.watch import PoolWatch
from ..problems.notifications import Notifier, notifier_for
from ..problems.watch import ProblemWatch
from ..reports.reporter import Reporter
from ..reports.tracker import Observing, Tracker
from ..server import Health, Server, StatusBoard
from .common import CommandError, Exit, load_client, pool_reads

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from ..decisions import RoundResult
    from ..kube import Kube
    from ..model import Plan
    from ..port import PlaceholderCluster

logger = logging.getLogger(__name__)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="make one round and exit")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write no replicas; say what would change (log, WouldScale Events, metrics)",
    )
    parser.add_argument(
        "--kubeconfig", help="kubeconfig file (default: in-cluster, then KUBECONFIG)"
    )


def missing_selectors(settings: Settings) -> list[str]:
    """Pools without a nodeSelector (``run`` needs one per pool to find its nodes)."""
    return [name for name, pool in settings.pools.items() if not pool.node_selector]


@dataclass
class Parts:
    """What ``run`` builds once and stops at the end."""

    client: Kube
    controller: Controller
    planner: BookPlanner
    reporter: Reporter | None
    elector: Elector | None
    notifier: Notifier | None = None
    server: Server | None = None
    board: StatusBoard | None = None  # the status page (not with --once)


def command(settings: Settings, args: argparse.Namespace) -> int:
    missing = missing_selectors(settings)
    if missing:
        key = f"pools.{missing[0]}.nodeSelector"
        error = ConfigError(settings.path, key, "is required for run")
        raise CommandError(f"bad configuration: {error}", Exit.CONFIG)
    parts = build(settings, args, load_client(args.kubeconfig, args.context))
    stop = threading.Event()
    install_signal_handlers(stop)
    try:
        start(settings, parts, once=args.once)
        result = loop(parts.controller, stop, once=args.once)
    finally:
        shut_down(parts)
    logger.info("stopped")
    if args.once and (result is None or result.errors()):
        return Exit.PROBLEMS
    return Exit.OK


def build(settings: Settings, args: argparse.Namespace, client: Kube) -> Parts:
    """The controller and what it needs: metrics, probes, feeds, the Lease, the reports."""
    # lazy: the kubernetes client loads slowly; every command imports this module
    from .. import kube

    namespace = settings.namespace or kube.default_namespace()
    metrics = Metrics()
    metrics.initialise(
        list(settings.pools),
        [c.name for c in settings.calendars],
        [p for p, s in settings.pools.items() if s.backend == "capacityBuffer"],
    )
    health = Health(settings.interval, utc_now())
    planner = BookPlanner(settings, sink=metrics)
    # --dry-run writes nothing: it never takes the Lease from a running controller
    elector = (
        None
        if args.dry_run
        else campaign(settings, client, namespace, metrics, health, once=args.once)
    )
    gated = client if elector is None else GatedCluster(client, elector.is_leader)
    notifier = None if args.dry_run else notifier_for(settings, metrics)
    reporter = (
        None
        if args.once
        else reports_for(
            settings, client, namespace, metrics, planner, cluster=gated, dry_run=args.dry_run
        )
    )
    if reporter is not None and notifier is not None:
        reporter.announce = notifier.report
    cluster = reporter.observing if reporter else gated
    controller = Controller(
        settings,
        cluster,
        client,
        planner,
        metrics,
        health,
        namespace,
        args.dry_run,
        after_round=reporter.after_round if reporter else None,
        leader=elector,
        history=reporter.history if reporter else None,
        notices=gated,
        watch=ProblemWatch(
            settings,
            planner.upcoming,
            metrics,
            events=gated,
            namespace=namespace,
            announcer=notifier,
        ),
        pool_checks=None
        if args.once
        else pool_watch(settings, client, namespace, gated, metrics, dry_run=args.dry_run),
    )
    board = None
    if not args.once:
        board = StatusBoard()
        controller.status = status_page(
            settings, planner, reporter, elector, board, watch=controller.watch
        )
    logger.info(
        "starting: namespace=%s pools=%s calendars=%s interval=%ss dry_run=%s once=%s",
        namespace,
        ",".join(settings.pools),
        ",".join(c.name for c in settings.calendars),
        settings.interval.total_seconds(),
        args.dry_run,
        args.once,
    )
    return Parts(client, controller, planner, reporter, elector, notifier, board=board)


def status_page(
    settings: Settings,
    planner: BookPlanner,
    reporter: Reporter | None,
    elector: Elector | None,
    board: StatusBoard,
    *,
    watch: ProblemWatch | None,
) -> Callable[[Plan, RoundResult, datetime], None]:
    """The round hook that renders this replica's status page onto ``board``: problems to
    fix are the plan's of no event (feeds, clamps) and the upcoming ones ``watch`` keeps."""
    # lazy: Jinja2 loads only when the status page is on
    from ..status.page import render
    from ..status.view import StatusInputs, build_status

    def publish(plan: Plan, result: RoundResult, now: datetime) -> None:
        problems = [p for p in plan.problems if p.event is None]
        problems += [u.as_problem() for u in (watch.current if watch else ())]
        view = build_status(
            StatusInputs(
                settings,
                now,
                planner.book.views(now),
                problems,
                result.pools,
                planner.feeds(now),
                reporter.recent if reporter else None,
                elector.role() if elector else "",
            )
        )
        board.publish(render(view))

    return publish


def start(settings: Settings, parts: Parts, *, once: bool) -> None:
    """Load the feeds once (``--once``), or serve the probes and start the pod cache and the
    feed refresher; then wait for the Lease's first step."""
    reporter = parts.reporter
    if once or reporter is None:  # --once builds no reporter
        parts.planner.load(utc_now())
    else:
        controller, wait = parts.controller, min(30.0, settings.interval.total_seconds())
        parts.server = Server(
            settings.metrics_port,
            controller.metrics.registry,
            controller.health,
            utc_now,
            host=settings.metrics_address,
            board=parts.board,
        )
        parts.server.start()
        reporter.restore()
        # lazy: the kubernetes client loads slowly; every command imports this module
        from ..kube.reports import listener

        cache = parts.client.start_pod_cache(listener(reporter.tracker.observe, utc_now))
        parts.planner.start(wait=wait)
        cache.synced.wait(timeout=wait)
    if parts.elector is not None:  # a fresh start (or a released Lease) leads from round one
        parts.elector.wait_first_step(settings.leader_election.renew_deadline.total_seconds())


def shut_down(parts: Parts) -> None:
    if parts.elector is not None:
        parts.elector.stop(release=True)  # the loop has ended: no write is in flight
    parts.planner.stop()
    if parts.notifier is not None:
        parts.notifier.stop()
    parts.client.stop_pod_cache()
    if parts.server is not None:
        parts.server.stop()


def reports_for(
    settings: Settings,
    client: Kube,
    namespace: str,
    metrics: Metrics,
    planner: BookPlanner,
    *,
    cluster: PlaceholderCluster,
    dry_run: bool,
) -> Reporter:
    """The event reports of ``run`` (docs/operations/event-reports.md); ``cluster``: the
    leader-gated client (only the leader reports, see loop.Controller)."""
    # lazy: the kubernetes client loads slowly; every command imports this module
    from ..kube.reports import ReportStore

    return Reporter(
        settings,
        settings.reports,
        Tracker(),
        Observing(cluster),
        store=ReportStore(client.core, namespace),
        metrics=metrics,
        plan_at=planner.plan,
        write=not dry_run,
    )


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s: stopping after this round", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def campaign(
    settings: Settings,
    client: Kube,
    namespace: str,
    metrics: Metrics,
    health: Health,
    *,
    once: bool,
) -> Elector:
    """Campaign for the Lease beside the placeholder Deployments it guards: in a thread for
    ``run``; one attempt for ``run --once``, which fails when another replica leads."""
    # lazy: the kubernetes client loads slowly; every command imports this module
    from ..kube.leases import KubeLeases

    election = settings.leader_election
    # each Lease request is bounded by half the renew deadline, so a hung request never
    # outlasts the leader's right to write
    store = KubeLeases(
        client.core.api_client,
        namespace,
        election.lease_name,
        timeout=election.renew_deadline.total_seconds() / 2,
    )
    candidate = Elector(store, identity(), election)
    client.instance = candidate.identity  # Events name the replica that wrote them
    metrics.leader.set_function(lambda: float(candidate.is_leader()))
    health.role = candidate.role
    lease = candidate.store.describe()
    logger.info("leader election: %s campaigns for lease %s", candidate.identity, lease)
    if not once:
        return candidate.start()
    candidate.step()
    if not candidate.is_leader():
        holder = candidate.holder() or "another controller"
        raise CommandError(
            f"{holder} holds the Lease {lease}: run --once writes nothing beside a running "
            "controller (use --dry-run to see its decisions)",
            Exit.PROBLEMS,
        )
    return candidate


def pool_watch(
    settings: Settings,
    client: Kube,
    namespace: str,
    notices: Notices,
    metrics: Metrics,
    *,
    dry_run: bool,
) -> PoolWatch:
    """The controller's pool checks (preflight/watch.py), reading through the client."""
    # lazy: the kubernetes client loads slowly; every command imports this module
    from ..kube.clusterfacts import pool_reading

    pools = pool_reads(settings)
    return PoolWatch(
        settings,
        namespace,
        lambda: pool_check(pool_reading(client, pools, namespace)),
        notices,
        metrics,
        dry_run=dry_run,
    )
