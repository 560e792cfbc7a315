"""An in-memory cluster behind the controller's cluster port, held to kube.Kube's behaviour.

Plain state a test sets up (nodes, pods, placeholder Deployments, CapacityBuffers as API JSON),
a record of what the controller did (``calls``: every API request kube.Kube would make, as
``(request, key)``; ``scales``, ``events``), and answers a test injects per request and key.

The requests and their keys (``ns/name`` for namespaced objects) are those of kube.Kube, one
entry per HTTP request: ``read_placeholders`` is a Deployment GET and a pod LIST, each of which
can fail on its own; ``pods_on_nodes`` one LIST per node, every node asked before the first
failure is raised; an outage Event first GETs its Deployment's uid. tests/cluster/test_contract.py
runs the same tests on this fake and on kube.Kube against the test cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from node_placeholder_scaler.backends.capacitybuffers import (
    API_VERSION,
    KIND,
    NOT_SERVED,
    CapacityBuffer,
    parse_buffer,
)
from node_placeholder_scaler.observed import (
    ClusterError,
    NodeInfo,
    Placeholders,
    PodInfo,
    Resources,
    Taint,
    Toleration,
)
from node_placeholder_scaler.port import Notice
from node_placeholder_scaler.subjects import Subject

T = TypeVar("T")
GI = 1024**3
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DEPLOYMENTS, BUFFERS = "deployments.apps", "capacitybuffers.autoscaling.x-k8s.io"
BYTES_PER_ANSWER = 100  # the fake's response size, for the API usage probe

# request -> (the action kube.Kube names in its ClusterError; "{key}" is the request's key)
ACTIONS = {
    "version": "version",
    "get deployment": "get deployment {key}",
    "list placeholder pods": "list placeholder pods {key}",
    "list nodes": "list nodes",
    "list pods on node": "list pods on {key}",
    "scale deployment": "scale deployment {key}",
    "create event": "create event",
    "discover buffers": f"discover {API_VERSION}",
    "get capacitybuffer": "get capacitybuffer {key}",
    "patch capacitybuffer": "patch capacitybuffer {key}",
}


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


def placeholder_pods(deployment: str, nodes: Sequence[str | None]) -> list[PodInfo]:
    """Placeholder pods: bound to the given nodes, or Pending where the entry is None."""
    return [
        replace(
            pod(f"{deployment}-{i}", n, cpu=3.5, memory_gi=14, namespace="node-placeholder"),
            phase="Running" if n else "Pending",
        )
        for i, n in enumerate(nodes)
    ]


@dataclass
class FakeDeployment:
    replicas: int
    requests: Resources
    tolerations: tuple[Toleration, ...] = ()
    pods: list[PodInfo] = field(default_factory=list)  # placeholder pods (set by the test)
    uid: str = "uid-1"


@dataclass(frozen=True)
class Answer:
    """An injected failure of one request: the ClusterError kube.Kube raises for it."""

    status: int | None  # None: no answer (timeout, refused) or an answer that is not JSON
    reason: str
    answered: bool  # the API server answered (counted by ``answered()``)


def not_found(resource: str, name: str) -> str:
    """The API server's 404 message, as kube.Kube passes it on."""
    return f'{resource} "{name}" not found'


@dataclass
class FakeCluster:
    """The cluster port in memory. Deployments and buffers live in ``namespace`` only."""

    namespace: str = "node-placeholder"
    nodes: list[NodeInfo] = field(default_factory=list)
    pods: list[PodInfo] = field(default_factory=list)  # pods bound to nodes (not placeholders)
    deployments: dict[str, FakeDeployment] = field(default_factory=dict)
    buffers: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> API JSON
    buffer_api: bool = True  # autoscaling.x-k8s.io/v1beta1 served (the CRD is installed)
    pod_cache: bool = False  # pods_on_nodes served from a synced watch cache (no request)
    failures: dict[tuple[str, str], Answer] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)  # requests RBAC refuses (403), any key
    calls: list[tuple[str, str]] = field(default_factory=list)
    scales: list[tuple[str, int]] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # object, reason, message
    warnings: list[tuple[str, str, str]] = field(default_factory=list)  # Warning Events alone
    warned: dict[tuple[str, str], str] = field(default_factory=dict)
    answers: int = 0  # requests that got an answer (any status), as kube.Kube counts them

    # -- set-up -------------------------------------------------------------------------
    def fail(self, request: str, key: str, status: int | None, reason: str = "boom") -> None:
        """Make ``request`` (a key of ACTIONS) for ``key`` fail with HTTP ``status`` (None:
        no answer)."""
        if request not in ACTIONS:
            raise ValueError(f"not a request of kube.Kube: {request!r} (one of {sorted(ACTIONS)})")
        self.failures[(request, self._key(request, key))] = Answer(
            status, reason, status is not None
        )

    def fail_unreadable(self, request: str, key: str) -> None:
        """``request`` answers 200 with a body that is not JSON."""
        self.failures[(request, self._key(request, key))] = Answer(None, "not JSON", True)

    def heal(self, request: str, key: str) -> None:
        self.failures.pop((request, self._key(request, key)), None)

    def _key(self, request: str, key: str) -> str:
        namespaced = request not in (
            "version",
            "list nodes",
            "list pods on node",
            "discover buffers",
        )
        return f"{self.namespace}/{key}" if namespaced and "/" not in key else key

    def _request(self, request: str, key: str) -> None:
        self.calls.append((request, key))
        failure = self.failures.get((request, key))
        if failure is None and request in self.forbidden:
            failure = Answer(403, f"{request} {key} is forbidden", True)
        self.answers += failure is None or failure.answered
        if failure is not None:
            raise ClusterError(ACTIONS[request].format(key=key), failure.status, failure.reason)

    # -- the API usage probe (kube.Kube is both the cluster and the probe) -----------------
    def usage(self) -> tuple[int, int]:
        return len(self.calls), BYTES_PER_ANSWER * len(self.calls)

    def answered(self) -> int:
        return self.answers

    def check(self) -> None:
        self._request("version", "")

    # -- placeholder pools -----------------------------------------------------------------
    def _object(
        self, request: str, namespace: str, name: str, objects: Mapping[str, T], resource: str
    ) -> T:
        """One request about object ``namespace/name``: it, or the API server's 404."""
        key = f"{namespace}/{name}"
        self._request(request, key)
        found = objects.get(name) if namespace == self.namespace else None
        if found is None:
            raise ClusterError(ACTIONS[request].format(key=key), 404, not_found(resource, name))
        return found

    def _deployment(self, namespace: str, name: str) -> FakeDeployment:
        return self._object("get deployment", namespace, name, self.deployments, DEPLOYMENTS)

    def read_placeholders(self, namespace: str, deployment: str) -> Placeholders:
        found = self._deployment(namespace, deployment)
        selector = f"app={deployment}"
        self._request("list placeholder pods", f"{namespace}/{deployment}")
        return Placeholders(
            namespace=namespace,
            deployment=deployment,
            uid=found.uid,
            replicas=found.replicas,
            selector=selector,
            requests=found.requests,
            tolerations=found.tolerations,
            pods=tuple(sorted(found.pods, key=lambda p: p.name)),
        )

    def list_nodes(self, node_selector: Mapping[str, str]) -> list[NodeInfo]:
        self._request("list nodes", ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())))
        return [
            n for n in self.nodes if all(n.labels.get(k) == v for k, v in node_selector.items())
        ]

    def pods_on_nodes(self, nodes: Sequence[str]) -> dict[str, list[PodInfo]]:
        """Every node is asked (kube.Kube asks in parallel); then the first failure, in the
        order of ``nodes``, is raised."""
        bound = [*self.pods, *(p for d in self.deployments.values() for p in d.pods)]
        result: dict[str, list[PodInfo]] = {}
        errors: list[ClusterError] = []
        for name in nodes:
            try:
                if not self.pod_cache:
                    self._request("list pods on node", name)
            except ClusterError as error:
                errors.append(error)
                continue
            result[name] = [p for p in bound if p.node == name and not p.terminated]
        if errors:
            raise errors[0]
        return result

    def scale(self, namespace: str, deployment: str, replicas: int) -> None:
        found = self._object(
            "scale deployment", namespace, deployment, self.deployments, DEPLOYMENTS
        )
        found.replicas = replicas
        self.scales.append((deployment, replicas))

    # -- Events ------------------------------------------------------------------------------
    def _event(
        self, namespace: str, name: str, reason: str, message: str, *, warning: bool = False
    ) -> None:
        self._request("create event", f"{namespace}/{name}")
        if namespace != self.namespace:
            raise ClusterError("create event", 404, not_found("namespaces", namespace))
        self.events.append((name, reason, message))
        if warning:
            self.warnings.append((name, reason, message))

    def record_event(
        self, placeholders: Placeholders, reason: str, message: str, now: datetime
    ) -> None:
        self._event(placeholders.namespace, placeholders.deployment, reason, message)

    def _uid(self, namespace: str, deployment: str) -> str:
        try:
            return self._deployment(namespace, deployment).uid
        except ClusterError:
            return ""

    def record_notice(self, namespace: str, notice: Notice, now: datetime) -> None:
        self._uid(namespace, notice.deployment)
        self._event(
            namespace, notice.deployment, notice.reason, notice.message, warning=notice.warning
        )

    def record_about(
        self,
        namespace: str,
        subject: Subject,
        reason: str,
        message: str,
        now: datetime,
        *,
        warning: bool = False,
    ) -> None:
        if subject.kind == "Deployment":
            self._uid(namespace, subject.name)
        self._event(namespace, subject.name, reason, message, warning=warning)

    # -- CapacityBuffers -------------------------------------------------------------------
    def buffer_api_served(self) -> bool:
        self._request("discover buffers", "")
        return self.buffer_api

    def read_buffer(self, namespace: str, name: str) -> CapacityBuffer:
        served = self.buffers if self.buffer_api else {}
        try:
            body = self._object("get capacitybuffer", namespace, name, served, BUFFERS)
        except ClusterError as error:
            if error.status == 404 and not self.buffer_api_served():
                raise ClusterError(error.action, 404, NOT_SERVED) from None
            raise
        try:
            return parse_buffer(body)
        except ValueError as error:
            raise ClusterError(
                ACTIONS["get capacitybuffer"].format(key=f"{namespace}/{name}"),
                None,
                f"unreadable {KIND}: {error}",
            ) from None

    def scale_buffer(self, namespace: str, name: str, replicas: int) -> None:
        body = self._object("patch capacitybuffer", namespace, name, self.buffers, BUFFERS)
        body.setdefault("spec", {})["replicas"] = replicas
        self.scales.append((name, replicas))

    def record_buffer_event(
        self,
        buffer: CapacityBuffer,
        reason: str,
        message: str,
        now: datetime,
        *,
        warning: bool = False,
    ) -> None:
        """A Warning is written once per new text of a buffer (as kube.Kube de-duplicates)."""
        key = (buffer.namespace, buffer.name)
        if warning and self.warned.get(key) == message:
            return
        self._event(buffer.namespace, buffer.name, reason, message, warning=warning)
        if warning:
            self.warned[key] = message

    def clear_buffer_warning(self, buffer: CapacityBuffer) -> None:
        self.warned.pop((buffer.namespace, buffer.name), None)

    @property
    def buffer_events(self) -> list[tuple[str, str, str]]:
        """The Events written about CapacityBuffers."""
        return [e for e in self.events if e[0] in self.buffers]
