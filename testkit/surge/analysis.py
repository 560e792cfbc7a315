"""Figures of one strategy run, from what the sampler recorded. Pure: no I/O, no clock.

Times in records are wall-clock seconds (time.time()); results are in scenario units
(divided by the scenario's time_scale).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from .scenario import Scenario


@dataclass(frozen=True)
class StudentRecord:
    name: str
    created: float  # the pod's creationTimestamp
    scheduled: float | None  # PodScheduled=True lastTransitionTime; None: never seen scheduled


@dataclass(frozen=True)
class PodRecord:
    """Every pod of the benchmark's namespace (students, steady sessions, placeholders), as
    sampled: the raw timeline the controller's event report is checked against."""

    name: str
    role: str  # the pod's surge.nps/role label: student, steady, placeholder
    created: float
    priority: int
    node_selector: dict[str, str]
    scheduled: float | None = None  # PodScheduled=True lastTransitionTime
    ready: float | None = None  # Ready=True lastTransitionTime
    node: str | None = None
    deleted: float | None = None  # deletionTimestamp, else the first sample without it
    unschedulable: str | None = None  # the scheduler's last PodScheduled=False message


@dataclass(frozen=True)
class NodeRecord:
    name: str
    created: float
    ready: float | None
    deleted: float | None  # first sample that no longer saw it (None: still there)


@dataclass(frozen=True)
class Sample:
    t: float
    nodes: int
    ready: int
    placeholders_desired: int
    placeholders_ready: int
    students_waiting: int
    students_running: int


@dataclass(frozen=True)
class Figures:
    students: int
    scheduled: int
    p50: float
    p95: float
    max_wait: float
    over_30s: int
    node_minutes: float
    lower_bound: float
    peak_nodes: int
    first_warm_ready: float = math.nan  # first node added in the window Ready, s after T0

    @property
    def above_bound(self) -> float:
        return self.node_minutes - self.lower_bound

    @property
    def ratio(self) -> float:
        return self.node_minutes / self.lower_bound if self.lower_bound else math.inf


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def waits(students: Sequence[StudentRecord], end: float, scale: float) -> list[float]:
    """Each student's wait in scenario seconds; one never scheduled waits until ``end``."""
    return [
        ((s.scheduled if s.scheduled is not None else end) - s.created) / scale for s in students
    ]


def node_minutes(nodes: Sequence[NodeRecord], w0: float, w1: float, scale: float) -> float:
    """Node-minutes in [w0, w1]: a node counts from creation (booting is paid) to deletion."""
    total = 0.0
    for n in nodes:
        start, stop = max(n.created, w0), min(n.deleted if n.deleted is not None else w1, w1)
        total += max(0.0, stop - start)
    return total / 60.0 / scale


def unused_minutes(
    scenario: Scenario, nodes: Sequence[NodeRecord], pods: Sequence[PodRecord], t0: float
) -> float | None:
    """Node-minutes (whole window) of the nodes no student and no steady session ever ran
    on: warm room nobody used (the ramp's surplus, refills the autoscaler launched before a
    round lowered them); None when the run recorded no pods."""
    if not pods:
        return None
    used = {p.node for p in pods if p.role in ("student", "steady") and p.node}
    unused = [n for n in nodes if n.name not in used]
    w0, w1 = (t0 + scenario.wall(x) for x in (-scenario.before, scenario.after))
    return node_minutes(unused, w0, w1, scenario.time_scale)


def lower_bound(scenario: Scenario, start: float | None = None, end: float | None = None) -> float:
    """Node-minutes if every node were Ready exactly when its first student arrives.

    Demand at t = steady sessions + students present (arrival <= t < arrival + stay); the
    pool needs max(user_min, ceil(demand / per_node)) nodes, integrated over the window
    (scenario minutes, from the planned arrival times). ``start``/``end``: a part of the
    window (scenario seconds from T0).
    """
    lo = -scenario.before if start is None else start
    hi = scenario.after if end is None else end
    arrivals = scenario.arrivals()
    points = {lo, hi}
    for a in arrivals:
        points.update((a, a + scenario.stay))
    edges = sorted(p for p in points if lo <= p <= hi)
    total = 0.0
    for a, b in itertools.pairwise(edges):
        mid = (a + b) / 2
        present = scenario.steady + sum(1 for x in arrivals if x <= mid < x + scenario.stay)
        total += max(scenario.user_min, math.ceil(present / scenario.per_node)) * (b - a)
    return total / 60.0


def bound_nodes(scenario: Scenario, at: float) -> int:
    """The lower bound's node count at ``at`` (scenario seconds from T0)."""
    present = scenario.steady + sum(1 for x in scenario.arrivals() if x <= at < x + scenario.stay)
    return max(scenario.user_min, math.ceil(present / scenario.per_node))


def figures(
    scenario: Scenario,
    *,
    students: Sequence[StudentRecord],
    nodes: Sequence[NodeRecord],
    samples: Sequence[Sample],
    w0: float,
    w1: float,
    end: float,
) -> Figures:
    w = waits(students, end, scenario.time_scale)
    threshold = 30.0
    return Figures(
        students=len(students),
        scheduled=sum(1 for s in students if s.scheduled is not None),
        p50=percentile(w, 0.50),
        p95=percentile(w, 0.95),
        max_wait=max(w, default=math.nan),
        over_30s=sum(1 for x in w if x > threshold),
        node_minutes=node_minutes(nodes, w0, w1, scenario.time_scale),
        lower_bound=lower_bound(scenario),
        peak_nodes=max((s.nodes for s in samples), default=0),
        first_warm_ready=first_warm_ready(
            nodes, w0, w0 + scenario.wall(scenario.before), scenario.time_scale
        ),
    )


def first_warm_ready(nodes: Sequence[NodeRecord], w0: float, t0: float, scale: float) -> float:
    """Scenario seconds from T0 (the event's start) to the first Ready node that was added in
    the window (negative: warm before the event starts); NaN when no node was added."""
    ready = [n.ready for n in nodes if n.created >= w0 and n.ready is not None]
    return (min(ready) - t0) / scale if ready else math.nan


def arrivals_end(scenario: Scenario) -> float:
    """The end of the arrival window (scenario seconds from T0): the last course's
    ``start + spread``."""
    second = scenario.second_start + scenario.second_spread if scenario.second_students else 0.0
    return max(scenario.arrival_spread, second)


def phases(scenario: Scenario) -> list[tuple[float, float, str]]:
    """The measurement window in three parts (scenario seconds from T0): before T0, during the
    arrivals, after them."""
    end = arrivals_end(scenario)
    return [
        (-scenario.before, 0.0, "before T0"),
        (0.0, end, "during arrivals"),
        (end, scenario.after, "after"),
    ]


def phase_minutes(
    scenario: Scenario, nodes: Sequence[NodeRecord], t0: float
) -> list[tuple[float, float]]:
    """(node-minutes used, lower bound) in each of ``phases``; ``t0`` in wall seconds."""
    return [
        (
            node_minutes(nodes, t0 + scenario.wall(a), t0 + scenario.wall(b), scenario.time_scale),
            lower_bound(scenario, a, b),
        )
        for a, b, _ in phases(scenario)
    ]


GOAL = (5.0, 30.0, 1.1)  # the class-sized modes: p95 <= 5 s, max <= 30 s, <= 1.1x nothing


def goal_missed(
    p95: float, max_wait: float, node_minutes: float, nothing: float | None
) -> list[str]:
    """The parts of the goal a run misses ([]: met); ``nothing``: the node-minutes of the
    `nothing` run of the same table (None: there is none)."""
    missed = []
    if not p95 <= GOAL[0]:
        missed.append(f"p95 {p95:.1f} > {GOAL[0]:g}")
    if not max_wait <= GOAL[1]:
        missed.append(f"max {max_wait:.1f} > {GOAL[1]:g}")
    if not nothing:
        missed.append("no nothing run to compare")
    elif node_minutes > GOAL[2] * nothing:
        missed.append(f"{node_minutes / nothing:.2f}x nothing > {GOAL[2]:g}")
    return missed
