"""Smoke tests: the test cluster really behaves like Kubernetes where our controller relies on it.

1. admission resolves a PriorityClass at -10 into ``spec.priority``;
2. a priority-0 user pod that does not fit preempts a placeholder and is scheduled;
3. a new node is NotReady (tainted not-ready) for the boot delay, then Ready;
4. (autoscaler) a pending placeholder at -10 makes the autoscaler add a node that boots
   and runs it; a pod at -11 (below the expendable cutoff) triggers no scale-up;
5. (autoscaler) an empty node is removed after the scale-down time.
"""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from testkit.cluster import (
    Namespace,
    TestCluster,
    create_node,
    delete_node,
    ensure_priority_class,
    free_cpu_millis,
    holds_for,
    node_ready,
    node_schedulable,
    node_taint_keys,
    pod_gone,
    pool_nodes,
    running_on,
    unique_name,
    unschedulable,
    wait_for,
)
from testkit.manifests import NOT_READY_TAINT, POOL_LABEL, USER_POOL, node_manifest, pod_manifest

pytestmark = pytest.mark.cluster

PLACEHOLDER_CLASS = "nps-smoke-placeholder"  # -10: not below the expendable cutoff
EXPENDABLE_CLASS = "nps-smoke-expendable"  # -11: below the cutoff
USER_CLASS = "nps-smoke-user"  # 0


@pytest.fixture(scope="module")
def priority_classes(kube_api: client.ApiClient) -> None:
    ensure_priority_class(kube_api, PLACEHOLDER_CLASS, -10)
    ensure_priority_class(kube_api, EXPENDABLE_CLASS, -11)
    ensure_priority_class(kube_api, USER_CLASS, 0)


@pytest.fixture
def test_node(kube_api: client.ApiClient, namespace: Namespace):
    """A small Ready node that only this test's pods select (2 CPU, 4Gi)."""
    name = unique_name("smoke")
    label = {"nps.testcluster/only-for": namespace.name}
    create_node(kube_api, node_manifest(name, labels=label, cpu="2", memory="4Gi", boot_delay="0s"))
    core = client.CoreV1Api(kube_api)
    wait_for(f"node {name} schedulable", lambda: node_schedulable(core.read_node(name)), timeout=60)
    try:
        yield name, label
    finally:
        delete_node(kube_api, name)


def test_priority_class_resolves_into_spec_priority(
    priority_classes: None, namespace: Namespace
) -> None:
    pod = namespace.core.create_namespaced_pod(
        namespace.name, pod_manifest("placeholder", priority_class=PLACEHOLDER_CLASS)
    )
    assert pod.spec.priority == -10
    assert pod.spec.priority_class_name == PLACEHOLDER_CLASS
    assert pod.spec.preemption_policy == "PreemptLowerPriority"


def test_user_pod_preempts_placeholder(
    priority_classes: None, namespace: Namespace, test_node: tuple[str, dict[str, str]]
) -> None:
    node, selector = test_node
    core, ns = namespace.core, namespace.name
    core.create_namespaced_pod(
        ns,
        pod_manifest(
            "placeholder", cpu="1500m", priority_class=PLACEHOLDER_CLASS, node_selector=selector
        ),
    )
    assert wait_for("placeholder running", lambda: running_on(core, ns, "placeholder"), 60) == node

    core.create_namespaced_pod(
        ns, pod_manifest("user", cpu="1500m", priority_class=USER_CLASS, node_selector=selector)
    )
    # The scheduler evicts the placeholder (kwok's pod-delete Stage confirms the
    # deletion, as a kubelet would), then binds the user pod to the freed node.
    wait_for("placeholder preempted and gone", lambda: pod_gone(core, ns, "placeholder"), 60)
    assert wait_for("user pod running", lambda: running_on(core, ns, "user"), 60) == node
    events = core.list_namespaced_event(ns, field_selector="reason=Preempted").items
    assert any(e.involved_object.name == "placeholder" for e in events), "no Preempted event"


def test_new_node_boots_for_the_boot_delay(
    testcluster: TestCluster, kube_api: client.ApiClient, namespace: Namespace
) -> None:
    """A node registered like a kubelet stays NotReady and tainted for the boot delay."""
    delay = min(testcluster.boot_delay, 20.0)
    core = client.CoreV1Api(kube_api)
    name = unique_name("boot")
    label = {"nps.testcluster/only-for": namespace.name}
    created = time.monotonic()
    create_node(kube_api, node_manifest(name, labels=label, boot_delay=f"{delay:g}s"))
    try:
        core.create_namespaced_pod(namespace.name, pod_manifest("waiter", node_selector=label))
        # Before the delay: NotReady, tainted, and the pod waits.
        holds_for(
            "node NotReady and tainted",
            lambda: (
                (n := core.read_node(name))
                and not node_ready(n)
                and NOT_READY_TAINT in node_taint_keys(n)
            ),
            duration=delay * 0.6,
        )
        assert unschedulable(core, namespace.name, "waiter")
        wait_for("node Ready", lambda: node_ready(core.read_node(name)), timeout=delay + 30)
        became_ready = time.monotonic() - created
        assert became_ready >= delay * 0.9, f"node Ready after {became_ready:.1f}s < {delay}s"
        # The node lifecycle controller lifts the taint; the waiting pod runs.
        wait_for("not-ready taint removed", lambda: node_schedulable(core.read_node(name)), 60)
        assert (
            wait_for("pod running", lambda: running_on(core, namespace.name, "waiter"), 60) == name
        )
    finally:
        delete_node(kube_api, name)


def _needs_autoscaler(testcluster: TestCluster) -> None:
    if testcluster.autoscaler == "none":
        pytest.skip("this test cluster runs no autoscaler")


def test_pod_below_expendable_cutoff_triggers_no_scale_up(
    testcluster: TestCluster,
    kube_api: client.ApiClient,
    priority_classes: None,
    namespace: Namespace,
) -> None:
    _needs_autoscaler(testcluster)
    if testcluster.autoscaler != "cluster-autoscaler":
        pytest.skip(
            f"{testcluster.autoscaler} has no expendable-pods priority cutoff; only "
            "cluster-autoscaler does, and this test cluster runs it only from a binary given "
            "in NPS_TESTCLUSTER_CA_BINARY (the Go module proxy refuses its module: 403 "
            "Forbidden); see docs/operations/autoscalers.md"
        )
    core, ns = namespace.core, namespace.name
    before = {n.metadata.name for n in pool_nodes(kube_api, USER_POOL)}
    core.create_namespaced_pod(
        ns,
        pod_manifest(
            "expendable",
            cpu="3",
            priority_class=EXPENDABLE_CLASS,
            node_selector={POOL_LABEL: USER_POOL},
        ),
    )
    wait_for("pod unschedulable", lambda: unschedulable(core, ns, "expendable"), 60)
    # Several autoscaler loops must pass without a new node.
    holds_for(
        "no new user-pool node",
        lambda: {n.metadata.name for n in pool_nodes(kube_api, USER_POOL)} <= before,
        duration=max(30.0, 4 * testcluster.scan_interval),
    )
    assert unschedulable(core, ns, "expendable")


def test_placeholder_scale_up_then_scale_down(
    testcluster: TestCluster,
    kube_api: client.ApiClient,
    priority_classes: None,
    namespace: Namespace,
) -> None:
    _needs_autoscaler(testcluster)
    core, ns = namespace.core, namespace.name
    # Earlier tests may leave empty pool nodes behind for a while; wait until none has
    # room for the placeholder, so that it really needs a new node.
    wait_for(
        "no user-pool node with room for 3500m (leftovers scaled down)",
        lambda: all(free_cpu_millis(kube_api, n) < 3500 for n in pool_nodes(kube_api, USER_POOL)),
        timeout=testcluster.scale_down_unneeded + 6 * testcluster.scan_interval + 120,
        interval=2,
    )
    before = {n.metadata.name for n in pool_nodes(kube_api, USER_POOL)}
    core.create_namespaced_pod(
        ns,
        pod_manifest(
            "placeholder",
            cpu="3500m",
            priority_class=PLACEHOLDER_CLASS,
            node_selector={POOL_LABEL: USER_POOL},
        ),
    )
    new_nodes = wait_for(
        "autoscaler adds a user-pool node",
        lambda: [n for n in pool_nodes(kube_api, USER_POOL) if n.metadata.name not in before],
        timeout=6 * testcluster.scan_interval + 60,
    )
    node = new_nodes[0].metadata.name
    added = time.monotonic()
    assert not node_ready(new_nodes[0])

    def booting() -> bool:  # Karpenter's karpenter.sh/unregistered taint may come first
        current = core.read_node(node)
        return not node_ready(current) and NOT_READY_TAINT in node_taint_keys(current)

    wait_for("the new node booting (NotReady, with the not-ready taint)", booting, timeout=30)
    # It boots for the boot delay, then is Ready and the placeholder runs on it.
    holds_for(
        "new node still NotReady",
        lambda: not node_ready(core.read_node(node)),
        duration=testcluster.boot_delay * 0.7,
    )
    wait_for(
        "new node Ready", lambda: node_ready(core.read_node(node)), testcluster.boot_delay + 60
    )
    assert time.monotonic() - added >= testcluster.boot_delay * 0.7
    assert wait_for("placeholder running", lambda: running_on(core, ns, "placeholder"), 120) == node

    # Empty again: the autoscaler removes the node after the scale-down time.
    core.delete_namespaced_pod("placeholder", ns, grace_period_seconds=0)
    wait_for("placeholder gone", lambda: pod_gone(core, ns, "placeholder"), 60)
    emptied = time.monotonic()

    def node_gone() -> bool:
        return node not in {n.metadata.name for n in pool_nodes(kube_api, USER_POOL)}

    wait_for(
        "autoscaler removes the empty node",
        node_gone,
        timeout=testcluster.scale_down_unneeded + 6 * testcluster.scan_interval + 120,
        interval=2,
    )
    assert time.monotonic() - emptied >= testcluster.scale_down_unneeded * 0.8
