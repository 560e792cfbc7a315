"""The event report as a record (``EventReport``) and its JSON codec, used where a report
leaves the process: the report ConfigMap (kube/reports.py), ``report -o json|yaml`` and the
webhook. Everything in between (the tracker, the metrics, the status page, the CLI table) reads
attributes. The JSON keys are the stored ones; a report stored by an earlier release, with
fewer keys, still reads (the missing parts empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Waits:
    """Seconds, rounded to 0.1: median, 95th percentile and most."""

    p50: float
    p95: float
    max: float


@dataclass(frozen=True)
class ArrivalCurve:
    """The most arrivals within ``window_s`` (the node-up time)."""

    window_s: float | None = None
    most: int | None = None


@dataclass(frozen=True)
class ReportAdvice:
    """The warm nodes (and lead) advised for the next occurrence; ``nodes`` None: too thin."""

    nodes: int | None = None
    lead_s: float | None = None
    node_minutes: float | None = None
    why: str = ""
    users_per_node: int = 0


@dataclass(frozen=True)
class EventReport:
    """One occurrence's report on one pool (docs/operations/event-reports.md)."""

    pool: str
    series: str
    title: str
    start: datetime
    end: datetime
    lead_s: float = 0.0
    asked: int = 0
    reported_at: datetime | None = None
    arrivals: int = 0
    scheduled: int = 0
    peak_concurrent: int = 0
    wait_s: Waits | None = None
    ready_wait_s: Waits | None = None
    target_s: float = 0.0
    over_target: int = 0
    while_free: int = 0
    reasons: tuple[str, ...] = ()
    preempted: int = 0
    nodes_added: int = 0
    node_up_s: Waits | None = None
    warm_at_start: int = 0
    asked_ready: bool = False
    capacity_ready_in_time: bool = False
    bottleneck: str = ""
    arrival_curve: ArrivalCurve = field(default_factory=ArrivalCurve)
    advice: ReportAdvice = field(default_factory=ReportAdvice)
    seated: Mapping[str, Any] | None = None  # a class-sized event: seating/track.py's as_report
    autosize: str | None = None  # what autosize used or would use, in words

    @property
    def key(self) -> tuple[str, datetime]:
        """The occurrence it reports on (a pool keeps one report per occurrence)."""
        return self.series, self.start


def to_json(report: EventReport) -> dict[str, Any]:
    """The report as stored and printed (JSON-ready)."""
    r = report
    return {
        "pool": r.pool,
        "series": r.series,
        "title": r.title,
        "start": r.start.isoformat(),
        "end": r.end.isoformat(),
        "lead_s": r.lead_s,
        "asked": r.asked,
        "reported_at": r.reported_at.isoformat() if r.reported_at else None,
        "arrivals": r.arrivals,
        "scheduled": r.scheduled,
        "peak_concurrent": r.peak_concurrent,
        "wait_s": _waits_json(r.wait_s),
        "ready_wait_s": _waits_json(r.ready_wait_s),
        "target_s": r.target_s,
        "over_target": r.over_target,
        "while_free": r.while_free,
        "reasons": list(r.reasons),
        "preempted": r.preempted,
        "nodes_added": r.nodes_added,
        "node_up_s": _waits_json(r.node_up_s),
        "warm_at_start": r.warm_at_start,
        "asked_ready": r.asked_ready,
        "capacity_ready_in_time": r.capacity_ready_in_time,
        "bottleneck": r.bottleneck,
        "arrival_curve": {"window_s": r.arrival_curve.window_s, "most": r.arrival_curve.most},
        "advice": {
            "nodes": r.advice.nodes,
            "lead_s": r.advice.lead_s,
            "node_minutes": r.advice.node_minutes,
            "why": r.advice.why,
            "users_per_node": r.advice.users_per_node,
        },
        **({"class": dict(r.seated)} if r.seated is not None else {}),
        **({"autosize": r.autosize} if r.autosize is not None else {}),
    }


def from_json(data: Mapping[str, Any]) -> EventReport:
    """A stored report; ValueError (or TypeError) when it names no occurrence or a part has
    the wrong type. Parts an earlier release did not store read as empty."""
    start = _instant(data.get("start"))
    if start is None or not isinstance(data.get("series"), str):
        raise ValueError("a report needs its series and start")
    curve, advice = data.get("arrival_curve") or {}, data.get("advice") or {}
    return EventReport(
        pool=str(data.get("pool", "")),
        series=data["series"],
        title=str(data.get("title", "")),
        start=start,
        end=_instant(data.get("end")) or start,
        lead_s=float(data.get("lead_s") or 0.0),
        asked=int(data.get("asked") or 0),
        reported_at=_instant(data.get("reported_at")),
        arrivals=int(data.get("arrivals") or 0),
        scheduled=int(data.get("scheduled") or 0),
        peak_concurrent=int(data.get("peak_concurrent") or 0),
        wait_s=_waits(data.get("wait_s")),
        ready_wait_s=_waits(data.get("ready_wait_s")),
        target_s=float(data.get("target_s") or 0.0),
        over_target=int(data.get("over_target") or 0),
        while_free=int(data.get("while_free") or 0),
        reasons=tuple(str(x) for x in data.get("reasons") or ()),
        preempted=int(data.get("preempted") or 0),
        nodes_added=int(data.get("nodes_added") or 0),
        node_up_s=_waits(data.get("node_up_s")),
        warm_at_start=int(data.get("warm_at_start") or 0),
        asked_ready=bool(data.get("asked_ready", False)),
        capacity_ready_in_time=bool(data.get("capacity_ready_in_time", False)),
        bottleneck=str(data.get("bottleneck") or ""),
        arrival_curve=ArrivalCurve(_number(curve.get("window_s")), _integer(curve.get("most"))),
        advice=ReportAdvice(
            _integer(advice.get("nodes")),
            _number(advice.get("lead_s")),
            _number(advice.get("node_minutes")),
            str(advice.get("why") or ""),
            int(advice.get("users_per_node") or 0),
        ),
        seated=dict(data["class"]) if isinstance(data.get("class"), Mapping) else None,
        autosize=str(data["autosize"]) if data.get("autosize") is not None else None,
    )


def _waits_json(waits: Waits | None) -> dict[str, float] | None:
    return None if waits is None else {"p50": waits.p50, "p95": waits.p95, "max": waits.max}


def _waits(data: Any) -> Waits | None:
    if not data:
        return None
    return Waits(float(data["p50"]), float(data["p95"]), float(data["max"]))


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _integer(value: Any) -> int | None:
    return None if value is None else int(value)
