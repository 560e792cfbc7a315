"""Render tests of the chart beside zero-to-jupyterhub: per-pool schedulerName and the z2jh
values example (examples/z2jh/values.yaml)."""

from __future__ import annotations

import pytest

from testkit.helm import REPO, HelmError, config_of, find, minimal_values, one, render, run_helm

pytestmark = pytest.mark.helm

EXAMPLE = REPO / "examples" / "z2jh" / "values.yaml"
USER_SCHEDULER = "jhub-user-scheduler"
Z2JH_TOLERATIONS = [
    {"key": key, "operator": "Equal", "value": "user", "effect": "NoSchedule"}
    for key in ("hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated")
]


def pod_spec(docs: list[dict[str, object]], kind: str, name: str) -> dict[str, object]:
    obj = one(docs, kind, name)
    template = obj["template"] if kind == "PodTemplate" else obj["spec"]["template"]
    spec: dict[str, object] = template["spec"]
    return spec


def with_scheduler(name: str | None) -> dict[str, object]:
    values = minimal_values()
    user = values["pools"]["user"]
    user["prePuller"] = {"enabled": True, "images": ["quay.io/jupyter/base-notebook:2025-01-06"]}
    values["pools"]["buffer"] = {**user, "backend": "capacityBuffer"}
    del values["pools"]["buffer"]["prePuller"]
    if name is not None:
        user["schedulerName"] = values["pools"]["buffer"]["schedulerName"] = name
    return values


def test_placeholders_use_the_clusters_default_scheduler_unless_told() -> None:
    docs = render(with_scheduler(None))
    assert "schedulerName" not in pod_spec(docs, "Deployment", "placeholder-user")
    assert "schedulerName" not in pod_spec(docs, "PodTemplate", "buffer-buffer")


def test_a_pools_scheduler_name_goes_to_its_pods_only() -> None:
    docs = render(with_scheduler(USER_SCHEDULER))
    assert pod_spec(docs, "Deployment", "placeholder-user")["schedulerName"] == USER_SCHEDULER
    assert pod_spec(docs, "PodTemplate", "buffer-buffer")["schedulerName"] == USER_SCHEDULER
    # DaemonSet pods are placed by their controller's node affinity (z2jh's pullers alike)
    [puller] = [d for d in find(docs, "DaemonSet") if "user" in d["metadata"]["name"]]
    assert "schedulerName" not in puller["spec"]["template"]["spec"]
    # the chart's key: not passed to the controller (whose settings would refuse it)
    assert "schedulerName" not in config_of(docs)["pools"]["user"]


@pytest.mark.parametrize("bad", ["User Scheduler", "-user-scheduler", "x" * 254])
def test_a_scheduler_name_that_is_no_dns_name_is_refused(bad: str) -> None:
    values = minimal_values()
    values["pools"]["user"]["schedulerName"] = bad
    with pytest.raises(HelmError, match="schedulerName"):
        render(values)


def test_the_z2jh_example_puts_placeholders_where_z2jh_puts_students() -> None:
    docs = render(files=[EXAMPLE])
    spec = pod_spec(docs, "Deployment", "placeholder-user")
    assert spec["schedulerName"] == USER_SCHEDULER
    assert spec["nodeSelector"] == {"hub.jupyter.org/node-purpose": "user"}
    assert spec["tolerations"] == Z2JH_TOLERATIONS
    [pc] = [
        d for d in find(docs, "PriorityClass") if d["metadata"]["name"].endswith("-placeholder")
    ]
    assert pc["value"] == -10  # below z2jh's default-priority (0), at CA's cutoff
    assert config_of(docs)["pools"]["user"]["nodeSelector"] == spec["nodeSelector"]


def test_the_z2jh_example_passes_helm_lint_strict() -> None:
    out = run_helm(
        [
            "lint",
            "--strict",
            str(REPO / "helm" / "node-placeholder-scaler"),
            "-f",
            str(EXAMPLE),
            "--set",
            "capabilityChecks=false",
        ]
    )  # HelmError on a finding
    assert "1 chart(s) linted, 0 chart(s) failed" in out
