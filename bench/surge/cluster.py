"""The test cluster side: objects of the scenario, the students, and the sampler.

Talks to the cluster through the ``kubernetes`` client and the helpers of tests/cluster.
"""

from __future__ import annotations

import contextlib
import heapq
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from kube_helpers import (
    POOL_LABEL,
    USER_POOL,
    ensure_priority_class,
    pod_manifest,
    wait_for,
)
from kubernetes import client
from kubernetes.client.rest import ApiException

from .analysis import NodeRecord, Sample, StudentRecord
from .scenario import Scenario

PLACEHOLDER_CLASS = "nps-placeholder"  # -10, as the chart sets it
USER_CLASS = "nps-user"  # 0, the students and the steady sessions
ROLE = "surge.nps/role"
SELECTOR = {POOL_LABEL: USER_POOL}


def _gi(value: float) -> str:
    return f"{round(value * 1024)}Mi"


def setup_namespace(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    try:
        core.create_namespace({"metadata": {"name": namespace}})
    except ApiException as e:
        if e.status != 409:
            raise
    wait_for(f"default ServiceAccount in {namespace}", lambda: any(
        sa.metadata.name == "default"
        for sa in core.list_namespaced_service_account(namespace).items), timeout=60)
    ensure_priority_class(api, PLACEHOLDER_CLASS, -10)
    ensure_priority_class(api, USER_CLASS, 0)


def deployment(name: str, replicas: int, cpu: str, memory: str, role: str) -> dict[str, Any]:
    """A Deployment of pause pods at -10 in the user pool (a placeholder Deployment)."""
    pod = pod_manifest(name, cpu=cpu, memory=memory, priority_class=PLACEHOLDER_CLASS,
                       node_selector=SELECTOR, labels={"app": name, ROLE: role})
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": replicas, "strategy": {"type": "Recreate"},
                 "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": pod["metadata"], "spec": pod["spec"]}},
    }


def create_deployment(api: client.ApiClient, namespace: str, body: dict[str, Any]) -> None:
    client.AppsV1Api(api).create_namespaced_deployment(namespace, body)


def user_pod(name: str, scenario: Scenario, role: str) -> dict[str, Any]:
    return pod_manifest(name, cpu=f"{round(scenario.student_cpu * 1000)}m",
                        memory=_gi(scenario.student_memory_gi), priority_class=USER_CLASS,
                        node_selector=SELECTOR, labels={"app": role, ROLE: role})


def scheduled(pod: client.V1Pod) -> bool:
    return any(c.type == "PodScheduled" and c.status == "True"
               for c in (pod.status.conditions or []))


def wait_all_scheduled(api: client.ApiClient, namespace: str, timeout: float) -> None:
    core = client.CoreV1Api(api)

    def done() -> bool:
        pods = core.list_namespaced_pod(namespace).items
        return bool(pods) and all(scheduled(p) and p.status.phase == "Running" for p in pods)

    wait_for(f"every pod in {namespace} running", done, timeout=timeout, interval=1.0)


class Students:
    """Creates each student's pod at T0 + arrival and deletes it after its stay."""

    def __init__(self, api: client.ApiClient, namespace: str, scenario: Scenario,
                 t0: float) -> None:
        self.core = client.CoreV1Api(api)
        self.namespace = namespace
        self.scenario = scenario
        self.actions: list[tuple[float, int, str]] = []
        for i, a in enumerate(scenario.arrivals()):
            heapq.heappush(self.actions, (t0 + scenario.wall(a), i, "create"))
            heapq.heappush(self.actions, (t0 + scenario.wall(a + scenario.stay), i, "delete"))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="students", daemon=True)
        self.errors: list[str] = []

    def _run(self) -> None:
        while self.actions and not self.stop.is_set():
            at, i, what = self.actions[0]
            if self.stop.wait(max(0.0, at - time.time())):
                return
            heapq.heappop(self.actions)
            name = f"student-{i:03d}"
            try:
                if what == "create":
                    self.core.create_namespaced_pod(
                        self.namespace, user_pod(name, self.scenario, "student"))
                else:
                    self.core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)
            except ApiException as e:
                self.errors.append(f"{what} {name}: {e.status} {e.reason}")


@dataclass
class _NodeState:
    created: float
    ready: float | None = None
    deleted: float | None = None


@dataclass
class Recording:
    nodes: dict[str, _NodeState] = field(default_factory=dict)
    students: dict[str, StudentRecord] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def node_records(self) -> list[NodeRecord]:
        return [NodeRecord(n, s.created, s.ready, s.deleted) for n, s in self.nodes.items()]


def _ts(moment: Any) -> float:
    return float(moment.timestamp())


class Sampler:
    """Every ``interval`` s: the pool's nodes, the placeholders and the students."""

    def __init__(self, api: client.ApiClient, namespace: str, deployment: str | None,
                 interval: float) -> None:
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.namespace = namespace
        self.deployment = deployment
        self.interval = interval
        self.rec = Recording()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(ApiException, OSError):  # missed: the next catches up
                self.sample()
            self.stop.wait(self.interval)

    def sample(self) -> Sample:
        now = time.time()
        nodes = self.core.list_node(label_selector=f"{POOL_LABEL}={USER_POOL}").items
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=ROLE).items
        desired = ready = 0
        if self.deployment:
            try:
                d = self.apps.read_namespaced_deployment(self.deployment, self.namespace)
                desired, ready = d.spec.replicas or 0, d.status.ready_replicas or 0
            except ApiException as e:
                if e.status != 404:
                    raise
        with self.lock:
            seen = set()
            ready_nodes = 0
            for n in nodes:
                seen.add(n.metadata.name)
                st = self.rec.nodes.setdefault(
                    n.metadata.name, _NodeState(_ts(n.metadata.creation_timestamp)))
                for c in n.status.conditions or []:
                    if c.type == "Ready" and c.status == "True":
                        ready_nodes += 1
                        if st.ready is None:
                            st.ready = _ts(c.last_transition_time)
            for name, st in self.rec.nodes.items():
                if name not in seen and st.deleted is None:
                    st.deleted = now
            waiting = running = 0
            for p in pods:
                if p.metadata.labels.get(ROLE) != "student":
                    continue
                when = None
                for c in p.status.conditions or []:
                    if c.type == "PodScheduled" and c.status == "True":
                        when = _ts(c.last_transition_time)
                if p.metadata.deletion_timestamp is None:
                    if when is None:
                        waiting += 1
                    else:
                        running += 1
                old = self.rec.students.get(p.metadata.name)
                if old is None or (old.scheduled is None and when is not None):
                    self.rec.students[p.metadata.name] = StudentRecord(
                        p.metadata.name, _ts(p.metadata.creation_timestamp), when)
            s = Sample(now, len(nodes), ready_nodes, desired, ready, waiting, running)
            self.rec.samples.append(s)
            return s

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
