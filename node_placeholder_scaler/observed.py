"""What the controller sees of the cluster: plain frozen data, no client objects.

kube.py builds these from API responses; capacity.py, reconcile.py and sizing.py read them.
Quantities are integers: CPU in millicores, memory and every other resource in units
(bytes for memory, devices for ``nvidia.com/gpu``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

TERMINATED_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class Resources:
    """An amount of node resources. ``extended`` holds anything but cpu and memory."""

    cpu_milli: int = 0
    memory: int = 0
    extended: Mapping[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int:
        if name == "cpu":
            return self.cpu_milli
        if name == "memory":
            return self.memory
        return self.extended.get(name, 0)

    def __add__(self, other: Resources) -> Resources:
        return _combine(self, other, lambda a, b: a + b)

    def __sub__(self, other: Resources) -> Resources:
        return _combine(self, other, lambda a, b: a - b)

    def maximum(self, other: Resources) -> Resources:
        return _combine(self, other, max)


def _combine(left: Resources, right: Resources, op: Callable[[int, int], int]) -> Resources:
    names = set(left.extended) | set(right.extended)
    return Resources(
        cpu_milli=op(left.cpu_milli, right.cpu_milli),
        memory=op(left.memory, right.memory),
        extended={n: op(left.extended.get(n, 0), right.extended.get(n, 0)) for n in sorted(names)},
    )


def total(amounts: Iterable[Resources]) -> Resources:
    result = Resources()
    for amount in amounts:
        result = result + amount
    return result


@dataclass(frozen=True)
class Container:
    """The requests of one container; ``sidecar``: an init container with restartPolicy Always."""

    requests: Resources
    sidecar: bool = False


def pod_requests(
    containers: Iterable[Resources], init_containers: Iterable[Container], overhead: Resources
) -> Resources:
    """The scheduler's view of a pod's requests.

    max(sum of app containers + all sidecars, each init container + the sidecars started before
    it) + overhead (the Kubernetes rule, sidecar containers included).
    """
    sidecars = Resources()
    peak = Resources()
    for init in init_containers:
        if init.sidecar:
            sidecars = sidecars + init.requests
        else:
            peak = peak.maximum(init.requests + sidecars)
    return peak.maximum(total(containers) + sidecars) + overhead


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str  # NoSchedule | PreferNoSchedule | NoExecute


@dataclass(frozen=True)
class Toleration:
    key: str = ""  # empty with operator Exists: tolerates every taint
    operator: str = "Equal"  # Equal | Exists
    value: str = ""
    effect: str = ""  # empty: every effect

    def tolerates(self, taint: Taint) -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if self.operator == "Exists":
            return not self.key or self.key == taint.key
        return self.key == taint.key and self.value == taint.value


@dataclass(frozen=True)
class NodeInfo:
    name: str
    labels: Mapping[str, str]
    allocatable: Resources
    ready: bool
    unschedulable: bool
    taints: tuple[Taint, ...]
    created: datetime
    ready_since: datetime | None = None  # the Ready condition's lastTransitionTime when Ready


@dataclass(frozen=True)
class PodInfo:
    name: str
    namespace: str
    node: str | None
    phase: str
    requests: Resources
    priority: int = 0
    owner_kind: str | None = None  # kind of the controller owner (DaemonSet, ReplicaSet, ...)
    mirror: bool = False  # a static pod's mirror
    deleting: bool = False  # has a deletionTimestamp
    created: datetime | None = None  # metadata.creationTimestamp (None: not known)

    @property
    def terminated(self) -> bool:
        return self.phase in TERMINATED_PHASES

    @property
    def pending(self) -> bool:
        """Waits for a node (not yet bound); a bound pod still starting is not Pending here."""
        return self.phase == "Pending" and self.node is None and not self.deleting


@dataclass(frozen=True)
class Placeholders:
    """A pool's placeholder Deployment as read from the API, and its pods."""

    namespace: str
    deployment: str
    uid: str
    replicas: int  # spec.replicas (the current scale)
    selector: str  # label selector text of spec.selector
    requests: Resources  # of one placeholder pod (from the pod template)
    tolerations: tuple[Toleration, ...]
    pods: tuple[PodInfo, ...] = ()

    @cached_property
    def pending(self) -> int:
        """Placeholder pods waiting for a node (counted once per read of the Deployment)."""
        return sum(1 for p in self.pods if p.pending)


class ClusterError(Exception):
    """A failed cluster call: ``status`` is the HTTP status, None for a timeout or no answer."""

    def __init__(self, action: str, status: int | None, reason: str) -> None:
        super().__init__(f"{action}: {status} {reason}" if status else f"{action}: {reason}")
        self.action = action
        self.status = status
        self.reason = reason
