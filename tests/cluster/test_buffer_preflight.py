"""``validate --cluster`` on the test cluster (Karpenter v1.15): nothing on a correct install,
and each misconfiguration made to happen is named with its object and fix.

Cluster Autoscaler cannot run here (no binary is buildable from the module proxy); the test
makes it visible the way validate looks for it: a Deployment with CA's image and its
``--expendable-pods-priority-cutoff`` flag (0 replicas: nothing runs).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from kubernetes import client

from testkit.cluster import Namespace, TestCluster, ensure_priority_class, wait_for
from testkit.cluster_buffers import condition, create_buffer, read_buffer
from testkit.cluster_env import ical, now_utc
from testkit.manifests import POOL_LABEL, USER_POOL, pod_manifest

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
POOL = {POOL_LABEL: USER_POOL}
GOOD_CLASS, LOW_CLASS, NEVER_CLASS = "nps-placeholder", "nps-too-low", "nps-never-preempts"


@dataclass
class Preflight:
    cluster: TestCluster
    api: client.ApiClient
    ns: str
    tmp: Path

    def placeholders(
        self,
        name: str,
        priority_class: str,
        *,
        annotated: bool = True,
        cpu: str = "3500m",
        selector: dict[str, str] | None = None,
    ) -> None:
        pod = pod_manifest(
            name,
            cpu=cpu,
            memory="14Gi",
            priority_class=priority_class,
            node_selector=selector or POOL,
            labels={"app": name},
        )
        if annotated:
            pod["metadata"]["annotations"] = {"karpenter.sh/do-not-disrupt": "true"}
        client.AppsV1Api(self.api).create_namespaced_deployment(
            self.ns,
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
                },
            },
        )

    def config(self, pools: str) -> Path:
        start = now_utc() + timedelta(days=1)
        ics = self.tmp / "calendar.ics"
        ics.write_text(ical([("Lab", start, start + timedelta(hours=1), "user: 1")]))
        config = self.tmp / "config.yaml"
        config.write_text(
            f"namespace: {self.ns}\ninterval: 2s\n"
            f"calendars: [{{name: courses, url: {ics}}}]\npools:\n{pools}"
        )
        return config

    def validate(
        self, pools: str, *extra: str, kubeconfig: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "node_placeholder_scaler",
                "validate",
                "--cluster",
                "--config",
                str(self.config(pools)),
                "--kubeconfig",
                str(kubeconfig or self.cluster.kubeconfig),
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            check=False,
        )


@pytest.fixture
def preflight(
    testcluster: TestCluster, kube_api: client.ApiClient, namespace: Namespace
) -> Iterator[Preflight]:
    if testcluster.autoscaler != "karpenter":
        pytest.skip("needs the test cluster's Karpenter")
    ensure_priority_class(kube_api, GOOD_CLASS, -10)
    ensure_priority_class(kube_api, LOW_CLASS, -20)
    with tempfile.TemporaryDirectory() as tmp:
        yield Preflight(testcluster, kube_api, namespace.name, Path(tmp))


USER = "  user: {nodeSelector: {hub.jupyter.org/pool-name: user-pool}}\n"
BUFFER = (
    "  gpu: {nodeSelector: {hub.jupyter.org/pool-name: user-pool}, "
    "backend: capacityBuffer, buffer: warm-gpu}\n"
)


def test_a_correct_install_has_no_findings(preflight: Preflight) -> None:
    preflight.placeholders("placeholder-user", GOOD_CLASS)
    create_buffer(preflight.api, preflight.ns, "warm-gpu")
    wait_for(
        "the buffer resolved",
        lambda: (
            condition(read_buffer(preflight.api, preflight.ns, "warm-gpu"), "ReadyForProvisioning")
            == ("True", "Resolved")
        ),
        timeout=60,
    )
    out = preflight.validate(USER + BUFFER)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "autoscaler: karpenter (2 Karpenter NodePool(s))" in out.stdout
    assert "CapacityBuffer API: served" in out.stdout
    assert "0 error(s), 0 warning(s) on the cluster" in out.stdout


def test_missing_objects_are_errors(preflight: Preflight) -> None:
    create_buffer(preflight.api, preflight.ns, "warm-gpu", template="no-such-template")
    wait_for(
        "the buffer not ready",
        lambda: (
            condition(read_buffer(preflight.api, preflight.ns, "warm-gpu"), "ReadyForProvisioning")
            == ("False", "PodTemplateNotFound")
        ),
        timeout=60,
    )
    out = preflight.validate(USER + BUFFER + "  other: {backend: capacityBuffer}\n")
    assert out.returncode == 1
    ns = preflight.ns
    assert (
        f"error: Deployment {ns}/placeholder-user (pool user): not found: the pool has no "
        "placeholders"
    ) in out.stdout
    assert (
        f"error: CapacityBuffer {ns}/warm-gpu (pool gpu): CapacityBuffer {ns}/warm-gpu is "
        "not ReadyForProvisioning (PodTemplateNotFound" in out.stdout
    )
    assert f"error: CapacityBuffer {ns}/buffer-other (pool other): not found" in out.stdout
    assert "3 error(s), 0 warning(s) on the cluster" in out.stdout


def test_placeholders_below_the_cluster_autoscalers_cutoff(preflight: Preflight) -> None:
    preflight.placeholders("placeholder-user", LOW_CLASS)
    client.AppsV1Api(preflight.api).create_namespaced_deployment(
        preflight.ns,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "cluster-autoscaler"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "ca"}},
                "template": {
                    "metadata": {"labels": {"app": "ca"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "cluster-autoscaler",
                                "image": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.34.0",
                                "command": [
                                    "./cluster-autoscaler",
                                    "--expendable-pods-priority-cutoff=-10",
                                ],
                            }
                        ]
                    },
                },
            },
        },
    )
    try:
        out = preflight.validate(USER)
    finally:  # gone before the next test (a namespace is deleted in the background)
        apps = client.AppsV1Api(preflight.api)
        apps.delete_namespaced_deployment("cluster-autoscaler", preflight.ns)
        wait_for(
            "the stand-in cluster-autoscaler gone",
            lambda: (
                not any(
                    d.metadata.name == "cluster-autoscaler"
                    for d in apps.list_namespaced_deployment(preflight.ns).items
                )
            ),
            timeout=60,
        )
    assert out.returncode == 1
    assert (
        f"error: PriorityClass {LOW_CLASS} (value -20, pool user): below Cluster "
        "Autoscaler's expendable cutoff (-10)"
    ) in out.stdout
    assert "fix: set priorityClass.value >= -10" in out.stdout
    assert "both Cluster Autoscaler and Karpenter seem to run" in out.stdout


def test_karpenter_without_do_not_disrupt_and_users_that_never_preempt(
    preflight: Preflight,
) -> None:
    preflight.placeholders("placeholder-user", GOOD_CLASS, annotated=False)
    scheduling = client.SchedulingV1Api(preflight.api)
    if not any(pc.metadata.name == NEVER_CLASS for pc in scheduling.list_priority_class().items):
        scheduling.create_priority_class(
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": NEVER_CLASS},
                "value": 0,
                "preemptionPolicy": "Never",
            }
        )
    # It waits on a label no node has: Karpenter cannot add a node for it either.
    student = pod_manifest(
        "student",
        cpu="100m",
        priority_class=NEVER_CLASS,
        node_selector={"nps.test/nowhere": "true"},
    )
    client.CoreV1Api(preflight.api).create_namespaced_pod(
        "default", {**student, "metadata": {"name": f"student-{preflight.ns[-6:]}"}}
    )
    try:
        out = preflight.validate(USER)
    finally:
        client.CoreV1Api(preflight.api).delete_namespaced_pod(
            f"student-{preflight.ns[-6:]}", "default", grace_period_seconds=0
        )
    assert out.returncode == 0, out.stdout  # warnings only
    assert 'placeholder pods lack the annotation karpenter.sh/do-not-disrupt: "true"' in out.stdout
    assert f"warning: pods default/student-{preflight.ns[-6:]}" in out.stdout
    assert f"preemptionPolicy: Never (PriorityClass {NEVER_CLASS})" in out.stdout
    assert "0 error(s), 2 warning(s) on the cluster" in out.stdout
