"""A buffer pool's replicas belong to the controller, whoever deploys the chart.

On the chart tests' cluster, with the CapacityBuffer CRD that the test cluster's Karpenter 1.15
serves (that cluster runs no autoscaler: the test applies the CRD from the built Karpenter
module's CRD folder for its run, and removes it after): the offline rendering (`helm
template`, as Argo CD renders) applied client-side and server-side leaves spec.replicas to the
controller (`limits: {}` stands in, zero chunks); after the controller's merge patch a second
sync keeps it and `kubectl diff` is clean. Rendered against the cluster (`helm template
--dry-run=server`, as helm install/upgrade do), the live replicas are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kubernetes import client
from test_chart_gitops import kubectl, values

from testkit.helm import CHART, run_helm, values_args

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

GROUP, VERSION, PLURAL = "autoscaling.x-k8s.io", "v1beta1", "capacitybuffers"
CRD = f"{PLURAL}.{GROUP}"


@pytest.fixture
def capacity_buffer_crd(testcluster: Any) -> Iterator[None]:
    """The CapacityBuffer CRD served: Karpenter's (a cluster with it), else applied from the
    CRD folder that scripts/testcluster build keeps of the Karpenter module, then removed."""
    if kubectl(testcluster, "get", "crd", CRD).returncode == 0:
        yield
        return
    assert testcluster.bin_dir is not None, "no bin dir of the test cluster"
    crd = testcluster.bin_dir / "karpenter-crds" / f"{GROUP}_{PLURAL}.yaml"
    assert crd.is_file(), f"{crd} is missing (scripts/testcluster build makes it)"
    applied = kubectl(testcluster, "apply", "--server-side", "-f", str(crd))
    assert applied.returncode == 0, applied.stderr
    try:
        ready = kubectl(
            testcluster, "wait", "--for=condition=Established", "--timeout=60s", "-f", str(crd)
        )
        assert ready.returncode == 0, ready.stderr
        yield
    finally:
        kubectl(testcluster, "delete", "--wait=true", "-f", str(crd))


def buffer_values(namespace: str) -> dict[str, Any]:
    """A buffer pool whose chunks no node of the test cluster matches (Karpenter adds none)."""
    return values(namespace, backend="capacityBuffer")


def buffer_docs(manifest: str) -> str:
    docs = [d for d in yaml.safe_load_all(manifest) if d]
    return yaml.safe_dump_all([d for d in docs if d["kind"] in ("PodTemplate", "CapacityBuffer")])


def spec(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    body: dict[str, Any] = client.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "buffer-user"
    )
    return dict(body["spec"])


def test_a_gitops_sync_never_resets_the_buffers_replicas(
    testcluster: Any, kube_api: client.ApiClient, namespace: Any, capacity_buffer_crd: None
) -> None:
    ns = namespace.name
    rendered = buffer_docs(
        run_helm(  # the cluster's API versions, as Argo CD passes them
            [
                "template",
                "nps",
                str(CHART),
                "--namespace",
                ns,
                *values_args(buffer_values(ns)),
                "--api-versions",
                "autoscaling.x-k8s.io/v1beta1/CapacityBuffer",
            ]
        )
    )
    try:
        applied = kubectl(testcluster, "apply", "-n", ns, "-f", "-", stdin=rendered)
        assert applied.returncode == 0, applied.stderr
        assert spec(kube_api, ns) == {
            "limits": {},
            "podTemplateRef": {"name": "buffer-user"},
            "provisioningStrategy": "buffer.x-k8s.io/active-capacity",
        }
        client.CustomObjectsApi(kube_api).patch_namespaced_custom_object(  # the controller
            GROUP,
            VERSION,
            ns,
            PLURAL,
            "buffer-user",
            {"spec": {"replicas": 3}},
            _content_type="application/merge-patch+json",
        )
        synced = kubectl(testcluster, "apply", "-n", ns, "-f", "-", stdin=rendered)
        assert synced.returncode == 0, synced.stderr
        server_side = kubectl(
            testcluster,
            "apply",
            "--server-side",
            "--force-conflicts",
            "-n",
            ns,
            "-f",
            "-",
            stdin=rendered,
        )
        assert server_side.returncode == 0, server_side.stderr
        assert spec(kube_api, ns)["replicas"] == 3
        diff = kubectl(testcluster, "diff", "-n", ns, "-f", "-", stdin=rendered)
        assert diff.returncode == 0, diff.stdout
        online = run_helm(
            [
                "template",
                "nps",
                str(CHART),
                "--namespace",
                ns,
                "--dry-run=server",
                *values_args(buffer_values(ns)),  # template reads no API versions, even so
                "--api-versions",
                "autoscaling.x-k8s.io/v1beta1/CapacityBuffer",
            ],
            env={"KUBECONFIG": str(testcluster.kubeconfig)},
        )
        [buffer] = [d for d in yaml.safe_load_all(online) if d and d["kind"] == "CapacityBuffer"]
        assert buffer["spec"]["replicas"] == 3 and "limits" not in buffer["spec"]
    finally:
        kubectl(testcluster, "delete", "-n", ns, "--wait=false", "-f", "-", stdin=rendered)
