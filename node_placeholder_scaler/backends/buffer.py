"""The ``capacityBuffer`` backend: a pool whose warm room is an upstream CapacityBuffer.

reconcile.py hands a pool with ``backend: capacityBuffer`` to ``reconcile_buffer_pool``; the
default backend (``placeholders``, pause-pod Deployments) stays in reconcile.py.

Headroom does not apply to a buffer pool: desired = the calendar target. The autoscaler places the
buffer's virtual pods into free room on existing (and launching) nodes first and adds nodes only
for the chunks that do not fit (Karpenter: Provisioning=True/FitsExistingCapacity or
False/RequiresNewCapacity), so the buffer already counts the free room; subtracting our own
headroom as well would count it twice and leave the pool short during an event.

A buffer that cannot warm anything (ReadyForProvisioning False, a strategy other than
active-capacity, LimitedByQuotas) is a per-pool error (stage ``buffer``): the round still sets
the replicas, so the buffer warms as soon as it is fixed, logs the error, counts it, and creates
one Warning Event per new problem. A missing CRD or buffer is an error of that pool only.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from ..config.settings import PoolSettings
from ..decisions import Action, PoolDecision, Stage, class_note
from ..model import PoolTarget
from ..observed import ClusterError
from ..reasons import BUFFER_NOT_READY, BUFFER_SCALED
from ..reconcile import RoundContext
from ..seating.autosize import Learned
from ..seating.round import Warm, autosized, class_state
from .capacitybuffers import CapacityBuffer, buffer_message, buffer_state

logger = logging.getLogger(__name__)



@runtime_checkable
class BufferCluster(Protocol):
    """What a buffer pool's round needs of the cluster (kube.Kube implements it)."""

    def read_buffer(self, namespace: str, name: str) -> CapacityBuffer: ...

    def scale_buffer(self, namespace: str, name: str, replicas: int) -> None: ...

    def record_buffer_event(
        self, buffer: CapacityBuffer, reason: str, message: str, now: datetime, *,
        warning: bool = False,
    ) -> None: ...

    def clear_buffer_warning(self, buffer: CapacityBuffer) -> None: ...


def reconcile_buffer_pool(
    context: RoundContext, pool: PoolSettings, target: PoolTarget
) -> PoolDecision:
    """Read the pool's CapacityBuffer, set its replicas to the target; never raises for cluster
    errors."""
    base = PoolDecision(
        pool.name, pool.buffer, Action.LEFT_ALONE, target=target.target,
        occurrences=target.occurrences,
    )
    if not target.known:
        return base
    cluster = context.cluster
    if not isinstance(cluster, BufferCluster):
        return replace(base, action=Action.ERROR, stage=Stage.BUFFER,
                       error="this cluster client cannot drive CapacityBuffers")
    stage = Stage.BUFFER
    decided: PoolDecision | None = None
    try:
        target, learned, sized = autosized(context.history, pool, target)
        buffer = cluster.read_buffer(context.namespace, pool.buffer)
        decided = replace(_decide(base, buffer, target), autosize=sized)
        if target.classes:
            stage = Stage.NODES
            decided = _seat(context, pool, target, buffer, decided, learned)
            stage = Stage.BUFFER
        if decided.desired != decided.current:
            if context.dry_run:
                decided = replace(decided, action=Action.WOULD_SCALE)
            else:
                stage = Stage.SCALE
                assert decided.desired is not None
                cluster.scale_buffer(context.namespace, pool.buffer, decided.desired)
                decided = replace(decided, action=Action.SCALED)
        stage = Stage.EVENT
        _events(cluster, context, buffer, decided, target)
        return decided
    except ClusterError as error:
        return _failed(base, decided, stage, str(error))
    except Exception as error:  # a bug must not stop the other pools
        logger.exception("pool=%s stage=%s unexpected error", pool.name, stage)
        return _failed(base, decided if stage == Stage.EVENT else None, stage,
                       f"{type(error).__name__}: {error}")


def _decide(base: PoolDecision, buffer: CapacityBuffer, target: PoolTarget) -> PoolDecision:
    state = buffer_state(buffer)
    decided = replace(base, action=Action.UNCHANGED, desired=target.target,
                      current=buffer.replicas, buffer=state)
    if state.problem:
        return replace(decided, stage=Stage.BUFFER, error=state.problem)
    return decided


def _seat(context: RoundContext, pool: PoolSettings, target: PoolTarget,  # noqa: PLR0917
          buffer: CapacityBuffer, decided: PoolDecision, learned: Learned | None
          ) -> PoolDecision:
    """Add the chunks the pool's classes want (seating/round.py) to the node form's target: the
    buffer is lowered as students take its room (a one-shot buffer, emulated)."""
    warm = Warm(max(0, (buffer.replicas or 0) - target.target), None)
    state = class_state(context.cluster, context.settings, pool, target, warm=warm,
                        now=context.now, learned=learned)
    desired = min(pool.max_replicas, target.target + state.warm)
    return replace(decided, desired=desired, seating=state)


def _events(
    cluster: BufferCluster, context: RoundContext, buffer: CapacityBuffer,
    decided: PoolDecision, target: PoolTarget,
) -> None:
    """A Normal Event for a change of replicas; one Warning Event per new problem of the buffer
    (kube.Kube remembers the last one, so a broken buffer is not reported every round)."""
    if context.dry_run:
        return
    if decided.error is None:
        cluster.clear_buffer_warning(buffer)
    else:
        message = f"Pool {decided.pool}: {decided.error}"
        cluster.record_buffer_event(buffer, BUFFER_NOT_READY.name, message, context.now,
                                    warning=True)
    if decided.action == Action.SCALED and decided.desired is not None:
        state = decided.buffer or buffer_state(buffer)
        message = buffer_message(decided.pool, old=decided.current, new=decided.desired,
                                target=target.target, events=target.event_names, state=state)
        message += class_note(decided)
        cluster.record_buffer_event(buffer, BUFFER_SCALED.name, message, context.now)


def _failed(
    base: PoolDecision, decided: PoolDecision | None, stage: Stage, message: str
) -> PoolDecision:
    if decided is not None and stage == Stage.EVENT:  # decided (maybe scaled); an Event failed
        return replace(decided, event_error=message, stage=decided.stage or Stage.EVENT)
    return replace(base, action=Action.ERROR, stage=stage, error=message)
