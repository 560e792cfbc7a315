"""The class-sized part of a pool's round: count the pool, ask seating.py, for both backends.

Reads the pool's nodes and the pods on them (one list and one pod read), counts the seated
students, the free seats and the warm placeholders, and returns seating.py's ClassState. The
backends add its ``warm`` to their own desired replicas (reconcile.py, backends.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from . import capacity, seating
from .classphase import ClassState
from .model import PoolTarget
from .observed import NodeInfo, PodInfo, Resources, Toleration, total
from .planning import lead_for
from .sections import HeadroomSettings
from .settings import PoolSettings, Settings

SYSTEM_OWNERS = frozenset({"DaemonSet", "Node"})


class PoolReader(Protocol):
    def list_nodes(self, node_selector: Mapping[str, str]) -> list[NodeInfo]: ...

    def pods_on_nodes(self, nodes: Sequence[str]) -> dict[str, list[PodInfo]]: ...


@dataclass(frozen=True)
class Warm:
    """The pool's warm room as the backend sees it."""

    count: int  # placeholder replicas, or buffer replicas
    room: Resources | None  # one placeholder's requests (None: a buffer pool)
    tolerations: tuple[Toleration, ...] = ()
    names: frozenset[str] = frozenset()  # the placeholder pods (not students)


def class_state(reader: PoolReader, settings: Settings, pool: PoolSettings,
                target: PoolTarget, *, warm: Warm, now: datetime) -> ClassState:
    """Count the pool and apply the class rule (seating.decide)."""
    nodes = reader.list_nodes(pool.node_selector)
    pods = reader.pods_on_nodes([n.name for n in nodes])
    since = min(c.start - lead_for(c.occurrence, pool, settings) for c in target.classes)
    users = [p for ps in pods.values() for p in ps if _user(p, warm.names)]
    seat = pool.seating.seat or seating.learned_seat(p.requests for p in users)
    profile = profile_of(settings, pool, seat, warm.room, nodes)
    hosting = frozenset(p.node for ps in pods.values() for p in ps
                        if p.name in warm.names and p.node)
    free = 0 if seat is None else _free_seats(nodes, pods, warm, seat, hosting=hosting,
                                              headroom=settings.headroom, now=now)
    seated = sum(1 for p in users if p.created is not None and p.created >= since)
    counted = seating.Counted(seated=seated, free=free, warm=warm.count)
    return seating.decide(target.classes, profile, counted, now, pool.max_replicas)


def profile_of(settings: Settings, pool: PoolSettings, seat: Resources | None,
               room: Resources | None, nodes: Sequence[NodeInfo]) -> seating.Profile:
    """The pool's configured profile; seats per node from the setting, else the placeholder's
    room (or the largest pool node's allocatable) divided by the seat. Warm seats run
    nodeUp plus one reconcile interval ahead (a round may come that much later)."""
    seats = pool.seating
    per = seats.seats_per_node or 0
    if not per and seat is not None:
        if room is None and nodes:
            room = max((n.allocatable for n in nodes), key=lambda r: (r.cpu_milli, r.memory))
        per = 0 if room is None else seating.seats_per_node(room, seat)
    return seating.Profile(per, seats.arrival_spread, seats.node_up + settings.interval,
                           seats.window)


def _user(pod: PodInfo, placeholders: frozenset[str]) -> bool:
    return (not pod.terminated and not pod.mirror and pod.name not in placeholders
            and pod.owner_kind not in SYSTEM_OWNERS)


def _free_seats(nodes: Sequence[NodeInfo], pods: Mapping[str, Sequence[PodInfo]],
                warm: Warm, seat: Resources, *, hosting: frozenset[str],
                headroom: HeadroomSettings, now: datetime) -> int:
    """Seats free on the pool's usable nodes (capacity.exclusion without the grace period: a
    new node's free seats are seats) that host no placeholder."""
    rules = replace(headroom, node_grace_period=timedelta(0))
    free = 0
    for node in nodes:
        if capacity.exclusion(node, now, rules, warm.tolerations, hosting) is not None:
            continue
        used = total(p.requests for p in pods.get(node.name, ()) if not p.terminated)
        free += seating.seats_per_node(node.allocatable - used, seat)
    return free
