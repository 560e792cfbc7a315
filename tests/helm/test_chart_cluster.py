"""The chart on the real test control plane (tests/cluster, scripts/testcluster).

`helm install` the chart, then act as the controller's ServiceAccount (a token from the
TokenRequest API, as the in-cluster controller gets one): the controller process runs
locally with that token and scales its own placeholders; it cannot patch any other
Deployment (`kubectl auth can-i --as` and real forbidden requests); `helm upgrade` during an
event keeps the replicas the controller set.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from testkit.helm import CHART, run_helm, values_args
from testkit.ics import Event, calendar

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

RELEASE = "nps"
SERVICE_ACCOUNT = "nps-node-placeholder-scaler"
CONTROLLER = "nps-node-placeholder-scaler"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Release:
    namespace: str
    kubeconfig: Path
    api: client.ApiClient
    values: dict[str, Any]
    tmp: Path

    def helm(self, *args: str, values: dict[str, Any] | None = None) -> str:
        return run_helm(
            [*args, "--namespace", self.namespace, *values_args(values)],
            env={"KUBECONFIG": str(self.kubeconfig)},
        )

    def replicas(self, deployment: str, namespace: str | None = None) -> int:
        apps = client.AppsV1Api(self.api)
        scale = apps.read_namespaced_deployment_scale(deployment, namespace or self.namespace)
        return int(scale.spec.replicas or 0)


def chart_values(namespace: str, feed: Path) -> dict[str, Any]:
    # A node selector no node of the test cluster has: no free room counts as headroom (the
    # calendar target is the desired count) and no autoscaler node group matches.
    selector = {"nps.test/pool-of": namespace}
    return {
        "calendars": [{"name": "courses", "url": str(feed)}],
        "pools": {
            "user": {
                "nodeSelector": selector,
                "maxReplicas": 5,
                "resources": {"requests": {"cpu": "3", "memory": "12Gi"}},
            },
            "gpu": {
                "deployment": "gpu-warmers",
                "nodeSelector": selector,
                "maxReplicas": 2,
                "resources": {"requests": {"cpu": "3", "memory": "12Gi", "nvidia.com/gpu": 1}},
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}],
            },
        },
        "config": {"interval": "5s"},
    }


def write_feed(path: Path, description: str) -> None:
    """One event, active now, whose description asks for warm nodes."""
    now = datetime.now(UTC)
    event = Event(
        "Data 8 lab",
        now - timedelta(minutes=10),
        now + timedelta(hours=2),
        description,
        uid="chart-test@example.org",
    )
    path.write_bytes(calendar([event]))


@pytest.fixture
def release(testcluster: Any, namespace: Any, helm: str, tmp_path: Path) -> Iterator[Release]:
    feed = tmp_path / "courses.ics"
    write_feed(feed, "user: 2\ngpu: 1")
    values = chart_values(namespace.name, feed)
    api = testcluster.api_client()
    rel = Release(namespace.name, testcluster.kubeconfig, api, values, tmp_path)
    rel.helm("install", RELEASE, str(CHART), values=values)
    try:
        yield rel
    finally:
        # cluster-scoped objects (PriorityClass, ClusterRole) go with the release
        try:
            rel.helm("uninstall", RELEASE)
        finally:
            api.close()


def service_account_kubeconfig(rel: Release) -> Path:
    """A kubeconfig with a fresh token of the controller's ServiceAccount."""
    core = client.CoreV1Api(rel.api)
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
    )
    token = core.create_namespaced_service_account_token(
        SERVICE_ACCOUNT, rel.namespace, request
    ).status.token
    cfg = rel.api.configuration
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": {"server": cfg.host, "certificate-authority": cfg.ssl_ca_cert}}
        ],
        "users": [{"name": "sa", "user": {"token": token}}],
        "contexts": [
            {"name": "sa", "context": {"cluster": "c", "user": "sa", "namespace": rel.namespace}}
        ],
        "current-context": "sa",
    }
    path = rel.tmp / "service-account.kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    path.chmod(0o600)
    return path


def service_account_api(rel: Release) -> client.ApiClient:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(service_account_kubeconfig(rel)))


def controller_command(rel: Release, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the controller's CLI locally as the ServiceAccount, with the chart's config and the
    feed addresses from the Secrets of the Deployment's projected `calendars` volume (written
    to files where the config's urlFromFile points them)."""
    core = client.CoreV1Api(rel.api)
    config_text = core.read_namespaced_config_map(CONTROLLER, rel.namespace).data["config.yaml"]
    deployment = client.AppsV1Api(rel.api).read_namespaced_deployment(CONTROLLER, rel.namespace)
    volume = next(v for v in deployment.spec.template.spec.volumes if v.name == "calendars")
    mount = next(
        m.mount_path
        for m in deployment.spec.template.spec.containers[0].volume_mounts
        if m.name == "calendars"
    )
    feeds = rel.tmp / "calendars"
    feeds.mkdir(exist_ok=True)
    for source in volume.projected.sources:
        secret = core.read_namespaced_secret(source.secret.name, rel.namespace)
        for item in source.secret.items:
            (feeds / item.path).write_text(base64.b64decode(secret.data[item.key]).decode())
    config_file = rel.tmp / "config.yaml"
    config_file.write_text(config_text.replace(mount, str(feeds)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    env.pop("KUBECONFIG", None)
    argv = [a.replace("/etc/node-placeholder-scaler/config.yaml", str(config_file)) for a in args]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "node_placeholder_scaler",
            *argv,
            "--kubeconfig",
            str(service_account_kubeconfig(rel)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def run_controller_once(rel: Release) -> subprocess.CompletedProcess[str]:
    """One round of the controller, with the Deployment's own arguments plus --once."""
    deployment = client.AppsV1Api(rel.api).read_namespaced_deployment(CONTROLLER, rel.namespace)
    args = list(deployment.spec.template.spec.containers[0].args)
    assert args[:3] == ["run", "--config", "/etc/node-placeholder-scaler/config.yaml"]
    return controller_command(rel, *args, "--once")


def can_i(testcluster: Any, namespace: str, *args: str) -> bool:
    proc = subprocess.run(
        [
            "kubectl",
            "auth",
            "can-i",
            "--namespace",
            namespace,
            *args,  # a later --namespace wins
            "--as",
            f"system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}",
        ],
        capture_output=True,
        text=True,
        env=testcluster.env(),
        timeout=60,
        check=False,
    )
    answer = proc.stdout.strip()
    assert answer in {"yes", "no"}, proc.stderr
    return answer == "yes"


def other_deployment(api: client.ApiClient, namespace: str, name: str) -> None:
    client.AppsV1Api(api).create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]},
                },
            },
        },
    )


def forbidden(call: Any) -> bool:
    try:
        call()
    except ApiException as error:
        return bool(error.status == 403)
    return False


ALLOWED = [
    ("get", "deployments.apps/placeholder-user"),
    ("get", "deployments.apps/gpu-warmers"),
    ("patch", "deployments.apps/placeholder-user", "--subresource=scale"),
    ("get", "deployments.apps/gpu-warmers", "--subresource=scale"),
    ("list", "nodes"),
    ("watch", "nodes"),
    ("list", "pods", "--all-namespaces"),
    ("watch", "pods", "--all-namespaces"),
    ("get", "pods"),
    ("create", "events"),
    ("create", "events.events.k8s.io"),
    ("get", "configmaps/placeholder-user-reports"),  # the event reports of pool user
    ("update", "configmaps/placeholder-user-reports"),
    ("create", "configmaps"),
    ("create", "leases.coordination.k8s.io"),
    ("get", f"leases.coordination.k8s.io/{CONTROLLER}"),
    ("update", f"leases.coordination.k8s.io/{CONTROLLER}"),
]
DENIED = [
    ("patch", "deployments.apps/nps-node-placeholder-scaler", "--subresource=scale"),
    ("patch", "deployments.apps/other", "--subresource=scale"),
    ("patch", "deployments.apps", "--subresource=scale"),  # any Deployment
    ("update", "deployments.apps/placeholder-user", "--subresource=scale"),
    ("patch", "deployments.apps/placeholder-user"),  # the Deployment itself, not its scale
    ("update", "deployments.apps/placeholder-user"),
    ("delete", "deployments.apps/placeholder-user"),
    ("list", "deployments.apps"),
    ("create", "deployments.apps"),
    ("delete", "pods"),
    ("create", "pods"),
    ("patch", "nodes"),
    ("get", "secrets"),
    ("list", "secrets"),
    ("get", "configmaps"),
    ("update", "configmaps/other"),
    ("delete", "configmaps/placeholder-user-reports"),
    ("update", "events"),
    ("create", "pods/eviction"),
    ("patch", "deployments.apps/placeholder-user", "--subresource=scale", "--namespace=default"),
    ("update", "leases.coordination.k8s.io/kube-scheduler"),  # only its own Lease
    ("delete", f"leases.coordination.k8s.io/{CONTROLLER}"),
    ("update", "leases.coordination.k8s.io/node-placeholder-scaler"),  # not the default name
    ("list", "leases.coordination.k8s.io"),
]


def test_service_account_may_do_exactly_what_the_controller_needs(
    testcluster: Any, release: Release
) -> None:
    ns = release.namespace
    wrong = [a for a in ALLOWED if not can_i(testcluster, ns, *a)]
    wrong += [a for a in DENIED if can_i(testcluster, ns, *a)]
    assert not wrong


def test_controller_scales_its_placeholders_and_nothing_else(
    testcluster: Any, release: Release
) -> None:
    ns = release.namespace
    assert release.replicas("placeholder-user") == 0  # install starts at 0
    assert release.replicas("gpu-warmers") == 0
    proc = run_controller_once(release)
    assert release.replicas("placeholder-user") == 2, proc.stderr
    assert release.replicas("gpu-warmers") == 1, proc.stderr
    events = (
        client.CoreV1Api(release.api)
        .list_namespaced_event(ns, field_selector="involvedObject.name=placeholder-user")
        .items
    )
    assert any("Data 8 lab" in (e.message or "") for e in events), [e.message for e in events]

    # The same token cannot touch any other Deployment: real requests, answered 403.
    other_deployment(release.api, ns, "other")
    sa = service_account_api(release)
    apps, core = client.AppsV1Api(sa), client.CoreV1Api(sa)
    scale = {"spec": {"replicas": 3}}
    assert forbidden(lambda: apps.patch_namespaced_deployment_scale("other", ns, scale))
    assert forbidden(lambda: apps.patch_namespaced_deployment_scale(CONTROLLER, ns, scale))
    assert forbidden(lambda: apps.patch_namespaced_deployment("placeholder-user", ns, scale))
    assert forbidden(lambda: apps.list_namespaced_deployment(ns))
    assert forbidden(lambda: core.list_namespaced_secret(ns))
    assert forbidden(lambda: core.delete_collection_namespaced_pod(ns))
    # A Deployment of the same name in another namespace is not ours either.
    other_ns = f"{ns}-x"
    core_admin = client.CoreV1Api(release.api)
    core_admin.create_namespace({"metadata": {"name": other_ns}})
    try:
        other_deployment(release.api, other_ns, "placeholder-user")
        assert forbidden(
            lambda: apps.patch_namespaced_deployment_scale("placeholder-user", other_ns, scale)
        )
    finally:
        core_admin.delete_namespace(other_ns)
    assert release.replicas("other") == 0
    assert release.replicas(CONTROLLER) == 2  # controller.replicaCount: a leader and a standby
    # and what it may do works with the token
    apps.patch_namespaced_deployment_scale("placeholder-user", ns, {"spec": {"replicas": 3}})
    assert release.replicas("placeholder-user") == 3
    sa.close()


def test_helm_upgrade_during_an_event_keeps_the_replicas(
    testcluster: Any, release: Release
) -> None:
    run_controller_once(release)  # the event is on: user 2, gpu 1
    assert (release.replicas("placeholder-user"), release.replicas("gpu-warmers")) == (2, 1)

    # An upgrade that changes the placeholders' pod template and adds a pool.
    values = release.values
    values["pools"]["user"]["resources"]["requests"]["memory"] = "11Gi"
    values["pools"]["big"] = {
        "nodeSelector": values["pools"]["user"]["nodeSelector"],
        "resources": {"requests": {"cpu": "7", "memory": "28Gi"}},
    }
    release.helm("upgrade", RELEASE, str(CHART), values=values)
    apps = client.AppsV1Api(release.api)
    user = apps.read_namespaced_deployment("placeholder-user", release.namespace)
    requests = user.spec.template.spec.containers[0].resources.requests
    assert requests["memory"] == "11Gi"  # the upgrade was applied
    assert release.replicas("placeholder-user") == 2  # and kept the controller's replicas
    assert release.replicas("gpu-warmers") == 1
    assert release.replicas("placeholder-big") == 0  # a new pool starts at 0

    # --reuse-values, and an upgrade that changes nothing of the placeholders.
    release.helm("upgrade", RELEASE, str(CHART), "--reuse-values", "--set", "config.interval=10s")
    assert release.replicas("placeholder-user") == 2
    assert release.replicas("gpu-warmers") == 1
    # The upgraded controller (new config, new Role with the new pool) still scales.
    run_controller_once(release)
    assert release.replicas("placeholder-user") == 2
    assert release.replicas("placeholder-big") == 0


def test_size_as_the_service_account_gives_the_pool_values(
    testcluster: Any, release: Release
) -> None:
    """The install guide's sizing step: `size --pool user` with the controller's rights prints the
    values for the chart; an upgrade with them changes the requests and keeps the replicas."""
    from testkit.cluster import create_node, delete_node, unique_name
    from testkit.manifests import node_manifest

    run_controller_once(release)
    assert release.replicas("placeholder-user") == 2
    node = unique_name("size")
    selector = release.values["pools"]["user"]["nodeSelector"]
    create_node(release.api, node_manifest(node, labels=selector, cpu="8", memory="32Gi"))
    try:
        proc = controller_command(
            release,
            "size",
            "--config",
            "/etc/node-placeholder-scaler/config.yaml",
            "--pool",
            "user",
        )
    finally:
        delete_node(release.api, node)
    printed = yaml.safe_load(proc.stdout)
    requests = printed["pools"]["user"]["resources"]["requests"]
    assert set(requests) == {"cpu", "memory"}
    values = release.values
    values["pools"]["user"]["resources"] = printed["pools"]["user"]["resources"]
    release.helm("upgrade", RELEASE, str(CHART), values=values)
    user = client.AppsV1Api(release.api).read_namespaced_deployment(
        "placeholder-user", release.namespace
    )
    rendered = user.spec.template.spec.containers[0].resources.requests
    assert rendered == {k: str(v) for k, v in requests.items()}
    assert release.replicas("placeholder-user") == 2
