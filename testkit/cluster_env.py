"""One test's corner of the test cluster for the controller's cluster tests: the ``env``
fixture (a namespace, a node label unique to the test, nodes made as the autoscaler makes them,
the config), a calendar feed from events, and a Controller on kube.Kube aimed at it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from prometheus_client import CollectorRegistry

from node_placeholder_scaler import kube
from node_placeholder_scaler.config.settings import Settings, load_settings
from node_placeholder_scaler.loop import Controller
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.server import Health
from testkit.cluster import (
    Namespace,
    TestCluster,
    create_node,
    delete_node,
    ensure_priority_class,
    node_schedulable,
    service_account_client,
    unique_name,
    wait_for,
)
from testkit.ics import Event, calendar
from testkit.manifests import node_manifest, pod_manifest
from testkit.planners import StaticPlanner

PLACEHOLDER_CLASS = "nps-placeholder"  # -10, as the chart renders it
GPU = "nvidia.com/gpu"
GPU_TAINT = {"key": GPU, "value": "present", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": GPU, "operator": "Exists", "effect": "NoSchedule"}
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Env:
    """One test's corner of the cluster: namespace, node label, nodes, config."""

    api: client.ApiClient
    cluster: TestCluster
    ns: str
    label: dict[str, str]
    tmp: Path
    nodes: list[str] = field(default_factory=list)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    def pool_label(self, pool: str) -> dict[str, str]:
        return {"nps.test/pool": f"{self.ns}-{pool}"}

    def add_node(self, pool: str, *, boot_delay: str = "0s", wait: bool = True, **kw: Any) -> str:
        name = unique_name(f"{pool}-node")
        create_node(
            self.api, node_manifest(name, labels=self.pool_label(pool), boot_delay=boot_delay, **kw)
        )
        self.nodes.append(name)
        if wait:
            wait_for(
                f"node {name} schedulable",
                lambda: node_schedulable(self.core.read_node(name)),
                timeout=60,
            )
        return name

    def placeholders(
        self,
        pool: str,
        *,
        replicas: int = 0,
        cpu: str = "3500m",
        memory: str = "14Gi",
        extra: dict[str, str] | None = None,
        tolerations: list[dict[str, str]] | None = None,
    ) -> str:
        name = f"placeholder-{pool}"
        pod = pod_manifest(
            name,
            cpu=cpu,
            memory=memory,
            priority_class=PLACEHOLDER_CLASS,
            node_selector=self.pool_label(pool),
            tolerations=tolerations,
            labels={"app": name},
            extra_resources=extra,
        )
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": {"nps.test/pool": pool}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
            },
        }
        self.apps.create_namespaced_deployment(self.ns, body)
        return name

    def user_pod(
        self,
        pool: str,
        name: str,
        *,
        cpu: str,
        memory: str = "1Gi",
        extra: dict[str, str] | None = None,
        tolerations: list[dict[str, str]] | None = None,
    ) -> str:
        self.core.create_namespaced_pod(
            self.ns,
            pod_manifest(
                name,
                cpu=cpu,
                memory=memory,
                node_selector=self.pool_label(pool),
                extra_resources=extra,
                tolerations=tolerations,
            ),
        )
        return name

    def replicas(self, deployment: str) -> int:
        return int(self.apps.read_namespaced_deployment(deployment, self.ns).spec.replicas)

    def scale_events(self) -> list[str]:
        events = self.core.list_namespaced_event(
            self.ns, field_selector="reason=PlaceholdersScaled"
        ).items
        ordered = sorted(events, key=lambda e: str(e.metadata.creation_timestamp))
        return [str(e.message) for e in ordered]

    def config(self, pools: dict[str, str], *, calendar: str = "", extra: str = "") -> Path:
        ics = self.tmp / "calendar.ics"
        ics.write_text(calendar or ical([]))
        lines = [
            f"namespace: {self.ns}",
            "interval: 2s",
            f"calendars: [{{name: courses, url: {ics}}}]",
            "headroom: {nodeGracePeriod: 0s}",
            extra,
            "pools:",
        ]
        for pool, body in pools.items():
            selector = self.pool_label(pool)
            key, value = next(iter(selector.items()))
            lines.append(f"  {pool}: {{nodeSelector: {{{key}: {value}}}, {body}}}")
        path = self.tmp / "config.yaml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def settings(self, pools: dict[str, str], extra: str = "") -> Settings:
        path = self.config(pools, extra=extra)
        return load_settings(path.read_text(), str(path), {})

    def run(self, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "node_placeholder_scaler",
                "run",
                "--config",
                str(config),
                "--once",
                "--kubeconfig",
                str(self.cluster.kubeconfig),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            check=False,
        )


@pytest.fixture
def env(
    testcluster: TestCluster, kube_api: client.ApiClient, namespace: Namespace
) -> Iterator[Env]:
    ensure_priority_class(kube_api, PLACEHOLDER_CLASS, -10)
    with tempfile.TemporaryDirectory() as tmp:
        e = Env(kube_api, testcluster, namespace.name, {}, Path(tmp))
        try:
            yield e
        finally:
            for name in e.nodes:
                delete_node(kube_api, name)


def ical(events: list[tuple[str, datetime, datetime, str]]) -> str:
    """(summary, start, end, description) events as a feed (testkit.ics builds it)."""
    return calendar(Event(*e, uid=f"event-{i}@nps") for i, e in enumerate(events)).decode()


def controller(
    env: Env, settings: Settings, planner: StaticPlanner, api_client: Any = None
) -> Controller:
    cluster = kube.Kube(api_client or kube.load_api_client(str(env.cluster.kubeconfig)))
    now = datetime.now(UTC)
    return Controller(
        settings,
        cluster,
        cluster,
        planner,
        Metrics(CollectorRegistry()),
        Health(settings.interval, now),
        env.ns,
    )


def now_utc() -> datetime:
    return datetime.now(UTC)


def restricted_client(env: Env, allowed: list[str]) -> client.ApiClient:
    """A client with the chart's least-privilege RBAC, the Deployments limited to ``allowed``."""
    rbac = client.RbacAuthorizationV1Api(env.api)
    name = f"nps-{env.ns}"
    env.core.create_namespaced_service_account(env.ns, {"metadata": {"name": "scaler"}})
    subject = [{"kind": "ServiceAccount", "name": "scaler", "namespace": env.ns}]
    rbac.create_cluster_role(
        {
            "metadata": {"name": name},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["nodes", "pods"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        }
    )
    rbac.create_cluster_role_binding(
        {
            "metadata": {"name": name},
            "subjects": subject,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
        }
    )
    rbac.create_namespaced_role(
        env.ns,
        {
            "metadata": {"name": "scaler"},
            "rules": [
                {
                    "apiGroups": ["apps"],
                    "resources": ["deployments"],
                    "verbs": ["get"],
                    "resourceNames": allowed,
                },
                {
                    "apiGroups": ["apps"],
                    "resources": ["deployments/scale"],
                    "verbs": ["get", "patch"],
                    "resourceNames": allowed,
                },
                {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
                {
                    "apiGroups": ["coordination.k8s.io"],
                    "resources": ["leases"],
                    "verbs": ["create"],
                },
                {
                    "apiGroups": ["coordination.k8s.io"],
                    "resources": ["leases"],
                    "resourceNames": ["node-placeholder-scaler"],
                    "verbs": ["get", "update"],
                },
            ],
        },
    )
    rbac.create_namespaced_role_binding(
        env.ns,
        {
            "metadata": {"name": "scaler"},
            "subjects": subject,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "scaler"},
        },
    )
    restricted = service_account_client(env.api, env.ns, "scaler")
    wait_for("RBAC in force", lambda: can_list_nodes(restricted.configuration), timeout=30)
    return restricted


def can_list_nodes(configuration: client.Configuration) -> bool:
    with client.ApiClient(configuration) as api:
        client.CoreV1Api(api).list_node(limit=1)
    return True


def cleanup_cluster_rbac(env: Env) -> None:
    rbac = client.RbacAuthorizationV1Api(env.api)
    name = f"nps-{env.ns}"
    rbac.delete_cluster_role_binding(name)
    rbac.delete_cluster_role(name)
