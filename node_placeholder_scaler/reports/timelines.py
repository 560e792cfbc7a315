"""Pod and node timelines of a pool around a calendar event: plain data (pure, no I/O).

The controller's pod watch fills PodRecords (kube/reports.py); the event report
(reports/measurement.py)
reads PodTimelines, a PodRecord seen from one pool. Recorded timelines (tests/fixtures/
timelines/) use the dict codec below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..observed import Resources

Affinity = tuple[tuple[tuple[str, str, tuple[str, ...]], ...], ...]  # terms of (key, op, values)


@dataclass(frozen=True)
class PodTimeline:
    """One pod as seen during the occurrence (from the controller's watch, or a recording)."""

    name: str
    namespace: str
    created: datetime
    placeholder: bool  # a pod of the pool's placeholder Deployment
    targets_pool: bool  # its nodeSelector/required affinity names the pool (see selects_pool)
    scheduled: datetime | None = None  # PodScheduled=True lastTransitionTime
    ready: datetime | None = None  # Ready=True lastTransitionTime (a kubelet reports it)
    node: str | None = None
    deleted: datetime | None = None  # deletionTimestamp, else when it was seen gone
    preempted: bool = False  # the scheduler preempted it (DisruptionTarget condition)
    owner_kind: str | None = None
    mirror: bool = False
    unschedulable: str | None = None  # the scheduler's last PodScheduled=False message

    def bound_during(self, start: datetime, end: datetime) -> float:
        """Seconds it was on a node within [start, end)."""
        if self.scheduled is None:
            return 0.0
        until = min(end, self.deleted) if self.deleted is not None else end
        return max(0.0, (until - max(start, self.scheduled)).total_seconds())

    def bound_at(self, t: datetime) -> bool:
        """On a node at ``t`` (scheduled, not yet deleted)."""
        return (
            self.scheduled is not None
            and self.scheduled <= t
            and (self.deleted is None or t < self.deleted)
        )


@dataclass(frozen=True)
class NodeTimeline:
    name: str
    created: datetime
    ready: datetime | None = None  # first Ready=True
    deleted: datetime | None = None


@dataclass(frozen=True)
class Window:
    """One occurrence of a calendar event, for one pool."""

    pool: str
    series: str  # the calendar's UID of the series (RRULE occurrences share it), else title
    title: str
    start: datetime
    end: datetime
    lead: timedelta
    asked: int  # the event's request for the pool (`user: N`)
    students: int = 0  # the event's class size for the pool (`user: 120 students`)

    @property
    def opens(self) -> datetime:
        return self.start - self.lead


@dataclass(frozen=True, slots=True)
class PodRecord:
    """A pod as the controller's watch saw it, for every pool (see ``seen_from``)."""

    uid: str
    name: str
    namespace: str
    created: datetime
    labels: Mapping[str, str]
    node_selector: Mapping[str, str]
    affinity: Affinity  # required node affinity terms
    requests: Resources
    owner_kind: str | None = None
    mirror: bool = False
    scheduled: datetime | None = None
    ready: datetime | None = None
    node: str | None = None
    deleted: datetime | None = None
    preempted: bool = False
    unschedulable: str | None = None

    def seen_from(
        self,
        pool_selector: Mapping[str, str],
        placeholder_namespace: str,
        placeholder_labels: Mapping[str, str],
    ) -> PodTimeline:
        placeholder = (
            bool(placeholder_labels)
            and self.namespace == placeholder_namespace
            and all(self.labels.get(k) == v for k, v in placeholder_labels.items())
        )
        return PodTimeline(
            self.name,
            self.namespace,
            self.created,
            placeholder,
            selects_pool(self.node_selector, self.affinity, pool_selector),
            scheduled=self.scheduled,
            ready=self.ready,
            node=self.node,
            deleted=self.deleted,
            preempted=self.preempted,
            owner_kind=self.owner_kind,
            mirror=self.mirror,
            unschedulable=self.unschedulable,
        )


def selector_labels(text: str) -> dict[str, str]:
    """The ``key=value`` terms of a label selector's text (other terms are ignored)."""
    pairs = (term.split("=", 1) for term in text.split(",") if "=" in term and "!" not in term)
    return {k.strip(): v.strip() for k, v in pairs}


def selects_pool(
    node_selector: Mapping[str, str],
    affinity: Sequence[Sequence[tuple[str, str, tuple[str, ...]]]],
    pool_selector: Mapping[str, str],
) -> bool:
    """A pod targets the pool when its nodeSelector, or one term of its required node
    affinity (key, operator, values), asks for every label of the pool's nodeSelector."""
    if pool_selector and all(node_selector.get(k) == v for k, v in pool_selector.items()):
        return True
    for term in affinity:
        wanted = {k: values for k, op, values in term if op == "In"}
        if pool_selector and all(v in wanted.get(k, ()) for k, v in pool_selector.items()):
            return True
    return False


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def timeline_to_dict(
    pods: Iterable[PodTimeline], nodes: Iterable[NodeTimeline]
) -> dict[str, list[dict[str, object]]]:
    """Timelines as JSON-ready dicts (recorded fixtures, debugging)."""
    return {
        "pods": [{**vars(p), **{k: _text(getattr(p, k)) for k in _POD_TIMES}} for p in pods],
        "nodes": [{**vars(n), **{k: _text(getattr(n, k)) for k in _NODE_TIMES}} for n in nodes],
    }


def timeline_from_dict(
    data: Mapping[str, Sequence[Mapping[str, object]]],
) -> tuple[list[PodTimeline], list[NodeTimeline]]:
    def times(item: Mapping[str, object], keys: tuple[str, ...]) -> dict[str, object]:
        return {**item, **{k: _time(item.get(k)) for k in keys}}  # type: ignore[arg-type]

    pods = [PodTimeline(**times(p, _POD_TIMES)) for p in data["pods"]]  # type: ignore[arg-type]
    nodes = [NodeTimeline(**times(n, _NODE_TIMES)) for n in data["nodes"]]  # type: ignore[arg-type]
    return pods, nodes


_POD_TIMES = ("created", "scheduled", "ready", "deleted")
_NODE_TIMES = ("created", "ready", "deleted")
