"""The ``capacityBuffer`` backend: a pool whose warm room is an upstream CapacityBuffer.

reconcile.py hands a pool with ``backend: capacityBuffer`` to ``reconcile_pool`` here (the
default backend, pause-pod Deployments, is backends/placeholders.py).

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

from dataclasses import replace

from ..config.settings import PoolSettings, Settings
from ..decisions import Action, PoolDecision, Stage, class_note
from ..model import PoolTarget
from ..port import BufferCluster, RoundContext
from ..reasons import BUFFER_NOT_READY, BUFFER_SCALED
from ..seating.autosize import Learned
from ..seating.round import Warm, autosized, class_state
from .attempt import Attempt, attempt
from .capacitybuffers import CapacityBuffer, buffer_message, buffer_state


def reconcile_pool(
    context: RoundContext, settings: Settings, pool: PoolSettings, target: PoolTarget
) -> PoolDecision:
    """Read the pool's CapacityBuffer, set its replicas to the target. Never raises."""
    base = PoolDecision(
        pool.name,
        pool.buffer,
        Action.LEFT_ALONE,
        target=target.target,
        occurrences=target.occurrences,
    )
    cluster = context.cluster
    if not isinstance(cluster, BufferCluster):
        return replace(
            base,
            action=Action.ERROR,
            stage=Stage.BUFFER,
            error="this cluster client cannot drive CapacityBuffers",
        )

    def body(progress: Attempt) -> PoolDecision:
        sized_target, learned, sized = autosized(context.history, pool, target)
        buffer = cluster.read_buffer(context.namespace, pool.buffer)
        progress.decided = decided = replace(_decide(base, buffer, sized_target), autosize=sized)
        if target.classes:
            progress.stage = Stage.NODES
            progress.decided = decided = _seat(
                context,
                settings,
                pool,
                sized_target,
                buffer=buffer,
                decided=decided,
                learned=learned,
            )
            progress.stage = Stage.BUFFER
        desired = decided.desired
        if desired is not None and desired != decided.current:
            if context.dry_run:
                progress.decided = decided = replace(decided, action=Action.WOULD_SCALE)
            else:
                progress.stage = Stage.SCALE
                cluster.scale_buffer(context.namespace, pool.buffer, desired)
                progress.decided = decided = replace(decided, action=Action.SCALED)
        progress.stage = Stage.EVENT
        _events(cluster, context, buffer, decided, target)
        return decided

    return attempt(pool.name, base, Stage.BUFFER, body)


def _decide(base: PoolDecision, buffer: CapacityBuffer, target: PoolTarget) -> PoolDecision:
    state = buffer_state(buffer)
    decided = replace(
        base, action=Action.UNCHANGED, desired=target.target, current=buffer.replicas, buffer=state
    )
    if state.problem:
        return replace(decided, stage=Stage.BUFFER, error=state.problem)
    return decided


def _seat(
    context: RoundContext,
    settings: Settings,
    pool: PoolSettings,
    target: PoolTarget,
    *,
    buffer: CapacityBuffer,
    decided: PoolDecision,
    learned: Learned | None,
) -> PoolDecision:
    """Add the chunks the pool's classes want (seating/round.py) to the node form's target: the
    buffer is lowered as students take its room (a one-shot buffer, emulated)."""
    warm = Warm(max(0, (buffer.replicas or 0) - target.target), None)
    state = class_state(
        context.cluster, settings, pool, target, warm=warm, now=context.now, learned=learned
    )
    desired = min(pool.max_replicas, target.target + state.warm)
    return replace(decided, desired=desired, seating=state)


def _events(
    cluster: BufferCluster,
    context: RoundContext,
    buffer: CapacityBuffer,
    decided: PoolDecision,
    target: PoolTarget,
) -> None:
    """A Normal Event for a change of replicas; one Warning Event per new problem of the buffer
    (kube.Kube remembers the last one, so a broken buffer is not reported every round)."""
    if context.dry_run:
        return
    if decided.error is None:
        cluster.clear_buffer_warning(buffer)
    else:
        message = f"Pool {decided.pool}: {decided.error}"
        cluster.record_buffer_event(
            buffer, BUFFER_NOT_READY.name, message, context.now, warning=True
        )
    if decided.action == Action.SCALED and decided.desired is not None:
        state = decided.buffer or buffer_state(buffer)
        message = buffer_message(
            decided.pool,
            old=decided.current,
            new=decided.desired,
            target=target.target,
            events=target.event_names,
            state=state,
        )
        message += class_note(decided)
        cluster.record_buffer_event(buffer, BUFFER_SCALED.name, message, context.now)
