"""zero-to-jupyterhub's students, user scheduler and user placeholders beside our placeholders.

On the test cluster with z2jh's user scheduler (a second kube-scheduler with z2jh 4.4.0's
packing configuration): two warm user nodes with z2jh's label and taint, one held by our
placeholder (a node-sized pause pod of a Deployment, as the chart renders a pool with
``schedulerName: jhub-user-scheduler`` and z2jh's tolerations), the other by z2jh's
``user-placeholder`` StatefulSet (user-sized pause pods), z2jh's continuous image puller on
both. Students are spawned by KubeSpawner's own start() with z2jh's values for user pods.

Which placeholder a student preempts is the scheduler's choice among the nodes where evicting
lower-priority pods makes room: first the node whose most important victim has the lowest
priority; at equal priority (z2jh's -10 and ours -10) the node whose victims started last.
So ours go first only when z2jh's user placeholders are above ours (-9 here).

Also: the same under Karpenter with a NodePool of z2jh user nodes; the user scheduler packing
students onto one node where the default scheduler spreads them; a student still Pending at
KubeSpawner's start_timeout failing and its pod deleted, as JupyterHub does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from kubernetes import client

from testkit import z2jh
from testkit.cluster import (
    Namespace,
    TestCluster,
    create_node,
    delete_node,
    ensure_priority_class,
    node_schedulable,
    unique_name,
    wait_for,
)
from testkit.manifests import POOL_LABEL, pod_manifest
from testkit.z2jh_students import STUDENT_SELECTOR, Hub, SpawnerValues, student_pods

pytestmark = pytest.mark.cluster

OUR_CLASS = "nps-placeholder"  # -10, the chart's default priorityClass.value
OUR_PRIORITY = -10
NODE_CPU = "4"
STUDENT_CPU = 1.0
STUDENT_MEMORY = "3G"


@dataclass
class Site:
    """One test's z2jh site: its namespace, its two user nodes and its hub."""

    api: client.ApiClient
    cluster: TestCluster
    ns: str
    scheduler: str
    # This test's nodes only (z2jh's singleuser.nodeSelector), so that no other test's node
    # and no other pool takes part: a label of hand-made nodes, or of a NodePool's.
    selector: dict[str, str]
    nodes: list[str] = field(default_factory=list)
    core: client.CoreV1Api = field(init=False)
    apps: client.AppsV1Api = field(init=False)

    def __post_init__(self) -> None:
        self.core, self.apps = client.CoreV1Api(self.api), client.AppsV1Api(self.api)

    def add_user_node(self) -> str:
        name = unique_name("z2jh-user")
        create_node(self.api, z2jh.user_node(name, extra_labels=self.selector, cpu=NODE_CPU))
        self.nodes.append(name)
        wait_for(
            f"node {name} schedulable",
            lambda: node_schedulable(self.core.read_node(name)),
            timeout=60,
        )
        return name

    def pods(self, selector: str) -> list[Any]:
        return [
            p
            for p in self.core.list_namespaced_pod(self.ns, label_selector=selector).items
            if p.metadata.deletion_timestamp is None
        ]

    def running(self, selector: str, count: int, timeout: float = 90) -> list[Any]:
        def probe() -> list[Any]:
            pods = self.pods(selector)
            ok = len(pods) == count and all(p.status.phase == "Running" for p in pods)
            return pods if ok else []

        return wait_for(f"{count} running pods {selector}", probe, timeout=timeout)

    def our_placeholders(self, replicas: int) -> None:
        """Our placeholder Deployment as the chart renders a z2jh pool: node-sized pause pods,
        our PriorityClass, the pool's nodeSelector, z2jh's tolerations, the user scheduler."""
        pod = pod_manifest(
            "placeholder-user",
            cpu="3500m",
            memory="13Gi",
            priority_class=OUR_CLASS,
            node_selector={z2jh.NODE_PURPOSE_LABEL: "user", **self.selector},
            tolerations=z2jh.USER_TOLERATIONS,
            labels={"app.kubernetes.io/component": "placeholder"},
        )
        pod["spec"]["schedulerName"] = self.scheduler
        self.apps.create_namespaced_deployment(
            self.ns,
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "placeholder-user"},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": pod["metadata"]["labels"]},
                    "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
                },
            },
        )

    def z2jh_placeholders(self, replicas: int) -> None:
        self.apps.create_namespaced_stateful_set(
            self.ns,
            z2jh.user_placeholder_statefulset(
                replicas, cpu=str(STUDENT_CPU), memory=STUDENT_MEMORY, node_selector=self.selector
            ),
        )
        client.PolicyV1Api(self.api).create_namespaced_pod_disruption_budget(
            self.ns, z2jh.user_placeholder_pdb()
        )

    def image_puller(self) -> None:
        self.apps.create_namespaced_daemon_set(
            self.ns, z2jh.continuous_image_puller(node_selector=self.selector)
        )

    def hub(self, scheduler: str | None = None) -> Hub:
        """KubeSpawner with z2jh's values; ``scheduler`` None: the user scheduler, "" the
        default scheduler (z2jh's userScheduler.enabled: false)."""
        return Hub(
            self.cluster.kubeconfig,
            SpawnerValues(
                namespace=self.ns,
                scheduler_name=scheduler if scheduler is not None else self.scheduler,
                cpu_guarantee=STUDENT_CPU,
                mem_guarantee=STUDENT_MEMORY,
                node_selector=self.selector,
            ),
        )

    def scheduled_by(self) -> dict[str, str]:
        """Pod name -> the scheduler that bound it (its Scheduled Event's reporter)."""
        events = self.core.list_namespaced_event(self.ns, field_selector="reason=Scheduled")
        return {str(e.involved_object.name): str(e.reporting_component) for e in events.items}

    def preempted(self) -> set[str]:
        events = self.core.list_namespaced_event(self.ns, field_selector="reason=Preempted")
        return {str(e.involved_object.name) for e in events.items}


OURS = "app.kubernetes.io/component=placeholder"
THEIRS = "component=user-placeholder"
PULLER = "component=continuous-image-puller"


def site_for(
    testcluster: TestCluster, kube_api: client.ApiClient, namespace: Namespace, z2jh_priority: int
) -> Iterator[Site]:
    scheduler = z2jh.ensure_user_scheduler(testcluster)
    z2jh.apply_priority_classes(kube_api, z2jh_priority)
    ensure_priority_class(kube_api, OUR_CLASS, OUR_PRIORITY)
    site = Site(
        kube_api, testcluster, namespace.name, scheduler, selector={"nps.test/z2jh": namespace.name}
    )
    try:
        yield site
    finally:
        for name in site.nodes:
            delete_node(kube_api, name)


@pytest.fixture
def site_above(
    testcluster: TestCluster, kube_api: client.ApiClient, namespace: Namespace
) -> Iterator[Site]:
    """z2jh's user placeholders at -9, above ours (-10): the pair where ours go first."""
    yield from site_for(testcluster, kube_api, namespace, z2jh_priority=-9)


@pytest.fixture
def site_equal(
    testcluster: TestCluster, kube_api: client.ApiClient, namespace: Namespace
) -> Iterator[Site]:
    """z2jh's default user placeholder priority (-10), equal to ours."""
    yield from site_for(testcluster, kube_api, namespace, z2jh_priority=-10)


def wait_z2jh_started_after(site: Site, ours: Any) -> None:
    wait_for(
        "a second past our placeholder's start",
        lambda: time.time() > ours.status.start_time.timestamp() + 1.5,
        timeout=10,
    )


def test_students_preempt_our_placeholders_before_z2jhs_when_theirs_are_above(
    site_above: Site,
) -> None:
    site = site_above
    nodes = {site.add_user_node(), site.add_user_node()}
    site.image_puller()
    pullers = site.running(PULLER, 2)
    assert {p.spec.node_name for p in pullers} == nodes
    site.our_placeholders(1)
    (ours,) = site.running(OURS, 1)
    wait_z2jh_started_after(site, ours)
    site.z2jh_placeholders(4)
    theirs = site.running(THEIRS, 4)
    our_node = ours.spec.node_name
    (their_node,) = {p.spec.node_name for p in theirs}
    assert their_node != our_node

    with site.hub() as hub:
        # The first student: no node has room, so the scheduler preempts; ours go first.
        hub.spawn("s1")
        first = hub.wait("s1", timeout=120)
        print(f"student s1 started by KubeSpawner in {first['seconds']:.1f} s")
        s1 = site.core.read_namespaced_pod(first["pod"], site.ns)
        assert s1.spec.node_name == our_node
        assert site.preempted() == {ours.metadata.name}
        assert {p.metadata.uid for p in site.running(THEIRS, 4)} == {p.metadata.uid for p in theirs}
        # The next three fit where ours was: no more preemption.
        hub.spawn_at([("s2", 0.0), ("s3", 0.5), ("s4", 1.0)]).join(timeout=10)
        later = [hub.wait(name, timeout=120) for name in ("s2", "s3", "s4")]
        assert {site.core.read_namespaced_pod(r["pod"], site.ns).spec.node_name for r in later} == {
            our_node
        }
        assert site.preempted() == {ours.metadata.name}
        # The fifth finds only z2jh's placeholders to preempt.
        hub.spawn("s5")
        fifth = site.core.read_namespaced_pod(hub.wait("s5", timeout=120)["pod"], site.ns)
        assert fifth.spec.node_name == their_node
        preempted = site.preempted() - {ours.metadata.name}
        assert len(preempted) == 1 and preempted <= {p.metadata.name for p in theirs}

        students = student_pods(site.api, site.ns)
        assert len(students) == 5
        assert {
            (p.spec.scheduler_name, p.spec.priority, p.spec.priority_class_name) for p in students
        } == {(site.scheduler, 0, z2jh.DEFAULT_PRIORITY_CLASS)}
        # Our recreated placeholder waits (the autoscaler's cue); z2jh's is back or waiting.
        assert {p.spec.scheduler_name for p in site.pods(OURS) + site.pods(THEIRS)} == {
            site.scheduler
        }
        assert {p.spec.priority for p in site.pods(OURS)} == {OUR_PRIORITY}
        assert {p.spec.priority for p in site.pods(THEIRS)} == {-9}
        assert {p.spec.scheduler_name for p in site.pods(PULLER)} == {"default-scheduler"}
        binders = site.scheduled_by()
        assert {binders[p.metadata.name] for p in [*students, ours, *theirs]} == {site.scheduler}
        assert {binders[p.metadata.name] for p in pullers} == {"default-scheduler"}
        assert len(site.running(PULLER, 2)) == 2, "the image puller (-5) is never preempted"

        for n in range(1, 6):
            hub.stop(f"s{n}")
        for n in range(1, 6):
            hub.wait(f"s{n}", "stopped", timeout=60)
    wait_for("students gone", lambda: not site.pods(STUDENT_SELECTOR), timeout=60)


def test_at_equal_priority_a_student_may_preempt_z2jhs_placeholder_first(site_equal: Site) -> None:
    """z2jh's default (-10) beside ours (-10): the scheduler cannot tell them apart by
    priority and takes the node whose victim started last, here z2jh's."""
    site = site_equal
    site.add_user_node()
    site.add_user_node()
    site.our_placeholders(1)
    (ours,) = site.running(OURS, 1)
    wait_z2jh_started_after(site, ours)
    site.z2jh_placeholders(4)
    theirs = site.running(THEIRS, 4)
    (their_node,) = {p.spec.node_name for p in theirs}
    assert {p.spec.priority for p in theirs} == {OUR_PRIORITY}

    with site.hub() as hub:
        hub.spawn("s1")
        s1 = site.core.read_namespaced_pod(hub.wait("s1", timeout=120)["pod"], site.ns)
    assert s1.spec.node_name == their_node
    preempted = site.preempted()
    assert len(preempted) == 1 and preempted <= {p.metadata.name for p in theirs}
    assert [p.metadata.uid for p in site.running(OURS, 1)] == [ours.metadata.uid]
    assert set(site.scheduled_by().values()) == {site.scheduler}


def test_students_preempt_ours_on_nodes_karpenter_launched_with_z2jh_label_and_taint(
    site_equal: Site,
) -> None:
    """The autoscaler's side: a NodePool of z2jh user nodes (label and taint) launches a node
    for our pending placeholder; a student preempts it there; the placeholder, Pending again,
    makes Karpenter launch the next node."""
    site = site_equal
    if site.cluster.autoscaler != "karpenter":
        pytest.skip(f"needs the test cluster's Karpenter (autoscaler: {site.cluster.autoscaler})")
    pool = unique_name("z2jh")
    site.selector = {POOL_LABEL: pool}
    nodepools = client.CustomObjectsApi(site.api)
    nodepools.create_cluster_custom_object(
        "karpenter.sh",
        "v1",
        "nodepools",
        z2jh.user_nodepool(pool, max_cpu=8, pool_label=pool, consolidate_after="30s"),
    )
    boot = site.cluster.boot_delay + 120
    try:
        site.our_placeholders(1)
        (ours,) = site.running(OURS, 1, timeout=boot)
        node = site.core.read_node(ours.spec.node_name)
        assert node.metadata.labels[z2jh.NODE_PURPOSE_LABEL] == "user"
        assert {(t.key, t.value, t.effect) for t in node.spec.taints or []} >= {
            ("hub.jupyter.org/dedicated", "user", "NoSchedule")
        }
        with site.hub() as hub:
            hub.spawn("s1")
            started = hub.wait("s1", timeout=120)
            print(f"student s1 started by KubeSpawner in {started['seconds']:.1f} s on a warm node")
            s1 = site.core.read_namespaced_pod(started["pod"], site.ns)
        assert s1.spec.node_name == ours.spec.node_name
        assert site.preempted() == {ours.metadata.name}
        (again,) = site.running(OURS, 1, timeout=boot)
        assert again.spec.node_name not in (None, ours.spec.node_name)
        assert {site.scheduled_by()[p.metadata.name] for p in (ours, again, s1)} == {site.scheduler}
    finally:
        nodepools.delete_cluster_custom_object("karpenter.sh", "v1", "nodepools", pool)
        wait_for(
            f"the nodes of NodePool {pool} gone",
            lambda: not site.core.list_node(label_selector=f"{POOL_LABEL}={pool}").items,
            timeout=180,
        )


def test_the_user_scheduler_packs_students_where_the_default_scheduler_spreads_them(
    site_equal: Site,
) -> None:
    """Two empty user nodes, two students one after the other: the default scheduler puts the
    second on the other node (least allocated), z2jh's user scheduler on the same one (most
    allocated), which leaves a node empty to remove after class."""
    site = site_equal
    site.add_user_node()
    site.add_user_node()

    def nodes_of(hub: Hub, names: list[str]) -> list[str]:
        placed = []
        for name in names:  # one after the other: each sees the one before
            hub.spawn(name)
            pod = hub.wait(name, timeout=120)["pod"]
            placed.append(str(site.core.read_namespaced_pod(pod, site.ns).spec.node_name))
        for name in names:
            hub.stop(name)
        for name in names:
            hub.wait(name, "stopped", timeout=60)
        return placed

    with site.hub(scheduler="") as hub:
        spread = nodes_of(hub, ["d1", "d2"])
    wait_for("students gone", lambda: not site.pods(STUDENT_SELECTOR), timeout=60)
    with site.hub() as hub:
        packed = nodes_of(hub, ["u1", "u2"])
    print(f"default scheduler: {spread}; user scheduler: {packed}")
    assert len(set(spread)) == 2
    assert len(set(packed)) == 1
    binders = site.scheduled_by()
    assert [binders[f"jupyter-{n}"] for n in ("d1", "d2", "u1", "u2")] == [
        "default-scheduler",
        "default-scheduler",
        site.scheduler,
        site.scheduler,
    ]


def test_a_student_still_pending_at_start_timeout_fails_and_the_hub_deletes_the_pod(
    site_equal: Site,
) -> None:
    """As JupyterHub does after start_timeout (z2jh: 300 s; 5 s here): the spawn fails and the
    server is stopped, so the student's pod no longer asks for a node."""
    site = site_equal  # no node carries its selector: the pod stays Pending
    values = SpawnerValues(
        namespace=site.ns,
        scheduler_name=site.scheduler,
        node_selector=site.selector,
        start_timeout=5,
    )
    with Hub(site.cluster.kubeconfig, values) as hub:
        hub.spawn("late")
        failed = hub.wait("late", "failed", timeout=60)
    print(f"failed after {failed['seconds']:.1f} s: {failed['error']}")
    assert failed["seconds"] >= 5
    assert "stopping failed" not in failed["error"]
    wait_for("the late student's pod gone", lambda: not student_pods(site.api, site.ns), timeout=30)
