"""Render tests of the chart: `helm template`, then assertions on the parsed objects."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from node_placeholder_scaler.config.configkeys import default
from node_placeholder_scaler.config.settings import CALENDAR, POOL, TOP, load_settings
from testkit.helm import (
    ALL_FEATURES,
    CALENDAR_DIR,
    CHART,
    MINIMAL,
    Doc,
    HelmError,
    config_of,
    find,
    minimal_values,
    one,
    render,
    run_helm,
    values_args,
)

pytestmark = pytest.mark.helm

RELEASE, NAMESPACE = "nps", "nps-system"
FULLNAME = "nps-node-placeholder-scaler"
STANDARD_LABELS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
}
# The keys the controller's config file accepts: its settings table.
CONFIG_KEYS = {key.name for key in TOP}
POOL_CONFIG_KEYS = {key.name for key in POOL}
CALENDAR_CONFIG_KEYS = {key.name for key in CALENDAR}
FEED_URL = "https://calendar.example.org/private-0123456789abcdef/basic.ics"


@pytest.fixture(scope="module")
def minimal_docs(helm: str) -> list[Doc]:
    return render(minimal_values())


@pytest.fixture(scope="module")
def all_docs(helm: str) -> list[Doc]:
    return render(files=[ALL_FEATURES])


def kinds(docs: list[Doc]) -> list[tuple[str, str]]:
    return sorted((d["kind"], d["metadata"]["name"]) for d in docs)


def controller(docs: list[Doc]) -> Doc:
    return next(
        d
        for d in find(docs, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "controller"
    )


def placeholders(docs: list[Doc]) -> dict[str, Doc]:
    """Placeholder Deployments by pool."""
    return {
        d["metadata"]["labels"]["node-placeholder-scaler/pool"]: d
        for d in find(docs, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "placeholder"
    }


def container(workload: Doc) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    only: dict[str, Any] = containers[0]
    return only


# --- what is rendered ------------------------------------------------------------------------


def test_default_values_fail_naming_the_missing_keys(helm: str) -> None:
    """The default values would install a controller that crash-loops: they fail at render
    with one message naming both keys; one key missing names that key alone."""
    with pytest.raises(HelmError) as failed:
        render()
    assert "set calendars and pools: the controller needs at least one calendar feed" in str(
        failed.value
    )
    only = minimal_values()
    del only["pools"]
    with pytest.raises(HelmError, match="set pools: the controller needs"):
        render(only)


def test_minimal_values_render_the_controller_one_pool_and_the_test(
    minimal_docs: list[Doc],
) -> None:
    assert kinds(minimal_docs) == sorted(
        [
            ("ClusterRole", f"{FULLNAME}-{NAMESPACE}"),
            ("ClusterRoleBinding", f"{FULLNAME}-{NAMESPACE}"),
            ("ConfigMap", FULLNAME),
            ("Deployment", FULLNAME),
            ("Deployment", "placeholder-user"),
            ("Pod", f"{FULLNAME}-test"),
            ("PodDisruptionBudget", FULLNAME),
            ("PriorityClass", f"{FULLNAME}-placeholder"),
            ("Role", FULLNAME),
            ("RoleBinding", FULLNAME),
            ("Secret", f"{FULLNAME}-calendars"),
            ("Service", FULLNAME),
            ("ServiceAccount", FULLNAME),
        ]
    )


def test_all_features_render_every_template(all_docs: list[Doc]) -> None:
    assert kinds(all_docs) == sorted(
        [
            ("ClusterRole", f"{FULLNAME}-{NAMESPACE}"),
            ("ClusterRole", f"{FULLNAME}-preflight-{NAMESPACE}"),
            ("ClusterRoleBinding", f"{FULLNAME}-{NAMESPACE}"),
            ("ClusterRoleBinding", f"{FULLNAME}-preflight-{NAMESPACE}"),
            ("ConfigMap", FULLNAME),
            ("ConfigMap", f"{FULLNAME}-dashboard"),
            ("ConfigMap", f"{RELEASE}-proxy-settings"),
            ("DaemonSet", f"{FULLNAME}-image-puller-gpu"),
            ("DaemonSet", f"{FULLNAME}-image-puller-user"),
            ("Deployment", FULLNAME),
            ("Deployment", "gpu-warmers"),
            ("Ingress", FULLNAME),
            ("Deployment", "placeholder-user"),
            ("NetworkPolicy", FULLNAME),
            ("Pod", f"{FULLNAME}-test"),
            ("PodDisruptionBudget", FULLNAME),
            ("PriorityClass", "course-image-pullers"),
            ("PriorityClass", "course-placeholders"),
            ("PrometheusRule", FULLNAME),
            ("Role", FULLNAME),
            ("RoleBinding", FULLNAME),
            ("Secret", f"{FULLNAME}-calendars"),
            ("Service", FULLNAME),
            ("ServiceAccount", "placeholder-scaler"),
            ("ServiceMonitor", FULLNAME),
        ]
    )


@pytest.mark.parametrize("which", ["minimal_docs", "all_docs"])
def test_every_object_has_the_standard_labels(which: str, request: pytest.FixtureRequest) -> None:
    docs: list[Doc] = request.getfixturevalue(which)
    for doc in docs:
        labels = doc["metadata"]["labels"]
        assert set(labels) >= STANDARD_LABELS, doc["metadata"]["name"]
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        if doc["kind"] not in {"PriorityClass", "ClusterRole", "ClusterRoleBinding"}:
            assert doc["metadata"].get("namespace") in {NAMESPACE, "monitoring"}


def test_selectors_use_name_instance_component_and_pool_only(all_docs: list[Doc]) -> None:
    allowed = {
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/component",
        "node-placeholder-scaler/pool",
    }
    workloads = find(all_docs, "Deployment") + find(all_docs, "DaemonSet")
    selectors = []
    for w in workloads:
        selector = w["spec"]["selector"]["matchLabels"]
        assert set(selector) <= allowed, w["metadata"]["name"]
        pod_labels = w["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pod_labels.items()
        selectors.append(selector)
    # No workload's selector matches another workload's pods.
    for w, selector in zip(workloads, selectors, strict=True):
        for other in workloads:
            if other is w:
                continue
            other_labels = other["spec"]["template"]["metadata"]["labels"]
            assert not selector.items() <= other_labels.items(), (
                w["metadata"]["name"],
                other["metadata"]["name"],
            )


def test_common_labels_and_name_overrides(helm: str) -> None:
    docs = render(minimal_values(commonLabels={"team": "teaching"}, fullnameOverride="scaler"))
    assert all(d["metadata"]["labels"]["team"] == "teaching" for d in docs)
    assert one(docs, "ConfigMap", "scaler")
    assert one(docs, "Deployment", "scaler")
    # The placeholder names do not depend on the release name: the controller config names them.
    assert set(placeholders(docs)) == {"user"}
    assert placeholders(docs)["user"]["metadata"]["name"] == "placeholder-user"


# --- the controller ----------------------------------------------------------------------------


def test_controller_is_hardened(minimal_docs: list[Doc]) -> None:
    deployment = controller(minimal_docs)
    spec = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 2  # a leader and a warm standby
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert spec["serviceAccountName"] == FULLNAME
    pod_sc = spec["securityContext"]
    assert pod_sc["runAsNonRoot"] is True
    assert pod_sc["runAsUser"] != 0
    assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    c = container(deployment)
    assert c["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    # read-only root: /tmp is the only writable place
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert mounts["/etc/node-placeholder-scaler"]["readOnly"] is True
    assert "/tmp" in mounts


def test_controller_runs_the_console_script_with_its_config(minimal_docs: list[Doc]) -> None:
    c = container(controller(minimal_docs))
    assert c["image"] == "node-placeholder-scaler:0.1.0"
    assert "command" not in c  # the image's ENTRYPOINT is the console script
    assert c["args"] == ["run", "--config", "/etc/node-placeholder-scaler/config.yaml"]
    config_volume = next(
        v
        for v in controller(minimal_docs)["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "config"
    )
    assert config_volume["configMap"]["name"] == FULLNAME


def test_controller_probes_and_port_follow_metrics_port(all_docs: list[Doc]) -> None:
    c = container(controller(all_docs))
    assert c["args"][-6:-2] == ["--log-level", "DEBUG", "--log-format", "json"]
    assert c["args"][-2:] == ["--log-level", "DEBUG"]  # controller.extraArgs come last
    assert c["ports"] == [{"name": "http", "containerPort": 9090, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["failureThreshold"] == 4
    assert config_of(all_docs)["metricsPort"] == 9090
    assert c["image"] == "registry.example.org/node-placeholder-scaler:0.1.0-test"
    assert {"name": "HTTPS_PROXY", "value": "http://proxy.example.org:3128"} in c["env"]


def test_image_digest_wins_over_tag(helm: str) -> None:
    digest = "sha256:" + "ab" * 32
    docs = render(minimal_values(image={"repository": "r/nps", "tag": "1.0", "digest": digest}))
    assert container(controller(docs))["image"] == f"r/nps@{digest}"


def test_a_config_change_rolls_the_controller(helm: str) -> None:
    def annotations(values: dict[str, Any]) -> dict[str, str]:
        docs = render(values)
        found: dict[str, str] = controller(docs)["spec"]["template"]["metadata"]["annotations"]
        return found

    base = annotations(minimal_values())
    other_config = annotations(minimal_values(config={"leadTime": "45m"}))
    other_url = minimal_values()
    other_url["calendars"][0]["url"] = "https://calendar.example.org/another/basic.ics"
    other_secret = annotations(other_url)
    assert base == annotations(minimal_values())  # stable
    assert other_config["checksum/config"] != base["checksum/config"]
    assert other_secret["checksum/calendars"] != base["checksum/calendars"]
    assert other_secret["checksum/config"] == base["checksum/config"]


def test_service_and_service_monitor_select_the_controller(all_docs: list[Doc]) -> None:
    service = one(all_docs, "Service")
    pod_labels = controller(all_docs)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 9090, "targetPort": "http", "protocol": "TCP"},
        {"name": "status", "port": 8443, "targetPort": "http", "protocol": "TCP"},
    ]
    monitor = one(all_docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    service_labels = service["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service_labels.items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "scrapeTimeout": "5s"}
    ]


def test_grafana_dashboard_shows_targets_replicas_staleness_problems(all_docs: list[Doc]) -> None:
    cm = one(all_docs, "ConfigMap", f"{FULLNAME}-dashboard")
    assert cm["metadata"]["namespace"] == "monitoring"
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "Autoscaling"}
    dashboard = json.loads(cm["data"]["node-placeholder-scaler.json"])
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    for metric in (
        "node_placeholder_calendar_target",
        "node_placeholder_desired_replicas",
        "node_placeholder_current_replicas",
        "node_placeholder_feed_staleness_seconds",
        "node_placeholder_pending_placeholders",
        "node_placeholder_headroom_nodes",
        "node_placeholder_problems",
        "node_placeholder_errors_total",
        "node_placeholder_feed_up",
        "node_placeholder_user_wait_seconds_bucket",  # the event reports' row
        "node_placeholder_capacity_ready_in_time",
        "node_placeholder_recommended_nodes",
    ):
        assert metric in exprs
    assert dashboard["uid"] == "node-placeholder-scaler"


# --- config, Secret and feed URLs --------------------------------------------------------------


def test_config_has_only_controller_keys_and_the_release_namespace(all_docs: list[Doc]) -> None:
    config = config_of(all_docs)
    assert set(config) <= CONFIG_KEYS
    assert config["namespace"] == NAMESPACE
    assert config["overlap"] == "max"
    assert config["maxFeedBytes"] == 10485760  # an int, not 1.048576e+07
    assert config["headroom"] == {"strategy": "memory", "threshold": 0.25, "nodeGracePeriod": "5m"}
    for pool in config["pools"].values():
        assert set(pool) <= POOL_CONFIG_KEYS
    assert config["pools"]["gpu"] == {
        "deployment": "gpu-warmers",
        "nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"},
        "minReplicas": 0,
        "maxReplicas": 4,
        "leadTime": "30m",
    }
    for calendar in config["calendars"]:
        assert set(calendar) <= CALENDAR_CONFIG_KEYS
        assert "url" not in calendar


def test_default_config_leaves_unset_keys_to_the_controller(minimal_docs: list[Doc]) -> None:
    config = config_of(minimal_docs)
    assert set(config) == {"namespace", "calendars", "pools", "leaderElection"}
    assert config["leaderElection"] == {"leaseName": FULLNAME}  # the release's own Lease


def test_the_chart_and_the_controller_share_every_default(minimal_docs: list[Doc]) -> None:
    """Without `config` values, the rendered config file is what a user of the bare controller
    would write for the same feed and pool: the chart adds no default of its own (its
    placeholder Deployment name is the controller's default too), and the container port is
    the controller's default metricsPort."""
    rendered = config_of(minimal_docs)
    values = minimal_values()
    pool = {k: v for k, v in values["pools"]["user"].items() if k in POOL_CONFIG_KEYS}
    bare = {
        "namespace": NAMESPACE,
        "leaderElection": {"leaseName": FULLNAME},  # set by the chart, as the namespace is
        "calendars": [{"name": "courses", "urlFromFile": f"{CALENDAR_DIR}/calendar-0-url"}],
        "pools": {"user": pool},
    }
    from_chart = load_settings(yaml.safe_dump(rendered), "config.yaml", {})
    assert from_chart == load_settings(yaml.safe_dump(bare), "config.yaml", {})
    assert (
        from_chart.pools["user"].deployment
        == placeholders(minimal_docs)["user"]["metadata"]["name"]
    )
    ports = container(controller(minimal_docs))["ports"]
    assert [p["containerPort"] for p in ports] == [default(TOP, "metricsPort")]


def test_a_pool_key_of_the_controller_passes_through(helm: str) -> None:
    """Pool keys that are not the chart's own reach the controller unchanged, so a key added
    to the settings table needs no template change."""
    values = minimal_values()
    values["pools"]["user"]["leadTime"] = "25m"
    config = config_of(render(values))
    assert config["pools"]["user"] == {
        "deployment": "placeholder-user",
        "nodeSelector": {"hub.jupyter.org/pool-name": "user-pool"},
        "maxReplicas": 5,
        "leadTime": "25m",
    }


def test_feed_urls_are_only_in_the_secret(all_docs: list[Doc]) -> None:
    for doc in all_docs:
        if doc["kind"] != "Secret":
            assert FEED_URL not in json.dumps(doc), doc["metadata"]["name"]
    secret = one(all_docs, "Secret")
    assert secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["calendar-0-url"]).decode() == FEED_URL
    assert set(secret["data"]) == {"calendar-0-url"}  # calendar 1 uses an existing Secret
    config = config_of(all_docs)
    assert [c["urlFromFile"] for c in config["calendars"]] == [
        f"{CALENDAR_DIR}/calendar-0-url",
        f"{CALENDAR_DIR}/calendar-1-url",
    ]
    pod = controller(all_docs)["spec"]["template"]["spec"]
    mounts = {m["name"]: m for m in container(controller(all_docs))["volumeMounts"]}
    assert mounts["calendars"] == {
        "name": "calendars",
        "mountPath": CALENDAR_DIR,
        "readOnly": True,
    }  # no subPath: a rotated Secret shows
    volume = next(v for v in pod["volumes"] if v["name"] == "calendars")
    assert volume["projected"]["sources"] == [
        {
            "secret": {
                "name": f"{FULLNAME}-calendars",
                "items": [{"key": "calendar-0-url", "path": "calendar-0-url"}],
            }
        },
        {
            "secret": {
                "name": "lab-feeds",
                "items": [{"key": "gpu-lab-url", "path": "calendar-1-url"}],
            }
        },
    ]
    assert not any("URL" in e["name"] for e in container(controller(all_docs))["env"])


def test_no_secret_when_every_feed_uses_an_existing_secret(helm: str) -> None:
    docs = render(minimal_values(calendars=[{"existingSecret": {"name": "s", "key": "k"}}]))
    assert not find(docs, "Secret")


def test_rendered_config_passes_the_controllers_own_validation(all_docs: list[Doc]) -> None:
    cm = next(d for d in find(all_docs, "ConfigMap") if "config.yaml" in d.get("data", {}))
    loaded = load_settings(cm["data"]["config.yaml"], "config.yaml", {})
    assert loaded.namespace == NAMESPACE
    assert {p.deployment for p in loaded.pools.values()} == {
        d["metadata"]["name"] for d in placeholders(all_docs).values()
    }
    assert [c.name for c in loaded.calendars] == ["courses", "gpu-lab"]


# --- RBAC --------------------------------------------------------------------------------------


def test_rbac_is_least_privilege(all_docs: list[Doc]) -> None:
    cluster_role = one(all_docs, "ClusterRole", f"{FULLNAME}-{NAMESPACE}")
    assert cluster_role["rules"] == [
        {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list", "watch"]}
    ]
    role = one(all_docs, "Role")
    assert role["metadata"]["namespace"] == NAMESPACE
    names = sorted(d["metadata"]["name"] for d in placeholders(all_docs).values())
    assert names == ["gpu-warmers", "placeholder-user"]
    assert role["rules"] == [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments"],
            "resourceNames": names,
            "verbs": ["get"],
        },
        {
            "apiGroups": ["apps"],
            "resources": ["deployments/scale"],
            "resourceNames": names,
            "verbs": ["get", "patch"],
        },
        {  # the event reports: one ConfigMap per pool, by name (create cannot be limited)
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": [f"{n}-reports" for n in names],
            "verbs": ["get", "update"],
        },
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [FULLNAME],  # the config's leaderElection.leaseName
            "verbs": ["get", "update"],
        },
    ]
    for rule in cluster_role["rules"] + role["rules"]:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
    for binding in (
        one(all_docs, "ClusterRoleBinding", f"{FULLNAME}-{NAMESPACE}"),
        one(all_docs, "RoleBinding"),
    ):
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "placeholder-scaler", "namespace": NAMESPACE}
        ]
    cluster_binding = one(all_docs, "ClusterRoleBinding", f"{FULLNAME}-{NAMESPACE}")
    assert cluster_binding["roleRef"]["name"] == cluster_role["metadata"]["name"]
    assert one(all_docs, "RoleBinding")["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": FULLNAME,
    }
    pod_spec = controller(all_docs)["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == "placeholder-scaler"


def test_rbac_and_service_account_can_be_left_out(helm: str) -> None:
    docs = render(
        minimal_values(rbac={"create": False}, serviceAccount={"create": False, "name": "mine"})
    )
    assert not find(docs, "Role") and not find(docs, "ClusterRole")
    assert not find(docs, "ServiceAccount")
    assert controller(docs)["spec"]["template"]["spec"]["serviceAccountName"] == "mine"


# --- placeholders, priority and pre-pullers ----------------------------------------------------


def test_placeholder_deployment_per_pool(all_docs: list[Doc]) -> None:
    by_pool = placeholders(all_docs)
    assert set(by_pool) == {"user", "gpu"}
    user = by_pool["user"]
    assert user["metadata"]["name"] == "placeholder-user"
    assert "replicas" not in user["spec"]  # offline: the controller's (test_chart_gitops.py)
    assert user["spec"]["strategy"] == {"type": "Recreate"}
    assert user["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "node-placeholder-scaler",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": "placeholder",
        "node-placeholder-scaler/pool": "user",
    }
    pod = user["spec"]["template"]
    assert pod["metadata"]["labels"]["cost-center"] == "teaching"
    assert pod["metadata"]["annotations"] == {"example.org/note": "placeholder"}
    spec = pod["spec"]
    assert spec["priorityClassName"] == "course-placeholders"
    assert spec["terminationGracePeriodSeconds"] == 0
    assert spec["automountServiceAccountToken"] is False
    assert spec["nodeSelector"] == {"hub.jupyter.org/node-purpose": "user"}
    assert "podAntiAffinity" in spec["affinity"]
    assert "tolerations" not in spec
    c = container(user)
    assert c["image"].startswith("mirror.example.org/pause@sha256:")  # the pause mirror
    assert container(placeholders(render(minimal_values()))["user"])["image"] == (
        "registry.k8s.io/pause:3.10"
    )
    assert c["resources"] == {"requests": {"cpu": "3500m", "memory": "13Gi"}}
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["runAsNonRoot"] is True


def test_gpu_pool_requests_and_limits_the_extended_resource(all_docs: list[Doc]) -> None:
    gpu = placeholders(all_docs)["gpu"]
    assert gpu["metadata"]["name"] == "gpu-warmers"
    spec = gpu["spec"]["template"]["spec"]
    assert spec["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    resources = container(gpu)["resources"]
    assert resources["requests"] == {"cpu": "3", "memory": "12Gi", "nvidia.com/gpu": 1}
    assert resources["limits"] == {"nvidia.com/gpu": 1}


def test_other_extended_resources_get_limits_too(helm: str) -> None:
    values = minimal_values()
    values["pools"]["user"]["resources"] = {
        "requests": {"cpu": "2", "memory": "8Gi", "amd.com/gpu": 2},
        "limits": {"memory": "8Gi"},
    }
    c = container(placeholders(render(values))["user"])
    assert c["resources"]["limits"] == {"memory": "8Gi", "amd.com/gpu": 2}


def test_a_pool_without_requests_is_refused(helm: str) -> None:
    values = minimal_values()
    del values["pools"]["user"]["resources"]
    message = r"pools.user.resources.requests is required.*size --pool user"
    with pytest.raises(HelmError, match=message):
        render(values)


def test_priority_class_defaults_to_minus_ten(minimal_docs: list[Doc]) -> None:
    pc = one(minimal_docs, "PriorityClass")
    assert pc["value"] == -10
    assert pc["globalDefault"] is False
    assert pc["preemptionPolicy"] == "Never"
    name = pc["metadata"]["name"]
    pod_spec = placeholders(minimal_docs)["user"]["spec"]["template"]["spec"]
    assert pod_spec["priorityClassName"] == name


def test_priority_below_the_expendable_cutoff_is_refused(helm: str) -> None:
    message = r"priorityClass.value -11 is below .* expendable cutoff -10"
    with pytest.raises(HelmError, match=message):
        render(minimal_values(priorityClass={"value": -11}))
    # A cluster autoscaler started with a lower cutoff allows a lower value.
    docs = render(minimal_values(priorityClass={"value": -11, "expendableCutoff": -20}))
    assert one(docs, "PriorityClass")["value"] == -11


def test_an_existing_priority_class_can_be_used(helm: str) -> None:
    docs = render(minimal_values(priorityClass={"create": False, "name": "low"}))
    assert not find(docs, "PriorityClass")
    assert placeholders(docs)["user"]["spec"]["template"]["spec"]["priorityClassName"] == "low"
    with pytest.raises(HelmError, match=r"priorityClass.name is required"):
        render(minimal_values(priorityClass={"create": False}))


def test_image_pre_puller_per_pool(all_docs: list[Doc]) -> None:
    pullers = {
        d["metadata"]["labels"]["node-placeholder-scaler/pool"]: d
        for d in find(all_docs, "DaemonSet")
    }
    assert set(pullers) == {"user", "gpu"}
    user = pullers["user"]["spec"]["template"]["spec"]
    assert [c["image"] for c in user["initContainers"]] == [
        "quay.io/jupyter/datascience-notebook:2025-01-06",
        "quay.io/jupyter/scipy-notebook:2025-01-06",
    ]
    assert all(c["command"] == ["/bin/true"] for c in user["initContainers"])
    assert user["nodeSelector"] == {"hub.jupyter.org/node-purpose": "user"}
    assert user["priorityClassName"] == "course-image-pullers"
    assert user["automountServiceAccountToken"] is False
    gpu = pullers["gpu"]["spec"]["template"]["spec"]
    assert gpu["tolerations"][0]["key"] == "nvidia.com/gpu"
    classes = {d["metadata"]["name"]: d["value"] for d in find(all_docs, "PriorityClass")}
    # between the placeholders and user pods (>= 0)
    assert classes["course-placeholders"] < classes["course-image-pullers"] < 0


def test_pre_puller_priority_must_sit_between_placeholders_and_users(helm: str) -> None:
    values = minimal_values()
    values["pools"]["user"]["prePuller"] = {"enabled": True, "images": ["img:1"]}
    docs = render(values)
    assert one(docs, "DaemonSet")
    assert one(docs, "PriorityClass", f"{FULLNAME}-image-puller")["value"] == -5
    for bad in (-10, -20, 0, 5):
        with pytest.raises(HelmError, match=r"must be above priorityClass.value"):
            render({**values, "prePuller": {"priorityClass": {"value": bad}}})
    values["pools"]["user"]["prePuller"] = {"enabled": True, "images": []}
    with pytest.raises(HelmError, match=r"pools.user.prePuller.images"):
        render(values)


def test_no_pre_puller_class_without_pre_pullers(minimal_docs: list[Doc]) -> None:
    assert not find(minimal_docs, "DaemonSet")
    assert len(find(minimal_docs, "PriorityClass")) == 1


def test_pool_names_map_to_valid_deployment_names(helm: str) -> None:
    values = minimal_values()
    values["pools"] = {"GPU": values["pools"]["user"]}
    docs = render(values)
    assert placeholders(docs)["GPU"]["metadata"]["name"] == "placeholder-gpu"
    values["pools"] = {"big_gpu": minimal_values()["pools"]["user"]}
    with pytest.raises(HelmError, match=r"not a valid Deployment name.*pools.big_gpu.deployment"):
        render(values)
    values["pools"]["big_gpu"]["deployment"] = "placeholder-big-gpu"
    assert "big_gpu" in placeholders(render(values))


def test_lead_is_not_a_pool_name(helm: str) -> None:
    values = minimal_values()
    values["pools"] = {"lead": values["pools"]["user"]}
    with pytest.raises(HelmError, match="reserved"):
        render(values)


# --- the replicas are the controller's -----------------------------------------------------------


def test_offline_render_leaves_the_placeholders_replicas_out(all_docs: list[Doc]) -> None:
    """`helm template` (as Argo CD renders) has no cluster to look at: the placeholder
    Deployments carry no `replicas`, so a GitOps sync never resets what the controller set
    (test_chart_gitops.py applies it to the real control plane, and shows the rendering
    against a cluster, which keeps the live value)."""
    rendered = placeholders(all_docs)
    assert set(rendered) == {"user", "gpu"}
    for deployment in rendered.values():
        assert "replicas" not in deployment["spec"]
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}


# --- NOTES.txt and lint ------------------------------------------------------------------------


def notes(values: dict[str, Any] | None, tmp_path: Path) -> str:
    """NOTES.txt as `helm install` prints it. `helm template` skips NOTES.txt and
    `helm install --dry-run` needs a cluster, so render a copy of the chart in which
    NOTES.txt is an ordinary template."""
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    text = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "_notes-for-test.tpl").write_text(
        '{{- define "notes-for-test" -}}\n' + text + "{{- end }}\n"
    )
    (chart / "templates" / "notes-for-test.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n"
        'data: {notes: {{ include "notes-for-test" . | toJson }}}\n'
    )
    args = [
        "template",
        RELEASE,
        str(chart),
        "--namespace",
        NAMESPACE,
        "--show-only",
        "templates/notes-for-test.yaml",
        *values_args(values),
    ]
    docs = [d for d in yaml.safe_load_all(run_helm(args)) if d]
    return str(docs[0]["data"]["notes"])


def test_notes_say_how_to_check_it_works(helm: str, tmp_path: Path) -> None:
    text = notes(minimal_values(), tmp_path)
    assert f"rollout status deployment/{FULLNAME}" in text
    assert "node_placeholder_" in text
    assert "placeholder-user" in text
    assert "WARNING" not in text


def test_notes_of_a_dry_run_say_where_to_look(helm: str, tmp_path: Path) -> None:
    text = notes(minimal_values(controller={"dryRun": True}), tmp_path / "dry")
    assert "DRY RUN" in text and "reason=WouldScale" in text
    assert "helm test nps -n nps-system --logs" in text
    assert "DRY RUN" not in notes(minimal_values(), tmp_path / "live")


@pytest.mark.parametrize("values_file", [MINIMAL, ALL_FEATURES], ids=["minimal", "all-features"])
def test_helm_lint_strict(helm: str, values_file: Path) -> None:
    """helm lint takes no --api-versions: the CRD guards are turned off for it."""
    args = [
        "lint",
        "--strict",
        str(CHART),
        "-f",
        str(values_file),
        "--set",
        "capabilityChecks=false",
    ]
    out = run_helm(args)
    assert "0 chart(s) failed" in out


def test_helm_lint_of_the_default_values_shows_the_message(helm: str) -> None:
    """helm lint runs `fail` in lint mode (reported, not fatal): the message is still what it
    shows; `helm install`/`template` fail on it (test_default_values_fail_naming_...)."""
    proc = subprocess.run(
        [helm, "lint", "--strict", str(CHART)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Fail: set calendars and pools: the controller needs" in proc.stdout + proc.stderr


def test_replicas_elect_a_leader_with_their_pod_name(helm: str) -> None:
    docs = render({**minimal_values(), "controller": {"replicaCount": 1}})
    deployment = controller(docs)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"  # safe: one writer
    assert find(docs, "PodDisruptionBudget") == []  # would block every drain with one pod
    env = {e["name"]: e for e in container(deployment)["env"]}
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    pdb = one(render(minimal_values()), "PodDisruptionBudget")
    assert pdb["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": deployment["spec"]["selector"]["matchLabels"]},
    }


def test_the_lease_is_the_releases_and_its_timing_passes_through(helm: str) -> None:
    values = {**minimal_values(), "config": {"leaderElection": {"leaseDuration": "30s"}}}
    election = config_of(render(values))["leaderElection"]
    assert election == {"leaseName": FULLNAME, "leaseDuration": "30s"}
    assert config_of(render(minimal_values()))["leaderElection"] == {"leaseName": FULLNAME}


def test_the_preflight_cluster_role_is_optional_and_read_only(
    minimal_docs: list[Doc], all_docs: list[Doc]
) -> None:
    name = f"{FULLNAME}-preflight-{NAMESPACE}"
    assert find(minimal_docs, "ClusterRole", name) == []
    role = one(all_docs, "ClusterRole", name)
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    assert verbs == {"get", "list"}
    granted = {
        (g, r) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
    }
    assert {
        ("", "nodes"),
        ("karpenter.sh", "nodepools"),
        ("karpenter.sh", "nodeclaims"),
        ("apps", "deployments"),
    } <= granted
    binding = one(all_docs, "ClusterRoleBinding", name)
    assert binding["roleRef"]["name"] == name
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "placeholder-scaler", "namespace": NAMESPACE}
    ]
