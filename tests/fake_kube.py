"""An in-memory fake of the cluster interface reconcile.py uses (kube.Kube's methods).

Plain state you set up in a test (nodes, pods, placeholder Deployments), a record of what the
controller did (scales, events, calls), and failures you can inject per method and object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from node_placeholder_scaler.observed import (
    ClusterError,
    NodeInfo,
    Placeholders,
    PodInfo,
    Resources,
    Taint,
    Toleration,
)

GI = 1024**3
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def node(
    name: str,
    *,
    cpu: float = 4,
    memory_gi: float = 16,
    gpu: int = 0,
    labels: Mapping[str, str] | None = None,
    ready: bool = True,
    unschedulable: bool = False,
    taints: Sequence[Taint] = (),
    age: timedelta = timedelta(hours=1),
    now: datetime = T0,
) -> NodeInfo:
    extended = {"nvidia.com/gpu": gpu} if gpu else {}
    return NodeInfo(
        name=name,
        labels=dict(labels or {"pool": "user"}),
        allocatable=Resources(int(cpu * 1000), int(memory_gi * GI), extended),
        ready=ready,
        unschedulable=unschedulable,
        taints=tuple(taints),
        created=now - age,
    )


def pod(
    name: str,
    node_name: str | None,
    *,
    cpu: float = 0,
    memory_gi: float = 0,
    gpu: int = 0,
    phase: str = "Running",
    namespace: str = "users",
) -> PodInfo:
    extended = {"nvidia.com/gpu": gpu} if gpu else {}
    return PodInfo(
        name=name,
        namespace=namespace,
        node=node_name,
        phase=phase,
        requests=Resources(int(cpu * 1000), int(memory_gi * GI), extended),
    )


@dataclass
class FakeDeployment:
    replicas: int
    requests: Resources
    tolerations: tuple[Toleration, ...] = ()
    pods: list[PodInfo] = field(default_factory=list)  # placeholder pods (set by the test)
    uid: str = "uid-1"


@dataclass
class FakeCluster:
    namespace: str = "node-placeholder"
    nodes: list[NodeInfo] = field(default_factory=list)
    pods: list[PodInfo] = field(default_factory=list)  # pods bound to nodes (not placeholders)
    deployments: dict[str, FakeDeployment] = field(default_factory=dict)
    failures: dict[tuple[str, str], ClusterError] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    scales: list[tuple[str, int]] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # deployment, reason, message
    answers: int = 0  # calls that got an answer (any status), as kube.Kube counts them

    def fail(self, method: str, key: str, status: int | None, reason: str = "boom") -> None:
        """Make ``method`` fail for ``key`` (a deployment, node or selector value)."""
        self.failures[(method, key)] = ClusterError(f"{method} {key}", status, reason)

    def _enter(self, method: str, key: str) -> None:
        self.calls.append((method, key))
        error = self.failures.get((method, key))
        self.answers += error is None or error.status is not None
        if error is not None:
            raise error

    # The API usage probe (kube.Kube is both the Cluster and the probe): every call above is
    # one request of 100 bytes.
    def usage(self) -> tuple[int, int]:
        return len(self.calls), 100 * len(self.calls)

    def answered(self) -> int:
        return self.answers

    def check(self) -> None:
        self._enter("check", "")

    def read_placeholders(self, namespace: str, deployment: str) -> Placeholders:
        self._enter("read_placeholders", deployment)
        found = self.deployments.get(deployment) if namespace == self.namespace else None
        if found is None:
            raise ClusterError(f"get deployment {namespace}/{deployment}", 404, "not found")
        return Placeholders(
            namespace=namespace,
            deployment=deployment,
            uid=found.uid,
            replicas=found.replicas,
            selector=f"app={deployment}",
            requests=found.requests,
            tolerations=found.tolerations,
            pods=tuple(found.pods),
        )

    def list_nodes(self, node_selector: Mapping[str, str]) -> list[NodeInfo]:
        self._enter("list_nodes", ",".join(node_selector.values()))
        return [
            n for n in self.nodes if all(n.labels.get(k) == v for k, v in node_selector.items())
        ]

    def pods_on_nodes(self, nodes: Sequence[str]) -> dict[str, list[PodInfo]]:
        result: dict[str, list[PodInfo]] = {}
        for name in nodes:
            self._enter("pods_on_node", name)
            bound = [*self.pods, *(p for d in self.deployments.values() for p in d.pods)]
            result[name] = [p for p in bound if p.node == name and not p.terminated]
        return result

    def scale(self, namespace: str, deployment: str, replicas: int) -> None:
        self._enter("scale", deployment)
        found = self.deployments.get(deployment)
        if found is None:
            raise ClusterError(f"scale {deployment}", 404, "not found")
        found.replicas = replicas
        self.scales.append((deployment, replicas))

    def record_event(
        self, placeholders: Placeholders, reason: str, message: str, now: datetime
    ) -> None:
        self._enter("record_event", placeholders.deployment)
        self.events.append((placeholders.deployment, reason, message))


def placeholder_pods(deployment: str, nodes: Sequence[str | None]) -> list[PodInfo]:
    """Placeholder pods: bound to the given nodes, or Pending where the entry is None."""
    return [
        replace(
            pod(f"{deployment}-{i}", n, cpu=3.5, memory_gi=14, namespace="node-placeholder"),
            phase="Running" if n else "Pending",
        )
        for i, n in enumerate(nodes)
    ]
