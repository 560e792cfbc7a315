"""A trial install on the real node, in a namespace that enforces Pod Security `restricted`.

The chart is installed as a cautious platform team would first install it: into a namespace
labelled `pod-security.kubernetes.io/enforce=restricted` (the API server's own Pod Security
admission rejects any pod that breaks the profile), with `controller.dryRun: true` and a
pre-puller. Then:

- every pod template the release holds (controller, placeholders, pre-puller with its init
  containers, the helm test Pod) is admitted by a server-side dry-run create in that namespace,
  while a privileged pod is refused (so the namespace really enforces);
- the controller runs on the real node, tells what it would do (WouldScale Events, the
  would_scale metric) and the placeholders' replicas never change;
- rotating the calendar Secret reaches the running pod without a restart (the address is a
  mounted file the controller re-reads at every refresh);
- `helm test` runs `validate --cluster` in the namespace (with the chart's preflight
  ClusterRole: every check runs) and passes; it fails naming a pool selector that matches
  nothing, a placeholder bigger than the pool's node (the real node, labelled for the pool a
  while) and, with no node up, than every instance type its NodePool allows
  (`tests.instanceTypes`), and a gone feed.

Run under `flock /tmp/nps-realnode.lock` (one real-node cluster on the machine at a time).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from testkit.cluster import TestCluster, event_messages, wait_for
from testkit.delivery import FULLNAME, PLACEHOLDERS, RELEASE, SELECTOR, CalendarServer
from testkit.helm import CHART, HelmError, run_helm
from testkit.ics import Event, calendar

pytestmark = [pytest.mark.delivery, pytest.mark.cluster, pytest.mark.helm]

POOL_LABEL = "hub.jupyter.org/pool-name"
POOL = {POOL_LABEL: "user-pool"}
# The instance types Karpenter's kwok provider launches for the cluster's NodePools.
INSTANCE_TYPES = Path(__file__).parents[1] / "cluster/manifests/karpenter-instance-types.json"
RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")
}


@dataclass
class Trial:
    cluster: TestCluster
    api: client.ApiClient
    namespace: str
    calendars: CalendarServer
    replicas_seen: list[int] = field(default_factory=list)

    def helm(self, *args: str) -> str:
        return run_helm(
            [*args, "--namespace", self.namespace],
            env={"KUBECONFIG": str(self.cluster.kubeconfig)},
            timeout=600,
        )

    def ready_pod(self) -> client.V1Pod | None:
        pods = (
            client.CoreV1Api(self.api)
            .list_namespaced_pod(self.namespace, label_selector=SELECTOR)
            .items
        )
        for pod in pods:
            if pod.metadata.deletion_timestamp is None and any(
                c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []
            ):
                return pod
        return None

    def would_scale(self) -> list[str]:
        return event_messages(
            client.CoreV1Api(self.api), self.namespace, "WouldScale", PLACEHOLDERS
        )

    def metrics(self, pod: str) -> str:
        proc = subprocess.run(
            [
                "kubectl",
                "get",
                "--raw",
                f"/api/v1/namespaces/{self.namespace}/pods/{pod}:8080/proxy/metrics",
            ],
            capture_output=True,
            text=True,
            env=self.cluster.env(),
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


def lecture(uid: str, users: int) -> bytes:
    """One event starting in 10 minutes (inside the 15 minute lead), lasting an hour."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    return calendar([Event(uid, start, start + timedelta(hours=1), f"user: {users}", uid)])


def trial_values(image: str, feed_url: str, cluster: TestCluster) -> dict[str, Any]:
    repository, _, tag = image.rpartition(":")
    label = cluster.params["REAL_NODE_LABEL"]
    return {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
        "calendars": [{"name": "courses", "url": feed_url}],
        "pools": {
            "user": {
                "nodeSelector": POOL,
                "maxReplicas": 4,
                "resources": {"requests": {"cpu": "3500m", "memory": "13Gi"}},
                # The controller's own image stands in for a notebook image (it is on the node).
                "prePuller": {"enabled": True, "images": [image]},
            }
        },
        "config": {"interval": "10s", "leadTime": "15m", "calendarRefreshInterval": "20s"},
        "preflight": {"clusterRole": True},  # helm test: every check of validate --cluster
        "controller": {
            "dryRun": True,
            "nodeSelector": {label: "true"},
            "tolerations": [{"key": label, "operator": "Exists", "effect": "NoSchedule"}],
        },
    }


def watch_replicas(trial: Trial, stop: threading.Event) -> threading.Thread:
    """Record every spec.replicas of the placeholder Deployment the API reports."""

    def run() -> None:
        apps = client.AppsV1Api(trial.api)
        while not stop.is_set():
            w = watch.Watch()
            for ev in w.stream(
                apps.list_namespaced_deployment,
                trial.namespace,
                field_selector=f"metadata.name={PLACEHOLDERS}",
                timeout_seconds=5,
            ):
                trial.replicas_seen.append(int(ev["object"].spec.replicas or 0))
                if stop.is_set():
                    w.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def trial(
    node_cluster: TestCluster,
    node_image: str,
    calendars: CalendarServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Trial]:
    api = node_cluster.api_client()
    core = client.CoreV1Api(api)
    name = "nps-restricted"
    core.create_namespace({"metadata": {"name": name, "labels": RESTRICTED}})
    trial = Trial(node_cluster, api, name, calendars)
    stop = threading.Event()
    try:
        wait_for(
            "the default ServiceAccount",
            lambda: (
                core.list_namespaced_service_account(
                    name, field_selector="metadata.name=default"
                ).items
            ),
            timeout=30,
        )
        url = calendars.put("/trial.ics", lecture("lecture-1", 2))
        values = tmp_path_factory.mktemp("trial") / "values.yaml"
        values.write_text(yaml.safe_dump(trial_values(node_image, url, node_cluster)))
        trial.helm("install", RELEASE, str(CHART), "-f", str(values))
        watch_replicas(trial, stop)
        yield trial
    finally:
        stop.set()
        with contextlib.suppress(HelmError):  # a failed install leaves nothing to remove
            trial.helm("uninstall", RELEASE, "--wait")
        core.delete_namespace(name, grace_period_seconds=0)
        api.close()


def manifests(trial: Trial) -> list[dict[str, Any]]:
    """The release's objects as helm stored them, its test hook included."""
    text = trial.helm("get", "manifest", RELEASE) + "\n---\n" + trial.helm("get", "hooks", RELEASE)
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind")]


def as_pod(doc: dict[str, Any], namespace: str) -> dict[str, Any]:
    spec = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
    name = f"psa-{doc['kind'].lower()}-{doc['metadata']['name']}"[:63].rstrip("-")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def test_the_namespace_enforces_restricted(trial: Trial) -> None:
    """A privileged pod is refused there: the admission below proves something."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "registry.k8s.io/pause:3.10",
                    "securityContext": {"privileged": True},
                }
            ]
        },
    }
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(trial.api).create_namespaced_pod(trial.namespace, pod, dry_run="All")
    assert refused.value.status == 403
    message = json.loads(refused.value.body)["message"]
    assert 'violates PodSecurity "restricted:latest": privileged' in message


def test_every_pod_the_release_makes_is_admitted_as_restricted(trial: Trial) -> None:
    docs = [d for d in manifests(trial) if d["kind"] in {"Deployment", "DaemonSet", "Pod"}]
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
    assert kinds == sorted(
        [
            f"DaemonSet/{FULLNAME}-image-puller-user",
            f"Deployment/{FULLNAME}",
            f"Deployment/{PLACEHOLDERS}",
            f"Pod/{FULLNAME}-test",
        ]
    )
    core = client.CoreV1Api(trial.api)
    for doc in docs:
        core.create_namespaced_pod(trial.namespace, as_pod(doc, trial.namespace), dry_run="All")
    puller = next(d for d in docs if d["kind"] == "DaemonSet")
    assert puller["spec"]["template"]["spec"]["initContainers"]  # init containers included


def test_the_dry_run_controller_says_would_scale_and_writes_nothing(trial: Trial) -> None:
    pod = wait_for("a Ready controller pod", trial.ready_pod, timeout=240, interval=2)
    assert pod.spec.node_name == trial.cluster.params["REAL_NODE"]
    assert pod.status.container_statuses[0].container_id.startswith("containerd://")
    assert "--dry-run" in pod.spec.containers[0].args
    told = wait_for("a WouldScale Event", trial.would_scale, timeout=180, interval=2)
    assert told[0].startswith(
        "Dry run: would scale placeholders of pool user from 0 to 2 (calendar target 2"
    )
    text = trial.metrics(pod.metadata.name)
    assert 'node_placeholder_would_scale{pool="user"} 1.0' in text
    assert 'node_placeholder_desired_replicas{pool="user"} 2.0' in text
    assert 'node_placeholder_current_replicas{pool="user"} 0.0' in text
    time.sleep(35)  # three more rounds at interval 10s: still nothing written, told once
    assert len(trial.would_scale()) == 1
    scale = client.AppsV1Api(trial.api).read_namespaced_deployment_scale(
        PLACEHOLDERS, trial.namespace
    )
    assert (scale.spec.replicas or 0) == 0  # the client reads an omitted 0 as None
    assert trial.replicas_seen and set(trial.replicas_seen) == {0}


def test_a_rotated_calendar_secret_reaches_the_running_pod(trial: Trial) -> None:
    pod = wait_for("a Ready controller pod", trial.ready_pod, timeout=60, interval=2)
    url = trial.calendars.put("/rotated.ics", lecture("lecture-2", 3))
    encoded = base64.b64encode(url.encode()).decode()
    client.CoreV1Api(trial.api).patch_namespaced_secret(
        f"{FULLNAME}-calendars", trial.namespace, {"data": {"calendar-0-url": encoded}}
    )

    def rotated() -> list[str]:
        return [m for m in trial.would_scale() if " from 0 to 3 " in m]

    wait_for("a WouldScale Event from the rotated feed", rotated, timeout=300, interval=5)
    same = trial.ready_pod()
    assert same is not None and same.metadata.uid == pod.metadata.uid  # no restart
    assert same.status.container_statuses[0].restart_count == 0
    assert set(trial.replicas_seen) == {0}


def test_helm_test_runs_validate_cluster_and_passes(trial: Trial) -> None:
    out = trial.helm("test", RELEASE, "--logs", "--timeout", "5m")
    assert f"TEST SUITE:     {FULLNAME}-test" in out and "Phase:          Succeeded" in out
    assert re.search(r"^0 error\(s\), \d+ warning\(s\) on the cluster", out, re.M), out
    assert "cluster: namespace nps-restricted" in out  # validate --cluster ran in the pod
    assert "not checked" not in out  # the chart's preflight ClusterRole lets every check run


def upgrade(trial: Trial, tmp_path: Path, change: Any) -> None:
    """helm upgrade with the release's values as ``change`` leaves them."""
    values = json.loads(trial.helm("get", "values", RELEASE, "-o", "json"))
    change(values)
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
    trial.helm("upgrade", RELEASE, str(CHART), "-f", str(tmp_path / "values.yaml"))


def failed_test_logs(trial: Trial) -> str:
    with pytest.raises(HelmError) as failed:
        trial.helm("test", RELEASE, "--logs", "--timeout", "5m")
    assert f"{FULLNAME}-test failed" in str(failed.value)
    return str(
        client.CoreV1Api(trial.api).read_namespaced_pod_log(f"{FULLNAME}-test", trial.namespace)
    )


def test_helm_test_fails_naming_a_pool_selector_that_matches_nothing(
    trial: Trial, tmp_path: Path
) -> None:
    """A pool whose nodeSelector has a typo: the preflight's finding, with its fix, fails
    `helm test`."""
    upgrade(
        trial,
        tmp_path,
        lambda v: v["pools"]["user"]["nodeSelector"].update({POOL_LABEL: "usr-pool"}),
    )
    logs = failed_test_logs(trial)
    assert (
        f"error: pools.user.nodeSelector {{{POOL_LABEL}=usr-pool}}: matches no node and "
        "no Karpenter NodePool template"
    ) in logs, logs
    assert f"{POOL_LABEL}=user-pool" in logs  # the fix shows the labels there are
    assert "1 error(s)" in logs


@contextlib.contextmanager
def pool_label_on_the_real_node(trial: Trial) -> Iterator[str]:
    """The real node carries the pool's label for a while: the pool has a node up, whose
    allocatable the preflight judges a placeholder against. (Nothing of the pool lands there:
    the node keeps its NoSchedule taint, and a dry run scales no placeholder.)"""
    core = client.CoreV1Api(trial.api)
    node = trial.cluster.params["REAL_NODE"]
    core.patch_node(node, {"metadata": {"labels": POOL}})
    try:
        yield node
    finally:
        core.patch_node(node, {"metadata": {"labels": {POOL_LABEL: None}}})


def test_helm_test_fails_naming_a_placeholder_that_fits_no_node(
    trial: Trial, tmp_path: Path
) -> None:
    """A pool whose node is up and whose placeholder asks for more CPU than that node has:
    the preflight's too-big finding (the controller's PlaceholderTooBig), with its fix, fails
    `helm test`."""

    def too_big(values: dict[str, Any]) -> None:
        values["pools"]["user"]["nodeSelector"] = POOL
        values["pools"]["user"]["resources"]["requests"]["cpu"] = "500"

    upgrade(trial, tmp_path, too_big)
    with pool_label_on_the_real_node(trial) as node:
        logs = failed_test_logs(trial)
    assert (
        "error: Deployment nps-restricted/placeholder-user (pool user): one placeholder "
        "requests cpu=500, memory=13Gi; no node of the pool has that much allocatable "
        f"beside its DaemonSet and static pods (largest: node {node}, cpu="
    ) in logs, logs
    assert "it would not fit if a new node is added" in logs
    assert (
        "  fix: lower the placeholder requests of pool user (the chart's "
        "pools.user.resources): `node-placeholder-scaler size --pool user` prints requests "
        "that fit a node"
    ) in logs
    assert "1 error(s)" in logs


def test_helm_test_fails_naming_a_placeholder_that_fits_no_instance_type(
    trial: Trial, tmp_path: Path
) -> None:
    """No node of the pool is up: with tests.instanceTypes (the kwok provider's own list, the
    types the cluster's NodePools launch) the same placeholder fails `helm test` against the
    types NodePool user allows."""
    types = json.loads(INSTANCE_TYPES.read_text())

    def too_big(values: dict[str, Any]) -> None:
        values["tests"] = {"instanceTypes": types}
        values["pools"]["user"]["resources"]["requests"]["cpu"] = "500"

    upgrade(trial, tmp_path, too_big)
    assert not client.CoreV1Api(trial.api).list_node(label_selector=f"{POOL_LABEL}=user-pool").items
    logs = failed_test_logs(trial)
    assert (
        "error: Deployment nps-restricted/placeholder-user (pool user): one placeholder "
        "requests cpu=500, memory=13Gi; no instance type NodePool user allows has that much "
        "(user-4cpu-16gi: cpu=4, memory=16Gi): Karpenter adds no node for it"
    ) in logs, logs
    assert "  fix: lower the placeholder requests of pool user" in logs
    assert "1 error(s)" in logs


def test_helm_test_fails_with_the_finding_on_a_broken_install(trial: Trial, tmp_path: Path) -> None:
    """The feed is gone (404): `validate` names the feed and `helm test` fails (the pool is
    right again and no node carries its label, so the feed is the only finding)."""

    def break_feed(values: dict[str, Any]) -> None:
        values["pools"]["user"]["nodeSelector"] = POOL
        values["pools"]["user"]["resources"]["requests"]["cpu"] = "3500m"
        calendar = values["calendars"][0]
        calendar["url"] = calendar["url"].rsplit("/", 1)[0] + "/gone.ics"

    upgrade(trial, tmp_path, break_feed)
    logs = failed_test_logs(trial)
    assert "courses" in logs and "404" in logs, logs
    assert "0 error(s)" in logs  # the cluster part finds nothing
