"""The ``placeholders`` backend (the default): a pool whose warm room is a Deployment of
low-priority pause pods, scaled to the calendar target less the pool's free room (headroom).

Gather (the Deployment, the pool's nodes, the pods on the candidate nodes), decide
(capacity.py), scale, and write a Normal Event on the Deployment for a change.
"""

from __future__ import annotations

from dataclasses import replace

from .. import capacity
from ..config.settings import PoolSettings, Settings
from ..decisions import Action, PoolDecision, Stage, decision_message
from ..model import PoolTarget
from ..observed import Placeholders
from ..port import RoundContext
from ..reasons import PLACEHOLDERS_SCALED
from ..seating.autosize import Learned
from ..seating.round import Warm, autosized, class_state
from .attempt import Attempt, attempt


def reconcile_pool(
    context: RoundContext, settings: Settings, pool: PoolSettings, target: PoolTarget
) -> PoolDecision:
    """Read the pool's placeholder Deployment, its nodes and their pods; scale the Deployment
    to the target less the free room. Never raises."""
    base = PoolDecision(
        pool.name,
        pool.deployment,
        Action.LEFT_ALONE,
        target=target.target,
        occurrences=target.occurrences,
    )

    def body(progress: Attempt) -> PoolDecision:
        cluster, namespace = context.cluster, context.namespace
        sized_target, learned, sized = autosized(context.history, pool, target)
        placeholders = cluster.read_placeholders(namespace, pool.deployment)
        decision = replace(
            _decide(
                context, settings, pool, sized_target, placeholders=placeholders, progress=progress
            ),
            autosize=sized,
        )
        if target.classes:
            decision = _seat(
                context,
                settings,
                pool,
                sized_target,
                placeholders=placeholders,
                decided=decision,
                learned=learned,
                progress=progress,
            )
        if decision.desired is None or decision.desired == decision.current:
            return decision
        if context.dry_run:
            return replace(decision, action=Action.WOULD_SCALE)
        progress.stage = Stage.SCALE
        cluster.scale(namespace, pool.deployment, decision.desired)
        progress.decided = decision = replace(decision, action=Action.SCALED)
        progress.stage = Stage.EVENT
        cluster.record_event(
            placeholders, PLACEHOLDERS_SCALED.name, decision_message(decision), context.now
        )
        return decision

    return attempt(pool.name, base, Stage.DEPLOYMENT, body)


def _decide(
    context: RoundContext,
    settings: Settings,
    pool: PoolSettings,
    target: PoolTarget,
    *,
    placeholders: Placeholders,
    progress: Attempt,
) -> PoolDecision:
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
        return replace(base, desired=0)
    progress.stage = Stage.NODES
    nodes = context.cluster.list_nodes(pool.node_selector)
    screened = capacity.screen(nodes, placeholders, settings.headroom, context.now)
    progress.stage = Stage.PODS
    pods = context.cluster.pods_on_nodes(screened.candidates)
    room = capacity.headroom(
        nodes, pods, placeholders, settings.headroom, context.now, screened=screened
    )
    desired = capacity.desired_replicas(target.target, room.free, current, room.pending)
    progress.stage = Stage.DEPLOYMENT
    return replace(base, free=room.free, desired=desired, nodes=len(nodes), eligible=room.eligible)


def _seat(
    context: RoundContext,
    settings: Settings,
    pool: PoolSettings,
    target: PoolTarget,
    *,
    placeholders: Placeholders,
    decided: PoolDecision,
    learned: Learned | None,
    progress: Attempt,
) -> PoolDecision:
    """Add the warm placeholders the pool's classes want (seating/round.py) to the node
    form's."""
    nodes = decided.desired or 0
    names = frozenset(p.name for p in placeholders.pods)
    warm = Warm(
        max(0, placeholders.replicas - nodes),
        placeholders.requests,
        placeholders.tolerations,
        names,
    )
    progress.stage = Stage.NODES
    state = class_state(
        context.cluster, settings, pool, target, warm=warm, now=context.now, learned=learned
    )
    progress.stage = Stage.DEPLOYMENT
    return replace(decided, desired=min(pool.max_replicas, nodes + state.warm), seating=state)
