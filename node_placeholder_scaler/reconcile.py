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
from .model import Plan, PoolTarget
from .observed import ClusterError, NodeInfo, Placeholders, PodInfo
from .settings import PoolSettings, Settings

logger = logging.getLogger(__name__)

REASON = "PlaceholdersScaled"
STAGES = ("plan", "deployment", "nodes", "pods", "scale", "event")


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
class PoolDecision:
    """What a round decided for one pool.

    action: ``scaled`` (patched), ``would-scale`` (dry run), ``unchanged``, ``left-alone`` (no
    good copy of a feed that may name the pool), ``error`` (see ``stage`` and ``error``).
    """

    pool: str
    deployment: str
    action: str
    target: int | None = None
    free: int | None = None  # free node-equivalents; None when not measured
    desired: int | None = None
    current: int | None = None
    pending: int = 0
    nodes: int | None = None  # nodes of the pool
    eligible: int | None = None  # nodes that could count as headroom
    events: tuple[str, ...] = ()
    stage: str | None = None
    error: str | None = None
    event_error: str | None = None  # scaled, but the Kubernetes Event could not be created

    @property
    def direction(self) -> str | None:
        if self.desired is None or self.current is None or self.desired == self.current:
            return None
        return "up" if self.desired > self.current else "down"

    def log_line(self) -> str:
        events = "; ".join(self.events).replace('"', "'")
        line = (
            f"pool={self.pool} target={_show(self.target)} free={_show(self.free)} "
            f'desired={_show(self.desired)} current={_show(self.current)} events="{events}" '
            f"pending={self.pending} action={self.action}"
        )
        if self.error:
            line += f' stage={self.stage} error="{self.error}"'
        return line


@dataclass(frozen=True)
class RoundResult:
    at: datetime
    dry_run: bool
    pools: tuple[PoolDecision, ...]

    def errors(self) -> list[PoolDecision]:
        return [d for d in self.pools if d.error or d.event_error]


def _show(value: int | None) -> str:
    return "-" if value is None else str(value)


@dataclass(frozen=True)
class RoundContext:
    cluster: Cluster
    settings: Settings
    namespace: str
    now: datetime
    dry_run: bool


def reconcile_once(
    cluster: Cluster, plan: Plan, settings: Settings, namespace: str, *, dry_run: bool = False
) -> RoundResult:
    """One round over every configured pool, in config order."""
    context = RoundContext(cluster, settings, namespace, plan.at, dry_run)
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
        "left-alone",
        target=target.target,
        events=target.event_names,
    )
    if not target.known:
        return base
    stage = "deployment"
    try:
        placeholders = cluster.read_placeholders(namespace, pool.deployment)
        decision = _decide(context, pool, target, placeholders)
        if decision.desired == decision.current:
            return decision
        if context.dry_run:
            return _replace(decision, action="would-scale")
        stage = "scale"
        assert decision.desired is not None
        cluster.scale(namespace, pool.deployment, decision.desired)
        decision = _replace(decision, action="scaled")
        stage = "event"
        cluster.record_event(placeholders, REASON, event_message(decision), context.now)
        return decision
    except ClusterError as error:
        if isinstance(error, _Staged):
            stage = error.stage
        return _failed(base, decision if stage == "event" else None, stage, str(error))
    except Exception as error:  # a bug must not stop the other pools
        logger.exception("pool=%s stage=%s unexpected error", pool.name, stage)
        return _failed(base, None, stage, f"{type(error).__name__}: {error}")


def _decide(
    context: RoundContext, pool: PoolSettings, target: PoolTarget, placeholders: Placeholders
) -> PoolDecision:
    cluster, settings, now = context.cluster, context.settings, context.now
    current = placeholders.replicas
    pending = sum(1 for p in placeholders.pods if p.pending)
    base = PoolDecision(
        pool.name,
        pool.deployment,
        "unchanged",
        target=target.target,
        current=current,
        pending=pending,
        events=target.event_names,
    )
    if target.target == 0:  # nothing to subtract headroom from: spare the node and pod reads
        return _replace(base, desired=0)
    try:
        nodes = cluster.list_nodes(pool.node_selector)
    except ClusterError as error:
        raise _Staged("nodes", error) from None
    candidates = capacity.candidate_nodes(nodes, placeholders, settings.headroom, now)
    try:
        pods = cluster.pods_on_nodes(candidates)
    except ClusterError as error:
        raise _Staged("pods", error) from None
    room = capacity.headroom(nodes, pods, placeholders, settings.headroom, now)
    desired = capacity.desired_replicas(target.target, room.free, current, room.pending)
    return _replace(base, free=room.free, desired=desired, nodes=len(nodes), eligible=room.eligible)


class _Staged(ClusterError):
    """A ClusterError from a later gather stage, carrying that stage."""

    def __init__(self, stage: str, error: ClusterError) -> None:
        super().__init__(error.action, error.status, error.reason)
        self.stage = stage


def _failed(
    base: PoolDecision, decided: PoolDecision | None, stage: str, message: str
) -> PoolDecision:
    if decided is not None:  # scaled; only the Event failed
        return _replace(decided, event_error=message, stage="event")
    return _replace(base, action="error", stage=stage, error=message)


def event_message(decision: PoolDecision) -> str:
    """The Kubernetes Event text: the change, the numbers behind it and the calendar events."""
    reason = "for: " + "; ".join(decision.events) if decision.events else "no active calendar event"
    return (
        f"Scaled placeholders of pool {decision.pool} from {decision.current} to "
        f"{decision.desired} (calendar target {decision.target}, free node-equivalents "
        f"{_show(decision.free)}) {reason}"
    )


def _replace(decision: PoolDecision, **changes: object) -> PoolDecision:
    return replace(decision, **changes)  # type: ignore[arg-type]


def _log(decision: PoolDecision, dry_run: bool) -> None:
    prefix = "dry-run: would scale " if decision.action == "would-scale" else ""
    if decision.error or decision.event_error:
        logger.warning("%s%s", prefix, decision.log_line())
    elif decision.action in ("scaled", "would-scale"):
        logger.info("%s%s", prefix, decision.log_line())
    else:
        logger.debug("%s", decision.log_line())
