"""One round of the controller: gather -> plan -> diff -> apply, per pool.

``reconcile_once`` takes the calendar plan (computed by the caller at ``now``) and a cluster
(port.Cluster: kube.Kube in production, testkit/fakes.py in tests), and returns a RoundResult
saying what it decided and why; the loop logs it and exports it as metrics. Each pool is handed
to the backend its ``backend`` setting names (``BACKENDS``); one pool's failure is recorded in
its decision (with the stage that failed) and never stops the other pools.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from .backends import buffer, placeholders
from .backends.attempt import Backend
from .config.settings import PoolSettings, Settings
from .decisions import Action, PoolDecision, RoundResult
from .model import Plan, PoolTarget
from .port import History, PlaceholderCluster, RoundContext

logger = logging.getLogger(__name__)

BACKENDS: Mapping[str, Backend] = {
    "placeholders": placeholders.reconcile_pool,
    "capacityBuffer": buffer.reconcile_pool,
}


def reconcile_once(
    cluster: PlaceholderCluster,
    plan: Plan,
    settings: Settings,
    namespace: str,
    *,
    dry_run: bool = False,
    history: History | None = None,
) -> RoundResult:
    """One round over every configured pool, in config order; ``history``: each pool's stored
    event reports, for autosize."""
    context = RoundContext(cluster, namespace, plan.at, dry_run, history)
    decisions = []
    for name, pool in settings.pools.items():
        target = plan.pools.get(name)
        if target is None:
            target = PoolTarget(name, pool.min_replicas, None, False, (), known=False)
        decision = reconcile_pool(context, settings, pool, target)
        _log(decision, dry_run)
        decisions.append(decision)
    return RoundResult(plan.at, dry_run, tuple(decisions))


def reconcile_pool(
    context: RoundContext, settings: Settings, pool: PoolSettings, target: PoolTarget
) -> PoolDecision:
    """One pool: left alone while its target is unknown, else its backend's decision."""
    if not target.known:
        return PoolDecision(
            pool.name,
            pool.deployment,
            Action.LEFT_ALONE,
            target=target.target,
            occurrences=target.occurrences,
        )
    return BACKENDS[pool.backend](context, settings, pool, target)


def _log(decision: PoolDecision, dry_run: bool) -> None:
    prefix = "dry-run: would scale " if decision.action == Action.WOULD_SCALE else ""
    if decision.error or decision.event_error:
        logger.warning("%s%s", prefix, decision.log_line())
    elif decision.action in (Action.SCALED, Action.WOULD_SCALE):
        logger.info("%s%s", prefix, decision.log_line())
    else:
        logger.debug("%s", decision.log_line())
