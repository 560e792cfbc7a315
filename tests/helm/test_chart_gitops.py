"""The placeholders' replicas belong to the controller, whoever deploys the chart.

Two ways of rendering, on the real test control plane:
- offline (`helm template`, as Argo CD renders; then `kubectl apply`, client-side as Argo CD's
  default sync and server-side as its ServerSideApply option and Flux's kustomize-controller):
  `replicas` is not in the manifest, so a later sync never resets what the controller set;
- against the cluster (`helm install`/`upgrade`, Flux's helm-controller): each Deployment is
  rendered with its live replicas (0 when new), so an upgrade keeps them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from testkit.helm import CHART, minimal_values, run_helm, values_args

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def values(namespace: str, **pool_extra: Any) -> dict[str, Any]:
    """One pool whose nodes no node of the test cluster matches (its pods stay Pending)."""
    result = minimal_values()
    result["pools"]["user"]["nodeSelector"] = {"nps.test/pool-of": namespace}
    result["pools"]["user"].update(pool_extra)
    return result


def helm_on(
    testcluster: Any, namespace: str, *args: str, chart_values: dict[str, Any] | None = None
) -> str:
    return run_helm(
        [*args, "--namespace", namespace, *values_args(chart_values)],
        env={"KUBECONFIG": str(testcluster.kubeconfig)},
    )


def kubectl(testcluster: Any, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=testcluster.env(),
        timeout=120,
        check=False,
    )


def placeholder_docs(manifest: str) -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(manifest) if d]
    return {
        d["metadata"]["name"]: d
        for d in docs
        if d["kind"] == "Deployment"
        and d["metadata"]["labels"]["app.kubernetes.io/component"] == "placeholder"
    }


def live_replicas(api: client.ApiClient, namespace: str, name: str) -> int:
    scale = client.AppsV1Api(api).read_namespaced_deployment_scale(name, namespace)
    return int(scale.spec.replicas or 0)  # 0 is omitted from the JSON


def scale(api: client.ApiClient, namespace: str, name: str, replicas: int) -> None:
    """What the controller does: a patch of the scale subresource."""
    client.AppsV1Api(api).patch_namespaced_deployment_scale(
        name, namespace, {"spec": {"replicas": replicas}}
    )


def test_a_gitops_sync_never_resets_the_controllers_replicas(
    testcluster: Any, namespace: Any, kube_api: client.ApiClient, helm: str, tmp_path: Path
) -> None:
    ns = namespace.name
    release = f"g{ns[-8:]}"  # the cluster-scoped PriorityClass is named after the release

    def render(chart_values: dict[str, Any]) -> str:
        return run_helm(
            [
                "template",
                release,
                str(CHART),
                "--namespace",
                ns,
                "--skip-tests",
                *values_args(chart_values),
            ]
        )

    first = render(values(ns))
    assert "replicas" not in placeholder_docs(first)["placeholder-user"]["spec"]
    applied = kubectl(testcluster, "apply", "-n", ns, "-f", "-", stdin=first)
    try:
        assert applied.returncode == 0, applied.stderr
        scale(kube_api, ns, "placeholder-user", 3)  # the controller, during an event

        # A sync after a change of the chart's values (a new pod template), client-side...
        second = render(values(ns, podLabels={"course": "data8"}))
        synced = kubectl(testcluster, "apply", "-n", ns, "-f", "-", stdin=second)
        assert synced.returncode == 0, synced.stderr
        deployment = client.AppsV1Api(kube_api).read_namespaced_deployment("placeholder-user", ns)
        assert deployment.spec.template.metadata.labels["course"] == "data8"  # applied
        assert live_replicas(kube_api, ns, "placeholder-user") == 3  # and kept

        # ... and server-side (Argo CD's ServerSideApply, Flux's kustomize-controller).
        server_side = kubectl(
            testcluster,
            "apply",
            "--server-side",
            "--field-manager",
            "gitops",
            "--force-conflicts",
            "-n",
            ns,
            "-f",
            "-",
            stdin=second,
        )
        assert server_side.returncode == 0, server_side.stderr
        assert live_replicas(kube_api, ns, "placeholder-user") == 3

        # The GitOps tool sees no difference: nothing to sync back.
        diff = kubectl(testcluster, "diff", "-n", ns, "-f", "-", stdin=second)
        assert diff.returncode == 0, diff.stdout + diff.stderr
    finally:
        kubectl(testcluster, "delete", "-n", ns, "--wait=false", "-f", "-", stdin=first)


def test_helm_renders_the_live_replicas_against_a_cluster(
    testcluster: Any, namespace: Any, kube_api: client.ApiClient, helm: str
) -> None:
    ns = namespace.name
    release = f"h{ns[-8:]}"
    chart_values = values(ns)
    helm_on(testcluster, ns, "install", release, str(CHART), chart_values=chart_values)
    try:
        assert live_replicas(kube_api, ns, "placeholder-user") == 0  # a new one starts at 0
        scale(kube_api, ns, "placeholder-user", 3)

        # What an upgrade would render, against the cluster and offline.
        grown = values(ns)
        grown["pools"]["big"] = {**grown["pools"]["user"], "maxReplicas": 2}
        dry_run = helm_on(
            testcluster,
            ns,
            "upgrade",
            release,
            str(CHART),
            "--dry-run=server",
            "-o",
            "json",
            chart_values=grown,
        )
        manifest = yaml.safe_load(dry_run)["manifest"]
        rendered = placeholder_docs(manifest)
        assert rendered["placeholder-user"]["spec"]["replicas"] == 3  # the live value
        assert rendered["placeholder-big"]["spec"]["replicas"] == 0  # new: starts at 0
        offline = placeholder_docs(
            run_helm(["template", release, str(CHART), "--namespace", ns, *values_args(grown)])
        )
        assert all("replicas" not in d["spec"] for d in offline.values())

        # The upgrade itself keeps them.
        helm_on(testcluster, ns, "upgrade", release, str(CHART), chart_values=grown)
        assert live_replicas(kube_api, ns, "placeholder-user") == 3
        assert live_replicas(kube_api, ns, "placeholder-big") == 0
    finally:
        helm_on(testcluster, ns, "uninstall", release)
