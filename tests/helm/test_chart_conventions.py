"""Render tests of the chart's platform conventions: trial mode, the helm test hook, HA spread,
PDB, NetworkPolicy, Pod Security `restricted` for every pod, private registries, CRD guards,
probes and the alerts' switches (docs/operations/chart.md describes each)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testkit.helm import ALL_FEATURES, CRD_APIS, Doc, HelmError, find, minimal_values, one, render

pytestmark = pytest.mark.helm

FULLNAME = "nps-node-placeholder-scaler"
SELECTOR = {
    "app.kubernetes.io/name": "node-placeholder-scaler",
    "app.kubernetes.io/instance": "nps",
    "app.kubernetes.io/component": "controller",
}
BUFFER_POOL = {
    "backend": "capacityBuffer",
    "nodeSelector": {"pool": "gpu"},
    "resources": {"requests": {"cpu": "3", "memory": "12Gi"}},
}


@pytest.fixture(scope="module")
def all_docs(helm: str) -> list[Doc]:
    """Every feature, plus a buffer pool (its PodTemplate is a pod the chart makes too)."""
    values = {"pools": {"buffered": BUFFER_POOL}}
    return render(values, files=[ALL_FEATURES])


def controller(docs: list[Doc]) -> Doc:
    return one(docs, "Deployment", FULLNAME)


def pod_specs(docs: list[Doc]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod spec the chart makes: workloads' templates, PodTemplates and Pods."""
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in {"Deployment", "DaemonSet"}:
            yield name, doc["spec"]["template"]["spec"]
        elif doc["kind"] == "PodTemplate":
            yield name, doc["template"]["spec"]
        elif doc["kind"] == "Pod":
            yield name, doc["spec"]


def restricted_violations(spec: dict[str, Any]) -> list[str]:
    """The Pod Security Standard `restricted` (v1.30) checks that a pod spec fails."""
    pod = spec.get("securityContext") or {}
    out = []
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"{c['name']}: allowPrivilegeEscalation must be false")
        if "ALL" not in (sc.get("capabilities") or {}).get("drop", []):
            out.append(f"{c['name']}: capabilities must drop ALL")
        if set((sc.get("capabilities") or {}).get("add", [])) - {"NET_BIND_SERVICE"}:
            out.append(f"{c['name']}: adds capabilities")
        if not sc.get("runAsNonRoot", pod.get("runAsNonRoot")):
            out.append(f"{c['name']}: runAsNonRoot must be true")
        if sc.get("runAsUser", pod.get("runAsUser")) == 0:
            out.append(f"{c['name']}: runs as UID 0")
        seccomp = (sc.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
        if seccomp not in {"RuntimeDefault", "Localhost"}:
            out.append(f"{c['name']}: seccompProfile must be RuntimeDefault or Localhost")
        if sc.get("privileged"):
            out.append(f"{c['name']}: privileged")
    if any("hostPath" in v for v in spec.get("volumes", [])):
        out.append("hostPath volume")
    if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
        out.append("host namespaces")
    return out


# --- Pod Security, registries ------------------------------------------------------------------


def test_every_pod_the_chart_makes_passes_pod_security_restricted(all_docs: list[Doc]) -> None:
    specs = dict(pod_specs(all_docs))
    assert set(specs) == {
        f"Deployment/{FULLNAME}",
        "Deployment/placeholder-user",
        "Deployment/gpu-warmers",
        f"DaemonSet/{FULLNAME}-image-puller-user",
        f"DaemonSet/{FULLNAME}-image-puller-gpu",
        "PodTemplate/buffer-buffered",
        f"Pod/{FULLNAME}-test",
    }
    for name, spec in specs.items():
        assert restricted_violations(spec) == [], name
    puller = specs[f"DaemonSet/{FULLNAME}-image-puller-user"]
    assert len(puller["initContainers"]) == 2  # the pulled images run as non-root too


def test_the_restricted_check_finds_what_the_old_pre_puller_lacked() -> None:
    """The checker above is not blind: the pre-puller as it was (no runAsNonRoot) fails."""
    old = {
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [
            {
                "name": "image-0",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
        "containers": [
            {
                "name": "pause",
                "securityContext": {
                    "runAsNonRoot": True,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    assert restricted_violations(old) == ["image-0: runAsNonRoot must be true"]


def test_every_pod_gets_the_image_pull_secrets_and_the_pause_mirror(all_docs: list[Doc]) -> None:
    digest = "sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a"
    for name, spec in pod_specs(all_docs):
        assert spec["imagePullSecrets"] == [{"name": "registry-credentials"}], name
        for c in spec["containers"]:
            if c["name"] == "pause":
                assert c["image"] == f"mirror.example.org/pause@{digest}", name
    image = controller(all_docs)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.example.org/node-placeholder-scaler:0.1.0-test"
    test_pod = one(all_docs, "Pod")
    assert test_pod["spec"]["containers"][0]["image"] == image


# --- trial mode and the helm test hook ---------------------------------------------------------


def test_dry_run_runs_one_replica_with_the_flag_and_extra_args(helm: str) -> None:
    docs = render(minimal_values(controller={"dryRun": True, "extraArgs": ["--once"]}))
    deployment = controller(docs)
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-2:] == ["--dry-run", "--once"]
    assert deployment["spec"]["replicas"] == 1  # no leader election in a dry run
    assert find(docs, "PodDisruptionBudget") == []
    args = controller(render(minimal_values()))["spec"]["template"]["spec"]["containers"][0]
    assert "--dry-run" not in args["args"]


def test_the_helm_test_hook_runs_validate_with_the_controllers_config(all_docs: list[Doc]) -> None:
    pod = one(all_docs, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["serviceAccountName"] == "placeholder-scaler"
    c = spec["containers"][0]
    assert c["args"] == [
        "validate",
        "--config",
        "/etc/node-placeholder-scaler/config.yaml",
        "--cluster",
    ]
    ctl = controller(all_docs)["spec"]["template"]["spec"]
    by_name = {v["name"]: v for v in ctl["volumes"]}
    for volume in spec["volumes"]:
        if volume["name"] in {"config", "calendars"}:
            assert volume == by_name[volume["name"]]  # the same config and feed addresses


def test_the_helm_test_can_skip_the_cluster_or_be_left_out(helm: str) -> None:
    docs = render(minimal_values(tests={"cluster": False}))
    pod = one(docs, "Pod")
    assert "--cluster" not in pod["spec"]["containers"][0]["args"]
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert find(render(minimal_values(tests={"enabled": False})), "Pod") == []


# --- HA: spread, anti-affinity, PDB ------------------------------------------------------------


def test_replicas_prefer_other_nodes_and_spread_over_zones_by_default(helm: str) -> None:
    spec = controller(render(minimal_values()))["spec"]["template"]["spec"]
    terms = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert terms == [
        {
            "weight": 100,
            "podAffinityTerm": {
                "topologyKey": "kubernetes.io/hostname",
                "labelSelector": {"matchLabels": SELECTOR},
            },
        }
    ]
    assert (
        "requiredDuringSchedulingIgnoredDuringExecution" not in spec["affinity"]["podAntiAffinity"]
    )  # soft: a one-node cluster still runs both replicas
    assert spec["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": SELECTOR},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def test_affinity_and_spread_are_overridable(all_docs: list[Doc], helm: str) -> None:
    spec = controller(all_docs)["spec"]["template"]["spec"]
    assert set(spec["affinity"]) == {"nodeAffinity"}  # the value replaces the default
    assert [t["whenUnsatisfiable"] for t in spec["topologySpreadConstraints"]] == ["DoNotSchedule"]
    none = controller(render(minimal_values(controller={"topologySpreadConstraints": []})))
    assert "topologySpreadConstraints" not in none["spec"]["template"]["spec"]


def test_the_pdb_is_configurable(all_docs: list[Doc], helm: str) -> None:
    assert one(all_docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    assert "maxUnavailable" not in one(all_docs, "PodDisruptionBudget")["spec"]
    off = render(minimal_values(controller={"podDisruptionBudget": {"enabled": False}}))
    assert find(off, "PodDisruptionBudget") == []
    with pytest.raises(HelmError, match="podDisruptionBudget"):
        render(minimal_values(controller={"podDisruptionBudget": {"maxUnavailable": "half"}}))


# --- NetworkPolicy -----------------------------------------------------------------------------


def test_no_network_policy_by_default(helm: str) -> None:
    assert find(render(minimal_values()), "NetworkPolicy") == []


def test_network_policy_allows_prometheus_in_and_dns_api_calendars_out(all_docs: list[Doc]) -> None:
    policy = one(all_docs, "NetworkPolicy")["spec"]
    assert policy["podSelector"] == {  # the controller and the helm test Pod
        "matchLabels": {k: v for k, v in SELECTOR.items() if k != "app.kubernetes.io/component"},
        "matchExpressions": [
            {
                "key": "app.kubernetes.io/component",
                "operator": "In",
                "values": ["controller", "test"],
            }
        ],
    }
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == [
        {
            "ports": [{"port": "http", "protocol": "TCP"}],
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    },
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                }
            ],
        }
    ]
    dns, api, calendars = policy["egress"]
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert api == {
        "ports": [{"port": 443, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
    }
    assert calendars == {
        "ports": [{"port": 443, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
    }


def test_network_policy_defaults_allow_any_address_on_the_api_and_feed_ports(helm: str) -> None:
    policy = one(render(minimal_values(networkPolicy={"enabled": True})), "NetworkPolicy")["spec"]
    assert "from" not in policy["ingress"][0]
    _, api, calendars = policy["egress"]
    assert api == {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}
    assert calendars == {
        "ports": [{"port": 443, "protocol": "TCP"}, {"port": 80, "protocol": "TCP"}]
    }


# --- CRD guards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "crd"),
    [
        ({"serviceMonitor": {"enabled": True}}, "servicemonitors.monitoring.coreos.com"),
        ({"prometheusRule": {"enabled": True}}, "prometheusrules.monitoring.coreos.com"),
        ({"pools": {"gpu": BUFFER_POOL}}, "capacitybuffers.autoscaling.x-k8s.io"),
    ],
    ids=["ServiceMonitor", "PrometheusRule", "CapacityBuffer"],
)
def test_an_object_whose_crd_is_not_served_is_refused_naming_it(
    helm: str, values: dict[str, Any], crd: str
) -> None:
    with pytest.raises(HelmError) as failed:
        render(minimal_values(**values), apis=())
    message = str(failed.value)
    assert f"needs the CRD {crd}" in message and "which this cluster does not serve" in message
    assert "Install it first" in message
    docs = render(minimal_values(**values), apis=CRD_APIS)  # served: rendered
    assert docs
    off = render(minimal_values(**values, capabilityChecks=False), apis=())
    assert off


# --- probes, env, annotations, extra objects ---------------------------------------------------


def test_startup_probe_env_from_and_deployment_annotations(all_docs: list[Doc]) -> None:
    deployment = controller(all_docs)
    assert deployment["metadata"]["annotations"] == {"example.org/reviewed-by": "platform"}
    c = deployment["spec"]["template"]["spec"]["containers"][0]
    assert c["startupProbe"] == {
        "httpGet": {"path": "/healthz", "port": "http"},
        "initialDelaySeconds": 2,
        "periodSeconds": 3,
        "timeoutSeconds": 3,
        "failureThreshold": 40,
    }
    assert c["envFrom"] == [{"configMapRef": {"name": "proxy-settings"}}]
    extra = one(all_docs, "ConfigMap", "nps-proxy-settings")
    assert extra["data"] == {"NO_PROXY": "kubernetes.default.svc"}


def test_a_startup_probe_by_default(helm: str) -> None:
    c = controller(render(minimal_values()))["spec"]["template"]["spec"]["containers"][0]
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 120


# --- alerts ------------------------------------------------------------------------------------


def rules(docs: list[Doc]) -> dict[str, dict[str, Any]]:
    groups = one(docs, "PrometheusRule")["spec"]["groups"]
    return {r["alert"]: r for g in groups for r in g["rules"]}


def test_alerts_have_switches_severities_and_runbooks(all_docs: list[Doc]) -> None:
    found = rules(all_docs)
    assert set(found) == {
        "NodePlaceholderControllerDown",
        "NodePlaceholderFeedStale",
        "NodePlaceholderNotReadyByEventStart",
        "NodePlaceholderCalendarProblem",
        "NodePlaceholderRequestsLimited",
    }  # scaleErrors switched off
    stale = found["NodePlaceholderFeedStale"]
    assert stale["labels"] == {"severity": "critical", "team": "platform"}
    assert stale["for"] == "30m"
    for name, rule in found.items():
        assert rule["annotations"]["runbook_url"] == (
            "https://docs.example.org/node-placeholder-scaler/operations/chart/#" + name.lower()
        )


def test_the_alert_selector_works_with_any_scrape(helm: str) -> None:
    """Default: namespace and pod (kept by a ServiceMonitor, a PodMonitor and the usual
    annotation relabelling), never the job; a custom selector replaces it."""
    found = rules(render(minimal_values(prometheusRule={"enabled": True})))
    down = found["NodePlaceholderControllerDown"]["expr"]
    assert down == f'(max(up{{namespace="nps-system", pod=~"{FULLNAME}-.*"}}) or vector(0)) == 0'
    assert all("job=" not in r["expr"] for r in found.values())
    custom = rules(
        render(minimal_values(prometheusRule={"enabled": True, "selector": 'job="nps"'}))
    )
    assert 'node_placeholder_feed_up{job="nps"}' in custom["NodePlaceholderFeedStale"]["expr"]
