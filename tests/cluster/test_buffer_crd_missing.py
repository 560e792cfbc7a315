"""A cluster whose autoscaler serves no CapacityBuffer API (the test cluster without Karpenter:
no CRD installed): `validate --cluster` names the missing CRD and its fix, and `run --once`
reports the buffer pool as an error of that pool only while the placeholder pool is scaled.

The session's cluster cannot lose its CRD (Karpenter runs on it), so this module brings up a
small cluster of its own (`scripts/testcluster up --no-autoscaler`, a few seconds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from kubernetes import client

from testkit.cluster import TestCluster, ensure_priority_class, session
from testkit.cluster_env import ical, now_utc
from testkit.manifests import POOL_LABEL, USER_POOL, pod_manifest

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
NAME = os.environ.get("NPS_TESTCLUSTER_NAME", "nps-pytest") + "-nocrd"


@pytest.fixture(scope="module")
def bare_cluster() -> Iterator[TestCluster]:
    with session(NAME, ["--no-autoscaler"]) as cluster:
        yield cluster


def _config(tmp_path: Path, namespace: str) -> Path:
    start = now_utc() - timedelta(minutes=5)
    feed = tmp_path / "calendar.ics"
    feed.write_text(ical([("Lab", start, start + timedelta(hours=1), "user: 1\ngpu: 2")]))
    config = tmp_path / "config.yaml"
    config.write_text(
        f"namespace: {namespace}\ncalendars: [{{name: courses, url: {feed}}}]\npools:\n"
        f"  user: {{nodeSelector: {{{POOL_LABEL}: {USER_POOL}}}}}\n"
        f"  gpu: {{nodeSelector: {{{POOL_LABEL}: {USER_POOL}}}, backend: capacityBuffer}}\n"
    )
    return config


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node_placeholder_scaler", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        check=False,
    )


def test_no_capacitybuffer_crd_is_named_and_stays_inside_its_pool(
    bare_cluster: TestCluster, tmp_path: Path
) -> None:
    api = bare_cluster.api_client()
    try:
        namespace = "nps-nocrd"
        client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})
        ensure_priority_class(api, "nps-placeholder", -10)
        pod = pod_manifest(
            "placeholder-user",
            cpu="3500m",
            memory="14Gi",
            priority_class="nps-placeholder",
            labels={"app": "placeholder-user"},
            node_selector={POOL_LABEL: USER_POOL},
        )
        client.AppsV1Api(api).create_namespaced_deployment(
            namespace,
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
        config = _config(tmp_path, namespace)
        kubeconfig = str(bare_cluster.kubeconfig)

        found = _cli("validate", "--cluster", "--config", str(config), "--kubeconfig", kubeconfig)
        assert found.returncode == 1, found.stdout + found.stderr
        assert (
            "error: CRD capacitybuffers.autoscaling.x-k8s.io: autoscaling.x-k8s.io/v1beta1 "
            "is not served: pool gpu (backend capacityBuffer) cannot warm anything"
        ) in found.stdout
        assert "fix: install the CapacityBuffer CRD" in found.stdout
        assert "Traceback" not in found.stdout + found.stderr

        ran = _cli("run", "--once", "--config", str(config), "--kubeconfig", kubeconfig)
        assert ran.returncode == 1, ran.stdout + ran.stderr  # one pool failed
        assert "Traceback" not in ran.stderr
        assert "pool=gpu" in ran.stderr and "not served" in ran.stderr, ran.stderr
        scale = client.AppsV1Api(api).read_namespaced_deployment_scale(
            "placeholder-user", namespace
        )
        assert scale.spec.replicas == 1  # the placeholder pool went on
    finally:
        api.close()
