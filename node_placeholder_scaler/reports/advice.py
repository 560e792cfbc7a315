"""How many warm nodes the next occurrence should ask for, from one measured occurrence.

Pure: a Measurement (reports/measurement.py) in, an Advice and the EventReport out. The rule
(docs/operations/event-reports.md):

    U = the 90th percentile of the observed node-up times of the nodes the event asked for
        (a pod Pending for the pool -> its node Ready); the slowest tenth are outliers
    W = the wait target (default 30 s)
    A = the most arrivals in any window of max(U - W, 0) seconds (the arrival curve; arrivals
        that waited while placeholders were free are left out: no node would help them)
    N = ceil(A / users per node), at least 1, at most the nodes of every arrival

A preempted placeholder makes the autoscaler add the next node, which is usable U later; the
arrivals of that time must find warm room, less those that may wait W. The cost of N is the
warm room held from ``start - lead`` to ``end``: N x (lead + length) node-minutes (plus the
autoscaler's scale-down time per node after the end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..observed import Resources
from ..seating.track import class_line
from .measurement import Measurement, Stats, most_in_window, percentile
from .record import ArrivalCurve, EventReport, ReportAdvice, Waits

MIN_ARRIVALS = 10
NODE_UP_QUANTILE = 0.9


@dataclass(frozen=True)
class Advice:
    nodes: int | None  # None: too thin to advise
    lead_s: float | None  # a longer lead, when the asked nodes were not Ready at the start
    node_minutes: float | None  # warm room held by ``nodes`` over the window
    node_up_s: float | None  # U
    window_s: float | None  # max(U - W, 0)
    arrivals_in_window: int | None  # A
    users_per_node: int
    why: str  # the reason in words (or why the data is too thin)
    arrivals_in_node_up: int | None = None  # the arrival curve: most arrivals within U


def users_per_node(room: Resources, request: Resources) -> int:
    """How many pods of ``request`` fit into one node's room (the placeholder's requests:
    a node's allocatable less DaemonSets and margin); 0 when nothing is known."""
    names = ("cpu", "memory", *request.extended)
    fits = [room.get(r) // request.get(r) for r in names if request.get(r) > 0]
    return max(0, min(fits)) if fits else 0


def held_node_minutes(m: Measurement, nodes: int) -> float:
    seconds = (m.window.end - m.window.opens).total_seconds()
    return round(nodes * seconds / 60.0, 1)


def recommend(
    m: Measurement,
    users_per_node: int,
    *,
    interval_s: float = 30.0,
    min_arrivals: int = MIN_ARRIVALS,
) -> Advice:
    """The warm nodes that would have kept every wait of ``m`` under its target."""
    per_node = max(1, users_per_node)
    thin = _thin(m, min_arrivals)
    if thin:
        return Advice(None, None, None, None, None, None, per_node, thin)
    up = percentile(m.node_ups, NODE_UP_QUANTILE)
    width = max(0.0, up - m.target_s)
    most = most_in_window(m.demand_times, width)
    whole = math.ceil(len(m.demand_times) / per_node)
    nodes = max(1, min(whole, math.ceil(most / per_node)))
    lead = None
    if not m.asked_ready:
        lead = float(math.ceil(up + interval_s))
    why = (
        f"{most} arrivals within {width:.0f} s (node-up p90 {up:.0f} s - target "
        f"{m.target_s:.0f} s) / {per_node} per node"
    )
    return Advice(
        nodes,
        lead,
        held_node_minutes(m, nodes),
        up,
        width,
        most,
        per_node,
        why,
        most_in_window(m.arrival_times, up),
    )


def _thin(m: Measurement, min_arrivals: int) -> str:
    if m.arrivals < min_arrivals:
        return f"too few arrivals to advise ({m.arrivals} < {min_arrivals})"
    if m.node_up is None:
        if m.over_target == 0:
            return (
                "no node was added and nobody waited: the asked nodes were enough; a "
                "smaller number cannot be judged without a node-up time"
            )
        return "no node was added: the node-up time is unknown"
    return ""


def _waits(stats: Stats | None) -> Waits | None:
    if stats is None:
        return None
    return Waits(round(stats.p50, 1), round(stats.p95, 1), round(stats.max, 1))


def summary(m: Measurement, advice: Advice) -> EventReport:
    """The report of a measured occurrence (numbers rounded to 0.1)."""
    w = m.window
    return EventReport(
        pool=w.pool,
        series=w.series,
        title=w.title,
        start=w.start,
        end=w.end,
        lead_s=w.lead.total_seconds(),
        asked=w.asked,
        reported_at=m.at,
        arrivals=m.arrivals,
        scheduled=m.scheduled,
        peak_concurrent=m.peak_concurrent,
        wait_s=_waits(m.wait),
        ready_wait_s=_waits(m.ready_wait),
        target_s=m.target_s,
        over_target=m.over_target,
        while_free=m.while_free,
        reasons=m.reasons,
        preempted=m.preempted,
        nodes_added=m.nodes_added,
        node_up_s=_waits(m.node_up),
        warm_at_start=m.warm_at_start,
        asked_ready=m.asked_ready,
        capacity_ready_in_time=m.capacity_ready_in_time,
        bottleneck=m.bottleneck,
        arrival_curve=ArrivalCurve(advice.node_up_s, advice.arrivals_in_node_up),
        advice=ReportAdvice(
            advice.nodes, advice.lead_s, advice.node_minutes, advice.why, advice.users_per_node
        ),
    )


def message(report: EventReport) -> str:
    """The EventReport Event's text."""
    r, wait = report, report.wait_s
    waits = (
        f"wait p50 {wait.p50:.0f}s p95 {wait.p95:.0f}s max {wait.max:.0f}s" if wait else "no waits"
    )
    ready = "yes" if r.capacity_ready_in_time else "no"
    parts = [
        f"{r.title} ({r.start.isoformat()[:16]}): {r.arrivals} arrivals, "
        f"{waits} ({r.over_target} over {r.target_s:.0f}s)",
        f"capacity ready in time: {ready} ({_warm_at_start(r)} warm at start)",
    ]
    if r.bottleneck == "not-nodes":
        reason = "; ".join(r.reasons) or "no scheduler message"
        parts.append(
            f"nodes were not the bottleneck: {r.while_free} waited while "
            f"placeholders were free ({reason})"
        )
    advice = r.advice
    if advice.nodes is None:
        parts.append(f"no advice: {advice.why}")
    else:
        lead = f", lead >= {advice.lead_s:.0f}s" if advice.lead_s else ""
        parts.append(
            f"next time ask for {r.pool}: {advice.nodes}{lead} "
            f"(~{advice.node_minutes or 0:.0f} node-min held; {advice.why})"
        )
    seated = class_line(r.seated)
    return "; ".join([*parts, seated] if seated else parts)


def _warm_at_start(r: EventReport) -> str:
    """``3/4`` of the nodes asked for; a class-sized event alone asks for no node count."""
    return f"{r.warm_at_start}/{r.asked}" if r.asked or r.seated is None else (str(r.warm_at_start))
