"""The class-sized part of a pool's round: count the pool, ask rule.py, for both backends.

Reads the pool's nodes and the pods on them (one list and one pod read), counts the seated
students, the free seats and the warm placeholders, and returns rule.py's ClassState. The
backends add its ``warm`` to their own desired replicas (reconcile.py, backends.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from .. import capacity
from ..config.sections import HeadroomSettings
from ..config.settings import PoolSettings, Settings
from ..model import PoolTarget
from ..observed import NodeInfo, PodInfo, Resources, Toleration, total
from ..port import History
from ..sizing import node_bound
from . import rule as seating
from .autosize import Learned, bounded, learn, series_of
from .phase import ClassState, Phase

SYSTEM_OWNERS = frozenset({"DaemonSet", "Node"})


class PoolReader(Protocol):
    def list_nodes(self, node_selector: Mapping[str, str]) -> list[NodeInfo]: ...

    def pods_on_nodes(self, nodes: Sequence[str]) -> dict[str, list[PodInfo]]: ...


@dataclass(frozen=True)
class Warm:
    """The pool's warm room as the backend sees it."""

    count: int  # placeholder replicas, or buffer replicas, for the classes
    room: Resources | None  # one placeholder's requests (None: a buffer pool)
    tolerations: tuple[Toleration, ...] = ()
    names: frozenset[str] = frozenset()  # the placeholder pods (not students)


def class_state(
    reader: PoolReader,
    settings: Settings,
    pool: PoolSettings,
    target: PoolTarget,
    *,
    warm: Warm,
    now: datetime,
    learned: Learned | None = None,
) -> ClassState:
    """Count the pool and apply the class rule (seating.decide); ``learned``: autosize apply's
    profile from the series' reports."""
    nodes = reader.list_nodes(pool.node_selector)
    pods = reader.pods_on_nodes([n.name for n in nodes])
    since = min(c.window_opens for c in target.classes)
    users = [p for ps in pods.values() for p in ps if _user(p, warm.names)]
    seat = pool.seating.seat or seating.learned_seat(p.requests for p in users)
    profile = profile_of(settings, pool, seat, warm.room, nodes=nodes, pods=pods)
    if learned is not None:
        profile = replace(
            profile,
            seats_per_node=learned.seats_per_node or profile.seats_per_node,
            spread=learned.spread or profile.spread,
            node_up=(learned.node_up + settings.interval) if learned.node_up else profile.node_up,
            # the learned spread is the steepest: the window stays the configured one
            hold=pool.seating.window,
            source=learned.describe(),
        )
    rules = replace(settings.headroom, node_grace_period=timedelta(0))
    hosting = _hosting(nodes, pods, warm, rules, now)
    free = 0
    if seat is not None:
        free = _free_seats(nodes, pods, warm, seat, hosting=hosting, rules=rules, now=now)
    seated = sum(1 for p in users if p.created is not None and p.created >= since)
    counted = seating.Counted(seated=seated, free=free, warm=warm.count)
    state = seating.with_lead(
        seating.decide(target.classes, profile, counted, now, pool.max_replicas),
        seating.late_by(target.classes, since, profile),
    )
    if learned is None or state.phase in (Phase.RELEASED, Phase.UNSIZED):
        return state
    ceiling = pool.seating.ceiling if pool.seating.ceiling is not None else pool.max_replicas
    warm_nodes = bounded(state.warm, floor=pool.seating.floor, ceiling=ceiling)
    return replace(state, warm=warm_nodes, why=f"{state.why} (autosized: {profile.source})")


def autosized(
    history: History | None, pool: PoolSettings, target: PoolTarget
) -> tuple[PoolTarget, Learned | None, str | None]:
    """Autosize (autosize.py) for one pool and round: the target (a node request replaced by
    the learned nodes when ``apply``), the class profile to use (``apply`` only) and what it
    did or would do, in words (None: off, or nothing learned)."""
    mode, name = pool.seating.autosize, pool.name.lower()
    if mode == "off" or history is None or not target.occurrences:
        return target, None, None
    reports = history(name)
    notes: list[str] = []
    learned = None
    if target.classes:
        first = target.classes[0].occurrence
        learned = learn(reports, series_of(first.calendar, first.uid, first.summary))
        if learned is not None:
            notes.append(f"autosize {mode}: class profile from {learned.describe()}")
    asked = [o for o in target.occurrences if name in o.requests]
    found = (
        learn(reports, series_of(asked[0].calendar, asked[0].uid, asked[0].summary))
        if len(asked) == 1
        else None
    )
    if found is not None and found.nodes is not None:
        explicit = asked[0].requests[name]
        ceiling = pool.seating.ceiling if pool.seating.ceiling is not None else pool.max_replicas
        nodes = bounded(
            found.nodes,
            floor=pool.seating.floor,
            ceiling=ceiling,
            explicit=explicit,
            below_request=pool.seating.below_request,
        )
        notes.append(
            f"autosize {mode}: {nodes} nodes for the asked {explicit}, from {found.describe()}"
        )
        if mode == "apply":
            target = replace(
                target, target=min(pool.max_replicas, max(0, target.target - explicit + nodes))
            )
    return target, learned if mode == "apply" else None, "; ".join(notes) or None


def profile_of(
    settings: Settings,
    pool: PoolSettings,
    seat: Resources | None,
    room: Resources | None,
    *,
    nodes: Sequence[NodeInfo],
    pods: Mapping[str, Sequence[PodInfo]],
) -> seating.Profile:
    """The pool's configured profile; seats per node from the setting, else the room of the
    pool's largest node (its allocatable less its DaemonSet and static pods: what a student
    finds there once the placeholder is preempted or the buffer's chunk displaced), else the
    placeholder's room (no node seen yet), divided by the seat. Warm seats run nodeUp plus
    one reconcile interval ahead (a round may come that much later)."""
    seats = pool.seating
    per = seats.seats_per_node or 0
    if not per and seat is not None:
        if nodes:
            room = max(
                (
                    n.allocatable
                    - total(
                        p.requests
                        for p in pods.get(n.name, ())
                        if node_bound(p) and not p.terminated
                    )
                    for n in nodes
                ),
                key=lambda r: (r.cpu_milli, r.memory),
            )
        per = 0 if room is None else seating.seats_per_node(room, seat)
    return seating.Profile(per, seats.arrival_spread, seats.node_up + settings.interval, seats.hold)


def _user(pod: PodInfo, placeholders: frozenset[str]) -> bool:
    return (
        not pod.terminated
        and not pod.mirror
        and pod.name not in placeholders
        and pod.owner_kind not in SYSTEM_OWNERS
    )


def _hosting(
    nodes: Sequence[NodeInfo],
    pods: Mapping[str, Sequence[PodInfo]],
    warm: Warm,
    rules: HeadroomSettings,
    now: datetime,
) -> frozenset[str]:
    """The nodes whose room is warm room, not free seats: those of the placeholders (not
    deleting); in a buffer pool, whose chunks are node-sized and virtual, the usable nodes
    without a user pod (each holds a chunk, or holds none and is the autoscaler's to remove),
    so the room left on nodes where students sit, which no chunk fits in any more, is free
    seats."""
    if warm.room is not None:
        return frozenset(
            p.node
            for ps in pods.values()
            for p in ps
            if p.name in warm.names and p.node and not p.deleting
        )
    return frozenset(
        n.name
        for n in nodes
        if capacity.exclusion(n, now, rules, warm.tolerations, frozenset()) is None
        and not any(_user(p, warm.names) for p in pods.get(n.name, ()))
    )


def _free_seats(
    nodes: Sequence[NodeInfo],
    pods: Mapping[str, Sequence[PodInfo]],
    warm: Warm,
    seat: Resources,
    *,
    hosting: frozenset[str],
    rules: HeadroomSettings,
    now: datetime,
) -> int:
    """Seats free on the pool's usable nodes (capacity.exclusion without the grace period: a
    new node's free seats are seats) that host no placeholder (or buffer chunk)."""
    free = 0
    for node in nodes:
        if capacity.exclusion(node, now, rules, warm.tolerations, hosting) is not None:
            continue
        # a preempted placeholder (deleting) leaves its room to the student who preempted it
        used = total(
            p.requests
            for p in pods.get(node.name, ())
            if not p.terminated and not (p.deleting and p.name in warm.names)
        )
        free += seating.seats_per_node(node.allocatable - used, seat)
    return free
