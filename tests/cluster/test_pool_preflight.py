"""Why nothing scales, on the test cluster (Karpenter v1.15, kwok provider): each broken setup
gives exactly its finding, a correct install none, through ``validate --cluster`` as a user
runs it; and the running controller tells a cause once, as a Warning Event and a metric.

The four broken setups: a placeholder too big for every instance type the NodePool allows
(or every node of the pool), a pool selector no node or NodePool template carries, a NodePool
whose limits hold fewer nodes than maxReplicas, and a ServiceAccount with the controller's
own RBAC only (no preflight ClusterRole): what it may not read is "not checked".
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from test_buffer_preflight import GOOD_CLASS, USER, Preflight, preflight  # noqa: F401

from testkit.cluster import create_node, delete_node, event_messages, wait_for
from testkit.controller import ControllerProcess
from testkit.manifests import node_manifest

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
TYPES = REPO / "tests" / "cluster" / "manifests" / "karpenter-instance-types.json"


def validate(pf: Preflight, pools: str, *, kubeconfig: Path | None = None) -> str:
    out = pf.validate(pools, "--instance-types", str(TYPES), kubeconfig=kubeconfig)
    return out.stdout + out.stderr + f"\nexit {out.returncode}"


def summary(text: str) -> str:
    return next(
        line for line in text.splitlines() if line.endswith(("on the cluster", "(see not-checked)"))
    )


def test_a_correct_install_has_no_pool_findings(preflight: Preflight) -> None:  # noqa: F811
    preflight.placeholders("placeholder-user", GOOD_CLASS)
    out = validate(preflight, USER)
    assert summary(out) == "0 error(s), 0 warning(s) on the cluster", out
    assert out.endswith("exit 0")


def test_a_placeholder_too_big_for_the_pool(preflight: Preflight) -> None:  # noqa: F811
    preflight.placeholders("placeholder-user", GOOD_CLASS, cpu="6")
    out = validate(preflight, USER)
    assert summary(out) == "1 error(s), 0 warning(s) on the cluster", out
    line = (
        f"error: Deployment {preflight.ns}/placeholder-user (pool user): one placeholder "
        "requests cpu=6, memory=14Gi; no "
    )
    assert line in out
    # no pool node up: the NodePool's instance type; a pool node up: its allocatable
    assert (
        "no instance type NodePool user allows has that much (user-4cpu-16gi: cpu=4, "
        "memory=16Gi)" in out
    ) or "no node of the pool has that much allocatable" in out
    assert "fix: lower the placeholder requests of pool user" in out
    assert out.endswith("exit 1")


def test_a_selector_that_matches_nothing(preflight: Preflight) -> None:  # noqa: F811
    preflight.placeholders("placeholder-user", GOOD_CLASS)
    out = validate(preflight, "  user: {nodeSelector: {hub.jupyter.org/pool-name: usr-pool}}\n")
    assert summary(out) == "1 error(s), 0 warning(s) on the cluster", out
    assert (
        "error: pools.user.nodeSelector {hub.jupyter.org/pool-name=usr-pool}: matches no "
        "node and no Karpenter NodePool template"
    ) in out
    assert "hub.jupyter.org/pool-name=user-pool" in out  # the fix shows the labels there are
    assert out.endswith("exit 1")


@pytest.fixture
def small_nodepool(preflight: Preflight) -> Iterator[str]:  # noqa: F811
    """A NodePool of the user instance type whose limits hold 2 nodes (8 CPUs)."""
    name = f"small-{preflight.ns[-8:]}"
    custom = client.CustomObjectsApi(preflight.api)
    custom.create_cluster_custom_object(
        "karpenter.sh",
        "v1",
        "nodepools",
        {
            "apiVersion": "karpenter.sh/v1",
            "kind": "NodePool",
            "metadata": {"name": name},
            "spec": {
                "limits": {"cpu": "8"},
                "template": {
                    "metadata": {"labels": {"nps.test/pool": name}},
                    "spec": {
                        "nodeClassRef": {
                            "group": "karpenter.kwok.sh",
                            "kind": "KWOKNodeClass",
                            "name": "default",
                        },
                        "requirements": [
                            {
                                "key": "node.kubernetes.io/instance-type",
                                "operator": "In",
                                "values": ["user-4cpu-16gi"],
                            }
                        ],
                    },
                },
            },
        },
    )
    try:
        yield name
    finally:
        custom.delete_cluster_custom_object("karpenter.sh", "v1", "nodepools", name)


def test_a_nodepool_limit_below_max_replicas(
    preflight: Preflight,  # noqa: F811
    small_nodepool: str,
) -> None:
    preflight.placeholders(
        "placeholder-small", GOOD_CLASS, selector={"nps.test/pool": small_nodepool}
    )
    out = validate(
        preflight,
        f"  user: {{nodeSelector: {{nps.test/pool: {small_nodepool}}}, "
        "maxReplicas: 5, deployment: placeholder-small}\n",
    )
    assert summary(out) == "0 error(s), 1 warning(s) on the cluster", out
    assert (
        f"warning: NodePool {small_nodepool} (pool user): its limits (cpu: 8) hold at "
        "most 2 node(s), fewer than pools.user.maxReplicas 5"
    ) in out
    assert (
        "fix: raise the NodePool's spec.limits.cpu to at least 20, or lower "
        "pools.user.maxReplicas to 2"
    ) in out
    assert out.endswith("exit 0")  # a warning: it warms, less than asked


@pytest.fixture
def controller_account(preflight: Preflight) -> Iterator[Path]:  # noqa: F811
    """A ServiceAccount with the controller's own RBAC as the chart grants it (nodes and pods
    cluster-wide; its placeholder Deployment by name; Events), and a kubeconfig for it."""
    ns, api = preflight.ns, preflight.api
    rbac, core = client.RbacAuthorizationV1Api(api), client.CoreV1Api(api)
    core.create_namespaced_service_account(ns, {"metadata": {"name": "controller"}})
    cluster_role = f"nps-controller-{ns}"
    rbac.create_cluster_role(
        {
            "metadata": {"name": cluster_role},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["nodes", "pods"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        }
    )
    subject = [{"kind": "ServiceAccount", "name": "controller", "namespace": ns}]
    rbac.create_cluster_role_binding(
        {
            "metadata": {"name": cluster_role},
            "subjects": subject,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": cluster_role,
            },
        }
    )
    rbac.create_namespaced_role(
        ns,
        {
            "metadata": {"name": "controller"},
            "rules": [
                {
                    "apiGroups": ["apps"],
                    "resources": ["deployments"],
                    "resourceNames": ["placeholder-user"],
                    "verbs": ["get"],
                },
                {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
            ],
        },
    )
    rbac.create_namespaced_role_binding(
        ns,
        {
            "metadata": {"name": "controller"},
            "subjects": subject,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "controller",
            },
        },
    )
    token = core.create_namespaced_service_account_token(
        "controller", ns, {"spec": {"expirationSeconds": 3600}}
    ).status.token
    config = yaml.safe_load(preflight.cluster.kubeconfig.read_text())
    config["users"] = [{"name": "controller", "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = "controller"
    path = preflight.tmp / "controller.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    try:
        yield path
    finally:
        rbac.delete_cluster_role_binding(cluster_role)
        rbac.delete_cluster_role(cluster_role)


def test_missing_rbac_is_not_checked_not_a_failure(
    preflight: Preflight,  # noqa: F811
    controller_account: Path,
) -> None:
    preflight.placeholders("placeholder-user", GOOD_CLASS)
    out = validate(preflight, USER, kubeconfig=controller_account)
    assert summary(out) == (
        "0 error(s), 0 warning(s) on the cluster; 1 check(s) not run (see not-checked)"
    ), out
    line = next(x for x in out.splitlines() if x.startswith("not-checked: cluster: "))
    for read in ("list deployments", "list nodepools", f"get priorityclass {GOOD_CLASS}"):
        assert read in line
    assert "fix: bind the chart's read-only ClusterRole (preflight.clusterRole: true)" in out
    assert out.endswith("exit 0")
    assert "autoscaler: not checked" in out


def chart_preflight_rules() -> list[dict[str, object]]:
    """The rules of the chart's optional preflight ClusterRole, as helm renders them."""
    out = subprocess.run(
        [
            str(REPO / "scripts" / "helm"),
            "template",
            "nps",
            str(REPO / "helm" / "node-placeholder-scaler"),
            "-f",
            str(REPO / "tests" / "helm" / "values-all-features.yaml"),
            "--set",
            "capabilityChecks=false",
        ],  # CRDs: not ours
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    [role] = [
        d
        for d in yaml.safe_load_all(out.stdout)
        if d and d["kind"] == "ClusterRole" and "-preflight-" in d["metadata"]["name"]
    ]
    rules: list[dict[str, object]] = role["rules"]
    return rules


@pytest.mark.helm
def test_the_charts_preflight_cluster_role_lets_every_check_run(
    preflight: Preflight,  # noqa: F811
    controller_account: Path,
) -> None:
    rbac = client.RbacAuthorizationV1Api(preflight.api)
    name = f"nps-preflight-{preflight.ns}"
    rbac.create_cluster_role({"metadata": {"name": name}, "rules": chart_preflight_rules()})
    rbac.create_cluster_role_binding(
        {
            "metadata": {"name": name},
            "subjects": [
                {"kind": "ServiceAccount", "name": "controller", "namespace": preflight.ns}
            ],
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
        }
    )
    try:
        preflight.placeholders("placeholder-user", GOOD_CLASS)
        out = wait_for(
            "the binding in force",
            lambda: (
                (text := validate(preflight, USER, kubeconfig=controller_account))
                and ("not-checked" not in text)
                and text
            ),
            timeout=30,
        )
    finally:
        rbac.delete_cluster_role_binding(name)
        rbac.delete_cluster_role(name)
    assert summary(out) == "0 error(s), 0 warning(s) on the cluster", out
    assert "autoscaler: karpenter" in out


def test_the_controller_tells_a_cause_once(preflight: Preflight) -> None:  # noqa: F811
    """``run``: a pool whose selector matches nothing gets one Warning Event and the
    pool_findings metric; later rounds (and a second check) add no Event."""
    preflight.placeholders("placeholder-user", GOOD_CLASS)
    config = preflight.config("  user: {nodeSelector: {hub.jupyter.org/pool-name: usr-pool}}\n")
    controller = ControllerProcess(
        config, preflight.cluster.kubeconfig, "nps-0", preflight.tmp
    ).start()
    core = client.CoreV1Api(preflight.api)
    try:
        messages = wait_for(
            "the Warning Event",
            lambda: event_messages(
                core, preflight.ns, "PoolSelectorMatchesNothing", "placeholder-user"
            ),
            timeout=90,
        )
        assert (
            wait_for(
                "the metric",
                lambda: controller.sample(
                    "node_placeholder_pool_findings", pool="user", check="selector"
                ),
                timeout=30,
            )
            == 1
        )
        assert (
            controller.sample("node_placeholder_pool_findings", pool="user", check="too-big") == 0
        )
        rounds = controller.sample("node_placeholder_last_round_timestamp_seconds")
        wait_for(
            "two more rounds",
            lambda: (
                (controller.sample("node_placeholder_last_round_timestamp_seconds") or 0)
                > (rounds or 0) + 1
            ),
            timeout=60,
        )
    finally:
        controller.stop()
    assert messages == [event_messages(core, preflight.ns, "PoolSelectorMatchesNothing")[0]]
    [message] = messages
    assert message.startswith(
        "pools.user.nodeSelector {hub.jupyter.org/pool-name=usr-pool}: "
        "matches no node and no Karpenter NodePool template"
    )
    assert "Fix: set pools.user.nodeSelector" in message


def test_a_daemonset_leaves_too_little_room_on_the_pools_node(
    preflight: Preflight,  # noqa: F811
) -> None:
    """A placeholder that fits the node's allocatable no longer fits beside the pods of a
    DaemonSet that runs on every node of the pool (as on a new node)."""
    name = f"ds-{preflight.ns[-8:]}"
    label = {"nps.test/pool": name}
    create_node(preflight.api, node_manifest(name, labels=label))
    try:
        preflight.placeholders("placeholder-user", GOOD_CLASS, selector=label)
        pools = f"  user: {{nodeSelector: {{nps.test/pool: {name}}}}}\n"
        fits = validate(preflight, pools)
        assert summary(fits) == "0 error(s), 0 warning(s) on the cluster", fits
        client.AppsV1Api(preflight.api).create_namespaced_daemon_set(
            preflight.ns,
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "agent"},
                "spec": {
                    "selector": {"matchLabels": {"app": "agent"}},
                    "template": {
                        "metadata": {"labels": {"app": "agent"}},
                        # as agents do: on every node, booting or not (the node's not-ready taint)
                        "spec": {
                            "nodeSelector": label,
                            "tolerations": [{"operator": "Exists"}],
                            "containers": [
                                {
                                    "name": "agent",
                                    "image": "registry.k8s.io/pause:3.10",
                                    "resources": {"requests": {"cpu": "100m", "memory": "2560Mi"}},
                                }
                            ],
                        },
                    },
                },
            },
        )
        core = client.CoreV1Api(preflight.api)
        wait_for(
            "the DaemonSet's pod on the node",
            lambda: any(
                p.spec.node_name == name
                for p in core.list_namespaced_pod(preflight.ns, label_selector="app=agent").items
            ),
            timeout=120,
        )
        out = validate(preflight, pools)
    finally:
        delete_node(preflight.api, name)
    assert summary(out) == "1 error(s), 0 warning(s) on the cluster", out
    assert (
        "one placeholder requests cpu=3500m, memory=14Gi; no node of the pool has that "
        "much allocatable beside its DaemonSet and static pods (largest: node "
        f"{name}, cpu=3900m, memory=13824Mi)"
    ) in out
