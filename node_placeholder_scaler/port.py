"""The controller's port: everything it needs of the outside world, declared once.

The cluster (``Cluster``: the placeholder Deployments, the CapacityBuffers, nodes, pods and
Events; kube.Kube implements it, testkit's fakes too), the leader-election Lease
(``LeaseStore``: kube/leases.py), the API probe and the wall clock. ``WRITES`` names the
methods of ``Cluster`` that change the cluster: the leader-only gate (leadership.py) is built
from it, so a new write method is gated by adding its name here.

A new cluster call is added in three places: its method on the protocol below, kube.Kube's
method (the adapter), and the fake's. Records only: this module imports nothing above the
data layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from .backends.capacitybuffers import CapacityBuffer
from .observed import ClusterError, NodeInfo, Placeholders, PodInfo
from .reports.record import EventReport
from .subjects import Subject

History = Callable[[str], Sequence[EventReport]]  # a pool's stored event reports, oldest first

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock (a Clock): now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Notice:
    """An Event to write on a pool's placeholder Deployment."""

    pool: str
    deployment: str
    reason: str
    message: str
    warning: bool


class PlaceholderCluster(Protocol):
    """What a placeholder pool's round needs: its Deployment, the pool's nodes and their pods."""

    def read_placeholders(self, namespace: str, deployment: str) -> Placeholders: ...

    def list_nodes(self, node_selector: Mapping[str, str]) -> list[NodeInfo]: ...

    def pods_on_nodes(self, nodes: Sequence[str]) -> dict[str, list[PodInfo]]: ...

    def scale(self, namespace: str, deployment: str, replicas: int) -> None: ...

    def record_event(
        self, placeholders: Placeholders, reason: str, message: str, now: datetime
    ) -> None: ...


@runtime_checkable
class BufferCluster(Protocol):
    """What a CapacityBuffer pool's round needs."""

    def read_buffer(self, namespace: str, name: str) -> CapacityBuffer: ...

    def scale_buffer(self, namespace: str, name: str, replicas: int) -> None: ...

    def record_buffer_event(
        self,
        buffer: CapacityBuffer,
        reason: str,
        message: str,
        now: datetime,
        *,
        warning: bool = False,
    ) -> None: ...

    def clear_buffer_warning(self, buffer: CapacityBuffer) -> None: ...


class Notices(Protocol):
    """Writes a pool's Events outside a scale: outages, WouldScale, pool checks."""

    def record_notice(self, namespace: str, notice: Notice, now: datetime) -> None: ...


class EventWriter(Protocol):
    """Writes an Event about any object (the calendar problems, on the Lease)."""

    def record_about(
        self,
        namespace: str,
        subject: Subject,
        reason: str,
        message: str,
        now: datetime,
        *,
        warning: bool = False,
    ) -> None: ...


class Cluster(PlaceholderCluster, BufferCluster, Notices, EventWriter, Protocol):
    """The whole cluster surface of a round (kube.Kube; the leader gate around it)."""


WRITES: frozenset[str] = frozenset(
    {
        "scale",
        "record_event",
        "scale_buffer",
        "record_buffer_event",
        "record_notice",
        "record_about",
    }
)
"""The methods of ``Cluster`` that write; only the leader may call them."""


class ApiProbe(Protocol):
    """API usage counters and a reachability check (kube.Kube)."""

    def answered(self) -> int: ...

    def usage(self) -> tuple[int, int]: ...

    def check(self) -> None: ...


@dataclass(frozen=True)
class RoundContext:
    """What every pool of one round shares: the cluster, where, when, and whether to write."""

    cluster: PlaceholderCluster
    namespace: str
    now: datetime
    dry_run: bool
    history: History | None = None  # a pool's stored event reports (autosize)


@dataclass(frozen=True)
class LeaseRecord:
    """The Lease's spec and resourceVersion; ``holder`` None when nobody holds it."""

    holder: str | None
    lease_seconds: int | None = None
    acquired: datetime | None = None
    renewed: datetime | None = None
    transitions: int = 0
    version: str = ""


class LeaseConflict(ClusterError):
    """The Lease changed (or was created) since we read it: 409."""


class LeaseStore(Protocol):
    """One Lease (kube.leases.KubeLeases; an in-memory one in tests)."""

    def get(self) -> LeaseRecord | None:
        """The Lease, or None when it does not exist; ClusterError on other failures."""

    def create(self, record: LeaseRecord) -> LeaseRecord:
        """Create it; LeaseConflict when it exists."""

    def replace(self, record: LeaseRecord) -> LeaseRecord:
        """Replace it if still at ``record.version``; LeaseConflict when it changed."""

    def describe(self) -> str:
        """namespace/name, for logs."""
