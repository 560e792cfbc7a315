"""The controller with the test cluster's real autoscaler: warm nodes roll ahead of users.

The controller scales a placeholder into the real user pool; the autoscaler adds a node for it
(booting for the cluster's boot delay); a user pod preempts the placeholder; the placeholder
goes Pending and the autoscaler adds the next node. The controller makes exactly one patch.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from prometheus_client import CollectorRegistry

from node_placeholder_scaler import kube
from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.loop import Controller
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.server import Health
from testkit.cluster import Namespace, TestCluster, ensure_priority_class, wait_for
from testkit.manifests import pod_manifest
from testkit.planners import StaticPlanner

pytestmark = pytest.mark.cluster

POOL = {"hub.jupyter.org/pool-name": "user-pool"}
PLACEHOLDER_CLASS = "nps-placeholder"


def _placeholder_deployment(core_ns: str, apps: client.AppsV1Api) -> None:
    pod = pod_manifest(
        "placeholder-user",
        cpu="3500m",
        memory="14Gi",
        priority_class=PLACEHOLDER_CLASS,
        node_selector=POOL,
        labels={"app": "placeholder-user"},
    )
    apps.create_namespaced_deployment(
        core_ns,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "placeholder-user"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "placeholder-user"}},
                "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
            },
        },
    )


def _placeholders(core: client.CoreV1Api, ns: str) -> list[Any]:
    pods = core.list_namespaced_pod(ns, label_selector="app=placeholder-user").items
    return [p for p in pods if not p.metadata.deletion_timestamp]


def _running_on(core: client.CoreV1Api, ns: str) -> str | None:
    running = [
        p.spec.node_name
        for p in _placeholders(core, ns)
        if p.status.phase == "Running" and p.spec.node_name
    ]
    return running[0] if len(running) == 1 else None


def test_placeholder_rolls_ahead_of_a_user_with_the_real_autoscaler(
    testcluster: TestCluster, kube_api: client.ApiClient, namespace: Namespace
) -> None:
    if testcluster.autoscaler == "none":
        pytest.skip("this test cluster runs no autoscaler")
    ensure_priority_class(kube_api, PLACEHOLDER_CLASS, -10)
    core, apps, ns = client.CoreV1Api(kube_api), client.AppsV1Api(kube_api), namespace.name
    _placeholder_deployment(ns, apps)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        # nodeGracePeriod 1h: nodes left by other tests are never headroom here
        path.write_text(
            f"namespace: {ns}\ninterval: 2s\ncalendars: [{{url: x.ics}}]\n"
            "headroom: {nodeGracePeriod: 1h}\n"
            "pools: {user: {nodeSelector: {hub.jupyter.org/pool-name: user-pool}}}\n"
        )
        settings = load_settings(path.read_text(), str(path), {})
    cluster = kube.Kube(kube.load_api_client(str(testcluster.kubeconfig)))
    now = datetime.now(UTC)
    metrics = Metrics(CollectorRegistry())
    ctl = Controller(
        settings,
        cluster,
        cluster,
        StaticPlanner(user=1),
        metrics,
        Health(settings.interval, now),
        ns,
    )
    patches: list[int] = []

    def round_() -> None:
        result = ctl.round()
        assert result is not None and result.pools[0].error is None
        if result.pools[0].action == "scaled":
            patches.append(int(result.pools[0].desired or 0))

    boot = testcluster.boot_delay + 180
    round_()
    first = wait_for(
        "the placeholder running on a node the autoscaler added",
        lambda: _running_on(core, ns),
        timeout=boot,
    )
    student = pod_manifest("student", cpu="3", memory="8Gi")
    on_first = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [first]}]}
    student["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [on_first]}
        }
    }
    core.create_namespaced_pod(ns, student)
    wait_for(
        "the student running on the warm node (preempting the placeholder)",
        lambda: core.read_namespaced_pod("student", ns).status.phase == "Running",
        timeout=120,
    )
    assert core.read_namespaced_pod("student", ns).spec.node_name == first

    def moved() -> str | None:
        round_()
        node = _running_on(core, ns)
        return node if node not in (None, first) else None

    second = wait_for(
        "the preempted placeholder running on the next new node", moved, timeout=boot, interval=3
    )
    assert second != first
    assert patches == [1]  # no oscillation: pending placeholders and booting nodes held it
    apps.patch_namespaced_deployment_scale("placeholder-user", ns, {"spec": {"replicas": 0}})
