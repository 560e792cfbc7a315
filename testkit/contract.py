"""The two targets of the contract tests (tests/cluster/test_contract*.py): the in-memory fakes
(testkit/fakes.py, testkit/fake_stores.py) and the real adapter (kube.Kube, KubeLeases,
ReportStore) on the test cluster behind a recording proxy (testkit/apiproxy.py).

A test sets the world up through the target (Deployments, nodes, pods), injects an answer
(``fail``: a status and a body) or refuses a verb (``forbid``: an RBAC-limited ServiceAccount on
the real side), calls the port, and compares what came back and ``requests()``: the API
requests made, as ``(request, key)`` in the fake's names (testkit.fakes.ACTIONS).
"""

from __future__ import annotations

import http
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from node_placeholder_scaler.observed import Resources
from testkit.apiproxy import ApiProxy, Request
from testkit.fake_stores import MemoryLease, MemoryReportStore
from testkit.fakes import FakeCluster, FakeDeployment, node, pod

GROUP_PATH = "/apis/autoscaling.x-k8s.io/v1beta1"
NS, NAME = r"(?P<ns>[^/]+)", r"(?P<name>[^/]+)"
# request -> (HTTP method, path regex) of kube.Kube's call for it
PATHS = {
    "version": ("GET", "/version"),
    "get deployment": ("GET", f"/apis/apps/v1/namespaces/{NS}/deployments/{NAME}"),
    "scale deployment": ("PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/{NAME}/scale"),
    "list placeholder pods": ("GET", f"/api/v1/namespaces/{NS}/pods"),
    "list nodes": ("GET", "/api/v1/nodes"),
    "list pods on node": ("GET", "/api/v1/pods"),
    "create event": ("POST", f"/api/v1/namespaces/{NS}/events"),
    "discover buffers": ("GET", GROUP_PATH),
    "get capacitybuffer": ("GET", f"{GROUP_PATH}/namespaces/{NS}/capacitybuffers/{NAME}"),
    "patch capacitybuffer": ("PATCH", f"{GROUP_PATH}/namespaces/{NS}/capacitybuffers/{NAME}"),
}
CPU, MEMORY = "500m", "1Gi"
RESOURCES = Resources(500, 1024**3)


def classify(request: Request) -> tuple[str, str]:
    """A logged request -> (request, key) in the fake's names."""
    for name, (method, pattern) in PATHS.items():
        found = re.fullmatch(pattern, request.path)
        if request.method != method or not found:
            continue
        parts = found.groupdict()
        key = f"{parts['ns']}/{parts['name']}" if "name" in parts else parts.get("ns", "")
        if name == "list placeholder pods":  # the Deployment's selector is app=<name>
            key = f"{key}/{request.query.get('labelSelector', '').removeprefix('app=')}"
        elif name == "list nodes":
            key = request.query.get("labelSelector", "")
        elif name == "list pods on node":
            selector = request.query.get("fieldSelector", "")
            if "watch" in request.query or not selector.startswith("spec.nodeName="):
                return "pod cache", selector  # the cache's own LIST and WATCH, not a round's
            key = selector.split(",")[0].removeprefix("spec.nodeName=")
        elif name == "create event":
            key = f"{key}/{json.loads(request.body)['involvedObject']['name']}"
        return name, key
    return request.method, request.path


def reason_of(status: int, body: bytes) -> str:
    """What kube.Kube makes of an error answer: the Status message, else the HTTP reason."""
    try:
        return str(json.loads(body).get("message") or http.HTTPStatus(status).phrase)
    except (ValueError, AttributeError):
        return http.HTTPStatus(status).phrase


# a request -> what RBAC must allow for it (apiGroup, resource, verb)
PERMISSIONS = {
    "get deployment": ("apps", "deployments", "get"),
    "scale deployment": ("apps", "deployments/scale", "patch"),
    "list placeholder pods": ("", "pods", "list"),
    "create event": ("", "events", "create"),
    "get capacitybuffer": ("autoscaling.x-k8s.io", "capacitybuffers", "get"),
    "patch capacitybuffer": ("autoscaling.x-k8s.io", "capacitybuffers", "patch"),
    "lease get": ("coordination.k8s.io", "leases", "get"),
    "lease create": ("coordination.k8s.io", "leases", "create"),
    "lease update": ("coordination.k8s.io", "leases", "update"),
    "reports get": ("", "configmaps", "get"),
    "reports create": ("", "configmaps", "create"),
    "reports update": ("", "configmaps", "update"),
}
LEASE = "contract"


def buffer_body(namespace: str, name: str, replicas: int, template: str) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling.x-k8s.io/v1beta1",
        "kind": "CapacityBuffer",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podTemplateRef": {"name": template},
            "replicas": replicas,
            "provisioningStrategy": "buffer.x-k8s.io/active-capacity",
        },
    }


@dataclass
class FakeTarget:
    """The fakes, set up and failed as the real target is."""

    namespace: str = "contract"

    def __post_init__(self) -> None:
        self.cluster = FakeCluster(namespace=self.namespace)
        self.lease = MemoryLease(namespace=self.namespace, name=LEASE)
        self.reports = MemoryReportStore()

    def deployment(self, name: str, replicas: int) -> None:
        self.cluster.deployments[name] = FakeDeployment(replicas, RESOURCES)

    def node(self, name: str, labels: dict[str, str]) -> None:
        self.cluster.nodes.append(node(name, labels=labels, now=datetime.now(UTC)))

    def events(self) -> list[tuple[str, str, str, str]]:
        """As the real target's: sorted."""
        warnings = set(self.cluster.warnings)
        return sorted((*e, "Warning" if e in warnings else "Normal") for e in self.cluster.events)

    def cache_pods(self) -> None:
        self.cluster.pod_cache = True

    def bound_pod(self, name: str, node_name: str) -> None:
        self.cluster.pods.append(pod(name, node_name, namespace=self.namespace))

    def buffer(self, name: str, replicas: int) -> None:
        self.cluster.buffers[name] = buffer_body(self.namespace, name, replicas, name)

    def fail(self, request: str, key: str, status: int, body: bytes) -> None:
        """``request`` for ``key`` answers ``status`` with ``body`` (an error, or a 200 with
        a body that is not JSON, or a malformed CapacityBuffer; 0: no answer at all)."""
        if status == 0:  # the connection closed with no answer
            self.cluster.fail(request, key, None, "no answer (MaxRetryError)")
        elif status >= 400:
            self.cluster.fail(request, key, status, reason_of(status, body))
        elif request == "get capacitybuffer" and _is_json(body):
            self.cluster.buffers[key.rpartition("/")[2]] = json.loads(body)
        else:
            self.cluster.fail_unreadable(request, key)

    def conflict_reports(self, times: int) -> None:
        self.reports.conflicts = times

    def garble_reports(self) -> None:
        self.reports.garbled = True

    def forbid(self, *requests: str) -> None:
        for request in requests:
            store, _, verb = request.partition(" ")
            if store == "lease":
                self.lease.forbidden.add(verb)
            elif store == "reports":
                self.reports.forbidden.add(verb)
            else:
                self.cluster.forbidden.add(request)

    def requests(self) -> list[tuple[str, str]]:
        return list(self.cluster.calls)

    def lease_requests(self) -> int:
        return self.lease.requests

    def report_requests(self) -> list[tuple[str, str]]:
        return list(self.reports.requests)

    def reset(self) -> None:
        self.cluster.calls.clear()
        self.reports.requests.clear()
        self.lease.requests = 0


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def targets() -> list[Any]:
    """The ``params`` of a contract test's target fixture: the fakes (fast suite) and the real
    adapter on the test cluster (marked ``cluster``)."""
    import pytest

    return ["fake", pytest.param("kube", marks=pytest.mark.cluster)]


def open_target(request: Any) -> Iterator[Any]:
    """The body of a contract test's target fixture (``request``: pytest's FixtureRequest);
    the real target uses the cluster tests' ``kube_api`` and ``namespace`` fixtures."""
    if request.param == "fake":
        yield FakeTarget()
        return
    from testkit.contract_kube import KubeTarget

    admin = request.getfixturevalue("kube_api")
    namespace = request.getfixturevalue("namespace")
    proxy = ApiProxy(admin)
    with proxy.serving():
        target = KubeTarget(admin, namespace.name, proxy)
        try:
            yield target
        finally:
            target.close()
