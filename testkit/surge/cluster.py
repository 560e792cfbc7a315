"""The test cluster side: objects of the scenario, the students, and the sampler.

Talks to the cluster through the ``kubernetes`` client and testkit.cluster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from testkit.cluster import ensure_priority_class, wait_for
from testkit.manifests import POOL_LABEL, USER_POOL, pod_manifest

from .analysis import NodeRecord, PodRecord, Sample, StudentRecord
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
    wait_for(
        f"default ServiceAccount in {namespace}",
        lambda: any(
            sa.metadata.name == "default"
            for sa in core.list_namespaced_service_account(namespace).items
        ),
        timeout=60,
    )
    ensure_priority_class(api, PLACEHOLDER_CLASS, -10)
    ensure_priority_class(api, USER_CLASS, 0)


def deployment(
    name: str,
    replicas: int,
    cpu: str,
    memory: str,
    role: str,
    *,
    placement: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Deployment of pause pods at -10 in the user pool (a placeholder Deployment);
    ``placement``: more keys of its pod spec (a schedulerName, tolerations)."""
    pod = pod_manifest(
        name,
        cpu=cpu,
        memory=memory,
        priority_class=PLACEHOLDER_CLASS,
        node_selector=SELECTOR,
        labels={"app": name, ROLE: role},
    )
    pod["spec"].update(placement or {})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
        },
    }


def create_buffer(
    api: client.ApiClient,
    namespace: str,
    name: str,
    cpu: str,
    memory: str,
    *,
    placement: Mapping[str, Any] | None = None,
) -> None:
    """A node-sized PodTemplate and its CapacityBuffer (replicas 0), as the chart renders them
    for a pool with backend capacityBuffer."""
    pod = pod_manifest(
        name, cpu=cpu, memory=memory, node_selector=SELECTOR, labels={"app": name, ROLE: "buffer"}
    )
    pod["spec"].update(placement or {})
    client.CoreV1Api(api).create_namespaced_pod_template(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": name},
            "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
        },
    )
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        "autoscaling.x-k8s.io",
        "v1beta1",
        namespace,
        "capacitybuffers",
        {
            "apiVersion": "autoscaling.x-k8s.io/v1beta1",
            "kind": "CapacityBuffer",
            "metadata": {"name": name},
            "spec": {
                "provisioningStrategy": "buffer.x-k8s.io/active-capacity",
                "podTemplateRef": {"name": name},
                "replicas": 0,
            },
        },
    )


def preemptions(api: client.ApiClient, namespace: str) -> int:
    """Pods of the namespace the scheduler preempted (its ``Preempted`` Events)."""
    events = client.CoreV1Api(api).list_namespaced_event(
        namespace, field_selector="reason=Preempted"
    )
    return sum(int(e.count or 1) for e in events.items)


def create_deployment(api: client.ApiClient, namespace: str, body: dict[str, Any]) -> None:
    client.AppsV1Api(api).create_namespaced_deployment(namespace, body)


# A hub profile that asks for a label the pool's nodes do not carry (z2jh's node-purpose):
# the pod targets the pool but fits no node, and no autoscaler can add one for it.
MISMATCH = {**SELECTOR, "hub.jupyter.org/node-purpose": "user"}


def user_pod(name: str, scenario: Scenario, role: str, *, blocked: bool = False) -> dict[str, Any]:
    return pod_manifest(
        name,
        cpu=f"{round(scenario.student_cpu * 1000)}m",
        memory=_gi(scenario.student_memory_gi),
        priority_class=USER_CLASS,
        node_selector=MISMATCH if blocked else SELECTOR,
        labels={"app": role, ROLE: role},
    )


def role_of(pod: client.V1Pod) -> str:
    """A pod's part in the scenario ("" for none): its ROLE label, or for z2jh's pods its
    component (a KubeSpawner student, whose user name says steady or student; a user
    placeholder)."""
    labels = pod.metadata.labels or {}
    component = labels.get("component")
    if ROLE in labels:
        return str(labels[ROLE])
    if component == "singleuser-server":
        user = labels.get("hub.jupyter.org/username") or pod.metadata.name or ""
        return "steady" if "steady" in user else "student"
    return "placeholder" if component == "user-placeholder" else ""


def scheduled(pod: client.V1Pod) -> bool:
    return any(
        c.type == "PodScheduled" and c.status == "True" for c in (pod.status.conditions or [])
    )


def wait_all_scheduled(api: client.ApiClient, namespace: str, timeout: float) -> None:
    core = client.CoreV1Api(api)

    def done() -> bool:
        pods = core.list_namespaced_pod(namespace).items
        return bool(pods) and all(scheduled(p) and p.status.phase == "Running" for p in pods)

    wait_for(f"every pod in {namespace} running", done, timeout=timeout, interval=1.0)


class Spawner(Protocol):
    """Starts and ends a user's session (its pod): plain pods here, KubeSpawner in z2jh.py."""

    def create(self, name: str, role: str, blocked: bool) -> None: ...

    def delete(self, name: str) -> None: ...

    def problems(self) -> list[str]:
        """Sessions that failed to start or end (as reported after the fact)."""
        ...


class PlainSpawner:
    """A session is a pause pod of the student's size (``user_pod``), created and deleted."""

    def __init__(self, api: client.ApiClient, namespace: str, scenario: Scenario) -> None:
        self.core = client.CoreV1Api(api)
        self.namespace = namespace
        self.scenario = scenario

    def create(self, name: str, role: str, blocked: bool) -> None:
        self.core.create_namespaced_pod(
            self.namespace, user_pod(name, self.scenario, role, blocked=blocked)
        )

    def delete(self, name: str) -> None:
        self.core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)

    def problems(self) -> list[str]:
        return []  # create and delete raise at once (Students records them)


class Students:
    """Starts each student's session at T0 + arrival and ends it after its stay."""

    def __init__(self, spawner: Spawner, scenario: Scenario, t0: float) -> None:
        self.spawner = spawner
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
                    k = self.scenario.blocked_every
                    self.spawner.create(name, "student", bool(k) and i % k == k - 1)
                else:
                    self.spawner.delete(name)
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
    pods: dict[str, PodRecord] = field(default_factory=dict)  # by uid, placeholders included

    def node_records(self) -> list[NodeRecord]:
        return [NodeRecord(n, s.created, s.ready, s.deleted) for n, s in self.nodes.items()]


def _ts(moment: Any) -> float:
    return float(moment.timestamp())


class Sampler:
    """Every ``interval`` s: the pool's nodes, the placeholders and the students."""

    def __init__(
        self,
        api: client.ApiClient,
        namespace: str,
        deployment: str | None,
        interval: float,
        buffer: str | None = None,
        *,
        statefulset: str | None = None,
    ) -> None:
        self.buffer = buffer  # a CapacityBuffer: its spec.replicas is the "desired" column
        self.statefulset = statefulset  # z2jh's user placeholders (instead of a Deployment)
        self.custom = client.CustomObjectsApi(api)
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
        pods = [p for p in self.core.list_namespaced_pod(self.namespace).items if role_of(p)]
        desired = ready = 0
        if self.deployment:
            try:
                d = self.apps.read_namespaced_deployment(self.deployment, self.namespace)
                desired, ready = d.spec.replicas or 0, d.status.ready_replicas or 0
            except ApiException as e:
                if e.status != 404:
                    raise
        if self.statefulset:
            sts = self.apps.read_namespaced_stateful_set(self.statefulset, self.namespace)
            desired, ready = sts.spec.replicas or 0, sts.status.ready_replicas or 0
        if self.buffer:
            body: Any = self.custom.get_namespaced_custom_object(
                "autoscaling.x-k8s.io", "v1beta1", self.namespace, "capacitybuffers", self.buffer
            )
            desired = int((body.get("spec") or {}).get("replicas") or 0)
        with self.lock:
            seen = set()
            ready_nodes = 0
            for n in nodes:
                seen.add(n.metadata.name)
                st = self.rec.nodes.setdefault(
                    n.metadata.name, _NodeState(_ts(n.metadata.creation_timestamp))
                )
                for c in n.status.conditions or []:
                    if c.type == "Ready" and c.status == "True":
                        ready_nodes += 1
                        if st.ready is None:
                            st.ready = _ts(c.last_transition_time)
            for name, st in self.rec.nodes.items():
                if name not in seen and st.deleted is None:
                    st.deleted = now
            self._record_pods(pods, now)
            waiting = running = 0
            for p in pods:
                if role_of(p) != "student":
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
                        p.metadata.name, _ts(p.metadata.creation_timestamp), when
                    )
            s = Sample(now, len(nodes), ready_nodes, desired, ready, waiting, running)
            self.rec.samples.append(s)
            return s

    def _record_pods(self, pods: list[client.V1Pod], now: float) -> None:
        """Each pod's timeline; a pod no longer listed was deleted by ``now``."""
        seen = set()
        for p in pods:
            uid = p.metadata.uid
            seen.add(uid)
            old = self.rec.pods.get(uid) or PodRecord(
                p.metadata.name,
                role_of(p),
                _ts(p.metadata.creation_timestamp),
                int(p.spec.priority or 0),
                dict(p.spec.node_selector or {}),
            )
            changes: dict[str, Any] = {"node": p.spec.node_name or old.node}
            for c in p.status.conditions or []:
                if c.type == "PodScheduled" and c.status == "True" and old.scheduled is None:
                    changes["scheduled"] = _ts(c.last_transition_time)
                elif c.type == "PodScheduled" and c.status == "False":
                    changes["unschedulable"] = c.message
                elif c.type == "Ready" and c.status == "True" and old.ready is None:
                    changes["ready"] = _ts(c.last_transition_time)
            if p.metadata.deletion_timestamp is not None and old.deleted is None:
                changes["deleted"] = _ts(p.metadata.deletion_timestamp)
            self.rec.pods[uid] = dataclasses.replace(old, **changes)
        for uid, old in self.rec.pods.items():
            if uid not in seen and old.deleted is None:
                self.rec.pods[uid] = dataclasses.replace(old, deleted=now)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def event_reports(api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    """The controller's stored event reports of every pool (placeholder Deployment or
    CapacityBuffer: each pool's ConfigMap labelled as event reports), with the text of the
    EventReport Event about the same occurrence where there is one."""
    import json

    core = client.CoreV1Api(api)
    out: list[dict[str, Any]] = []
    with contextlib.suppress(ApiException):
        maps = core.list_namespaced_config_map(
            namespace, label_selector="app.kubernetes.io/component=event-reports"
        )
        for cm in sorted(maps.items, key=lambda c: str(c.metadata.name)):
            for report in json.loads((cm.data or {}).get("reports.json", "[]")):
                out.append({**report, "configmap": cm.metadata.name})
    with contextlib.suppress(ApiException):
        events = core.list_namespaced_event(namespace, field_selector="reason=EventReport")
        attach_messages(out, [e.message or "" for e in events.items])
    return out


def attach_messages(reports: list[dict[str, Any]], texts: list[str]) -> None:
    """Each report gets the EventReport Event's text about its occurrence: the text begins
    with the event's title and its start to the minute."""
    for report in reports:
        head = f"{report.get('title', '')} ({str(report.get('start', ''))[:16]})"
        for text in texts:
            if text.startswith(head):
                report["event_message"] = text
