"""After an event: what happened on one pool, measured from pod and node timelines.

Pure: timelines of one occurrence and pool in, a Measurement out (and, in reports/advice.py, the
warm nodes to ask for next time). No clock (``at`` is the report time), no I/O.

Times are aware UTC datetimes with the API's 1 s resolution; durations are seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .timelines import NodeTimeline, PodTimeline, Window

SYSTEM_OWNERS = frozenset({"DaemonSet", "Node"})  # Node: a static pod's mirror owner


@dataclass(frozen=True)
class Stats:
    count: int
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats | None:
        if not values:
            return None
        return cls(len(values), percentile(values, 0.5), percentile(values, 0.95), max(values))


@dataclass(frozen=True)
class Measurement:
    """What happened on the pool from ``start - lead`` to ``end`` (as of the report time)."""

    window: Window
    at: datetime
    arrivals: int
    scheduled: int
    arrival_times: tuple[datetime, ...]  # creation times of the arrivals
    demand_times: tuple[datetime, ...]  # of those that needed a node (not the while_free)
    waits: tuple[float, ...]  # per arrival, s to PodScheduled (unscheduled: to deletion or at)
    wait: Stats | None
    ready_wait: Stats | None  # to Ready, where a kubelet reported it
    peak_concurrent: int  # user pods on the pool at once (arrivals and those already there)
    preempted: int  # placeholders preempted by the scheduler
    nodes_added: int
    node_ups: tuple[float, ...]  # s from the pod that asked for a node (Pending) to its Ready
    node_up: Stats | None
    warm_at_start: int  # placeholders running at the event's start + free node-equivalents
    over_target: int  # arrivals that waited longer than the target
    while_free: int  # of those, how many waited while a placeholder was still running
    reasons: tuple[str, ...]  # the scheduler's messages for the waits while placeholders ran
    target_s: float

    @property
    def asked_ready(self) -> bool:
        """The warm capacity the event asked for was Ready at its start."""
        return self.warm_at_start >= self.window.asked

    @property
    def capacity_ready_in_time(self) -> bool:
        """Ready at the start, and no arrival waited past the target for a node."""
        return self.asked_ready and self.over_target - self.while_free == 0

    @property
    def bottleneck(self) -> str:
        """none | nodes (too few warm nodes, or late) | not-nodes (placeholders were free)."""
        if self.over_target == 0:
            return "none"
        return "not-nodes" if self.while_free * 2 >= self.over_target else "nodes"


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, as the benchmark's)."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def is_user(pod: PodTimeline) -> bool:
    return not pod.placeholder and not pod.mirror and pod.owner_kind not in SYSTEM_OWNERS


def on_pool(pod: PodTimeline, pool_nodes: frozenset[str]) -> bool:
    """Bound pods count by their node, pending ones by their nodeSelector/affinity."""
    return pod.node in pool_nodes if pod.node else pod.targets_pool


def arrivals(
    window: Window, pods: Iterable[PodTimeline], pool_nodes: frozenset[str]
) -> list[PodTimeline]:
    """User pods created from ``start - lead`` to ``end`` on the pool, by creation time."""
    return sorted(
        (
            p
            for p in pods
            if is_user(p) and on_pool(p, pool_nodes) and window.opens <= p.created <= window.end
        ),
        key=lambda p: p.created,
    )


def wait_of(pod: PodTimeline, at: datetime) -> float:
    until = pod.scheduled or min(pod.deleted or at, at)
    return max(0.0, (until - pod.created).total_seconds())


def most_in_window(times: Sequence[datetime], width: float) -> int:
    """The most of ``times`` within any window of ``width`` seconds (the arrival curve)."""
    ordered = sorted(times)
    best = lo = 0
    for hi, t in enumerate(ordered):
        while (t - ordered[lo]).total_seconds() > width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def peak_concurrent(pods: Iterable[PodTimeline], window: Window, at: datetime) -> int:
    """The most user pods present on the pool at once during the window."""
    changes: list[tuple[datetime, int]] = []
    for p in pods:
        gone = p.deleted or at
        if p.created <= window.end and gone >= window.opens:
            changes += [(max(p.created, window.opens), 1), (gone, -1)]
    present = best = 0
    for _, delta in sorted(changes, key=lambda c: (c[0], c[1])):
        present += delta
        best = max(best, present)
    return best


def node_up_times(
    window: Window, nodes: Sequence[NodeTimeline], pending: Sequence[PodTimeline], at: datetime
) -> list[float]:
    """Per node the event asked for: from the oldest placeholder still Pending when the node
    appeared (first come, first served: one placeholder fills one node) to the node's Ready.
    Counted when that placeholder came before ``end``; a node without one (added for user
    pods) counts its boot alone."""
    added = sorted(
        (n for n in nodes if window.opens <= n.created <= at and n.ready), key=lambda n: n.created
    )
    queue = sorted(pending, key=lambda p: p.created)
    used: set[int] = set()
    ups = []
    for node in added:
        if node.ready is None:  # the filter above keeps Ready nodes only
            continue
        trigger = node.created
        for i, pod in enumerate(queue):
            if (
                i not in used
                and pod.created <= node.created
                and (pod.scheduled is None or pod.scheduled > node.created)
            ):
                used.add(i)
                trigger = pod.created
                break
        if trigger <= window.end:
            ups.append((node.ready - trigger).total_seconds())
    return ups


def measure(
    window: Window,
    pods: Sequence[PodTimeline],
    nodes: Sequence[NodeTimeline],
    at: datetime,
    *,
    target_s: float = 30.0,
    handoff_s: float = 5.0,
    free_at_start: int = 0,
) -> Measurement:
    """The measurement of one occurrence on one pool. A wait happened "while placeholders
    were free" when a placeholder stayed on a node for more than ``handoff_s`` during it (a
    pod that could use the node would have preempted it at once);
    ``free_at_start``: the free node-equivalents the controller counted at the start (warm
    room that needs no placeholder)."""
    pool_nodes = frozenset(n.name for n in nodes)
    came = arrivals(window, pods, pool_nodes)
    waits = [wait_of(p, at) for p in came]
    placeholders = [p for p in pods if p.placeholder]
    late = [p for p, w in zip(came, waits, strict=True) if w > target_s]
    free = [
        p
        for p, w in zip(came, waits, strict=True)
        if w > target_s
        and any(
            h.bound_during(p.created, p.created + timedelta(seconds=w)) > handoff_s
            for h in placeholders
        )
    ]
    pending = [p for p in pods if p.placeholder]
    users = [p for p in pods if is_user(p) and on_pool(p, pool_nodes)]
    ups = node_up_times(window, nodes, pending, at)
    return Measurement(
        window=window,
        at=at,
        arrivals=len(came),
        scheduled=sum(1 for p in came if p.scheduled is not None),
        arrival_times=tuple(p.created for p in came),
        demand_times=tuple(p.created for p in came if id(p) not in {id(f) for f in free}),
        waits=tuple(waits),
        wait=Stats.of(waits),
        ready_wait=Stats.of([(p.ready - p.created).total_seconds() for p in came if p.ready]),
        peak_concurrent=peak_concurrent(users, window, at),
        preempted=sum(
            1 for p in placeholders if p.preempted and p.deleted and window.opens <= p.deleted <= at
        ),
        nodes_added=sum(1 for n in nodes if window.opens <= n.created <= at),
        node_ups=tuple(ups),
        node_up=Stats.of(ups),
        warm_at_start=free_at_start + sum(1 for p in placeholders if p.bound_at(window.start)),
        over_target=len(late),
        while_free=len(free),
        reasons=_reasons(free),
        target_s=target_s,
    )


def _reasons(pods: Iterable[PodTimeline], limit: int = 3) -> tuple[str, ...]:
    """The scheduler's most frequent reasons, most frequent first: the first sentence of its
    PodScheduled=False message without the node counts ("0/5 nodes are available: 5 node(s)
    didn't match ..., 2 node(s) had ..." -> "node(s) didn't match ..., node(s) had ...")."""
    counts: dict[str, int] = {}
    for p in pods:
        if p.unschedulable:
            text = p.unschedulable.split("available: ", 1)[-1].split(". ", 1)[0]
            text = re.sub(r"\b\d+ node", "node", text)
            counts[text[:200]] = counts.get(text[:200], 0) + 1
    return tuple(sorted(counts, key=lambda m: -counts[m])[:limit])
