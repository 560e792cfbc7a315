"""In-memory stores with the API server's rules: the leader-election Lease (kube/leases.py's
KubeLeases) and the event-report ConfigMaps (kube/reports.py's ReportStore).

Each answers as its real store does: a missing object is None or [] (404), a stale write or a
second create is a 409, a refused verb a 403, an API server that does not answer a ClusterError
without a status. tests/cluster/test_contract_stores.py runs the same tests on these and on the
real stores against the test cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from node_placeholder_scaler.config.sections import LeaderElectionSettings
from node_placeholder_scaler.leadership import Elector
from node_placeholder_scaler.observed import ClusterError
from node_placeholder_scaler.port import LeaseConflict, LeaseRecord
from node_placeholder_scaler.reports.record import EventReport, from_json, to_json
from testkit.fakes import T0

TIMING = LeaderElectionSettings()  # client-go's: 15 s lease, 10 s renew deadline, 2 s retry


@dataclass
class MemoryLease:
    """One Lease ``namespace/name``: the resourceVersion bumps on every write; ``forbidden``
    verbs answer 403; ``down`` makes every request go unanswered."""

    namespace: str = "test"
    name: str = "lease"
    record: LeaseRecord | None = None
    versions: int = 0
    down: bool = False
    forbidden: set[str] = field(default_factory=set)  # of "get", "create", "update"
    writes: list[LeaseRecord] = field(default_factory=list)
    requests: int = 0

    def describe(self) -> str:
        return f"{self.namespace}/{self.name}"

    def get(self) -> LeaseRecord | None:
        self._check("get")
        return self.record

    def create(self, record: LeaseRecord) -> LeaseRecord:
        self._check("create")
        if self.record is not None:
            raise LeaseConflict(
                self._action("create"),
                409,
                f'leases.coordination.k8s.io "{self.name}" already exists',
            )
        return self._store(record)

    def replace(self, record: LeaseRecord) -> LeaseRecord:
        self._check("update")
        if self.record is None:  # the API server allows create-on-update for Leases
            return self._store(record)
        if record.version != self.record.version:
            raise LeaseConflict(
                self._action("update"),
                409,
                (
                    f'Operation cannot be fulfilled on leases.coordination.k8s.io "{self.name}": '
                    "the object has been modified; please apply your changes to the latest version "
                    "and try again"
                ),
            )
        return self._store(record)

    def _store(self, record: LeaseRecord) -> LeaseRecord:
        self.versions += 1
        self.record = replace(record, version=str(self.versions))
        self.writes.append(self.record)
        return self.record

    def _action(self, verb: str) -> str:
        return f"{verb} lease {self.describe()}"

    def _check(self, verb: str) -> None:
        self.requests += 1
        if self.down:
            raise ClusterError(self._action(verb), None, "no answer (MaxRetryError)")
        if verb in self.forbidden:
            raise ClusterError(self._action(verb), 403, "forbidden")


@dataclass
class Clock:
    """A monotonic clock a test moves by hand (``now`` seconds), and the wall time with it."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.now - 1000.0)


def replica(
    name: str, lease: MemoryLease, clock: Clock, timing: LeaderElectionSettings = TIMING
) -> Elector:
    """A replica campaigning for ``lease`` on ``clock`` (its steps driven by the test)."""
    return Elector(lease, name, timing, clock=clock, wall=clock.wall)


@dataclass
class MemoryReportStore:
    """The reports of each pool, kept as ReportStore keeps them in one ConfigMap per pool (JSON
    through the report codec): a write that meets a 409 (``conflicts`` of them are injected)
    reads again and retries, three tries in all; ``forbidden`` verbs ("get", "create",
    "update") answer 403; ``garbled``: a read answers a body that is not JSON."""

    reports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # JSON, as stored
    forbidden: set[str] = field(default_factory=set)
    conflicts: int = 0
    garbled: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)  # (verb, ConfigMap name)

    def load(self, deployment: str) -> list[EventReport]:
        return [from_json(r) for r in self._get(deployment) or []]

    def add(self, deployment: str, report: EventReport, retention: int) -> None:
        name = f"{deployment}-reports"
        for attempt in range(3):
            stored = self._get(deployment)
            kept = [r for r in stored or [] if from_json(r).key != report.key]
            verb = "create" if stored is None else "update"
            self.requests.append((verb, name))
            status = 403 if verb in self.forbidden else 409 if self.conflicts else None
            if status == 409:
                self.conflicts -= 1
                if attempt < 2:
                    continue
            if status is not None:
                reason = "Forbidden" if status == 403 else "Conflict"
                raise ClusterError(f"store report {name}", status, reason)
            self.reports[deployment] = [*kept, to_json(report)][-max(1, retention) :]
            return

    def _get(self, deployment: str) -> list[dict[str, Any]] | None:
        name = f"{deployment}-reports"
        self.requests.append(("get", name))
        if "get" in self.forbidden:
            raise ClusterError(f"read reports {name}", 403, "Forbidden")
        if self.garbled:
            raise ClusterError(f"read reports {name}", None, "not JSON")
        return self.reports.get(deployment)
