"""One round of the controller: gather -> plan -> diff -> apply, per pool.

``reconcile_once`` takes the calendar plan (computed by the caller at ``now``) and a Cluster
(kube.Kube in production, tests/fake_kube.py in tests), and returns a RoundResult saying what
it decided and why; the loop logs it and exports it as metrics. One pool's failure is recorded
in its decision (with the stage that failed) and never stops the other pools.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from . import capacity
from .config.settings import PoolSettings, Settings
from .decisions import Action, PoolDecision, RoundResult, Stage, decision_message
from .model import Plan, PoolTarget
from .observed import ClusterError, NodeInfo, Placeholders, PodInfo
from .reasons import PLACEHOLDERS_SCALED
from .seating.autosize import Learned
from .seating.round import History, Warm, autosized, class_state

logger = logging.getLogger(__name__)



class Cluster(Protocol):
    """What a round needs of the cluster (kube.Kube implements it)."""

    def read_placeholders(self, namespace: str, deployment: str) -> Placeholders: ...

    def list_nodes(self, node_selector: Mapping[str, str]) -> list[NodeInfo]: ...

    def pods_on_nodes(self, nodes: Sequence[str]) -> dict[str, list[PodInfo]]: ...

    def scale(self, namespace: str, deployment: str, replicas: int) -> None: ...

    def record_event(
        self, placeholders: Placeholders, reason: str, message: str, now: datetime
    ) -> None: ...


@dataclass(frozen=True)
class RoundContext:
    cluster: Cluster
    settings: Settings
    namespace: str
    now: datetime
    dry_run: bool
    history: History | None = None  # a pool's stored event reports (autosize)


def reconcile_once(
    cluster: Cluster, plan: Plan, settings: Settings, namespace: str, *, dry_run: bool = False,
    history: History | None = None,
) -> RoundResult:
    """One round over every configured pool, in config order; ``history``: each pool's stored
    event reports, for autosize."""
    context = RoundContext(cluster, settings, namespace, plan.at, dry_run, history)
    decisions = []
    for name, pool in settings.pools.items():
        target = plan.pools.get(name)
        if target is None:
            target = PoolTarget(name, pool.min_replicas, None, False, (), known=False)
        decision = reconcile_pool(context, pool, target)
        _log(decision, dry_run)
        decisions.append(decision)
    return RoundResult(plan.at, dry_run, tuple(decisions))


def reconcile_pool(context: RoundContext, pool: PoolSettings, target: PoolTarget) -> PoolDecision:
    """Gather, decide and apply for one pool; never raises for cluster errors."""
    cluster, namespace = context.cluster, context.namespace
    base = PoolDecision(
        pool.name,
        pool.deployment,
        Action.LEFT_ALONE,
        target=target.target,
        occurrences=target.occurrences,
    )
    if not target.known:
        return base
    if pool.backend == "capacityBuffer":
        from .backends.buffer import reconcile_buffer_pool  # backends builds on this module's types

        return reconcile_buffer_pool(context, pool, target)
    target, learned, sized = autosized(context.history, pool, target)
    stage = Stage.DEPLOYMENT
    try:
        placeholders = cluster.read_placeholders(namespace, pool.deployment)
        decision = _replace(_decide(context, pool, target, placeholders), autosize=sized)
        if target.classes:
            decision = _seat(context, pool, target, placeholders, decision, learned)
        if decision.desired == decision.current:
            return decision
        if context.dry_run:
            return _replace(decision, action=Action.WOULD_SCALE)
        stage = Stage.SCALE
        assert decision.desired is not None
        cluster.scale(namespace, pool.deployment, decision.desired)
        decision = _replace(decision, action=Action.SCALED)
        stage = Stage.EVENT
        cluster.record_event(placeholders, PLACEHOLDERS_SCALED.name, decision_message(decision),
                             context.now)
        return decision
    except ClusterError as error:
        if isinstance(error, _Staged):
            stage = error.stage
        return _failed(base, decision if stage == Stage.EVENT else None, stage, str(error))
    except Exception as error:  # a bug must not stop the other pools
        logger.exception("pool=%s stage=%s unexpected error", pool.name, stage)
        return _failed(base, None, stage, f"{type(error).__name__}: {error}")


def _decide(
    context: RoundContext, pool: PoolSettings, target: PoolTarget, placeholders: Placeholders
) -> PoolDecision:
    cluster, settings, now = context.cluster, context.settings, context.now
    current = placeholders.replicas
    base = PoolDecision(
        pool.name,
        pool.deployment,
        Action.UNCHANGED,
        target=target.target,
        current=current,
        pending=placeholders.pending,
        occurrences=target.occurrences,
    )
    if target.target == 0:  # nothing to subtract headroom from: spare the node and pod reads
        return _replace(base, desired=0)
    try:
        nodes = cluster.list_nodes(pool.node_selector)
    except ClusterError as error:
        raise _Staged(Stage.NODES, error) from None
    screened = capacity.screen(nodes, placeholders, settings.headroom, now)
    try:
        pods = cluster.pods_on_nodes(screened.candidates)
    except ClusterError as error:
        raise _Staged(Stage.PODS, error) from None
    room = capacity.headroom(nodes, pods, placeholders, settings.headroom, now, screened=screened)
    desired = capacity.desired_replicas(target.target, room.free, current, room.pending)
    return _replace(base, free=room.free, desired=desired, nodes=len(nodes), eligible=room.eligible)


def _seat(context: RoundContext, pool: PoolSettings, target: PoolTarget,  # noqa: PLR0917
          placeholders: Placeholders, decided: PoolDecision, learned: Learned | None
          ) -> PoolDecision:
    """Add the warm placeholders the pool's classes want (seating/round.py) to the node form's."""
    nodes = decided.desired or 0
    names = frozenset(p.name for p in placeholders.pods)
    warm = Warm(max(0, placeholders.replicas - nodes), placeholders.requests,
                placeholders.tolerations, names)
    try:
        state = class_state(context.cluster, context.settings, pool, target, warm=warm,
                            now=context.now, learned=learned)
    except ClusterError as error:
        raise _Staged(Stage.NODES, error) from None
    desired = min(pool.max_replicas, nodes + state.warm)
    return _replace(decided, desired=desired, seating=state)


class _Staged(ClusterError):
    """A ClusterError from a later gather stage, carrying that stage."""

    def __init__(self, stage: Stage, error: ClusterError) -> None:
        super().__init__(error.action, error.status, error.reason)
        self.stage = stage


def _failed(
    base: PoolDecision, decided: PoolDecision | None, stage: Stage, message: str
) -> PoolDecision:
    if decided is not None:  # scaled; only the Event failed
        return _replace(decided, event_error=message, stage=Stage.EVENT)
    return _replace(base, action=Action.ERROR, stage=stage, error=message)


def _replace(decision: PoolDecision, **changes: object) -> PoolDecision:
    return replace(decision, **changes)  # type: ignore[arg-type]


def _log(decision: PoolDecision, dry_run: bool) -> None:
    prefix = "dry-run: would scale " if decision.action == Action.WOULD_SCALE else ""
    if decision.error or decision.event_error:
        logger.warning("%s%s", prefix, decision.log_line())
    elif decision.action in (Action.SCALED, Action.WOULD_SCALE):
        logger.info("%s%s", prefix, decision.log_line())
    else:
        logger.debug("%s", decision.log_line())
