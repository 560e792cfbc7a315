"""The z2jh values example (examples/z2jh/values.yaml) on the real test control plane, beside
zero-to-jupyterhub's user scheduler (a second kube-scheduler with z2jh's configuration) and a
user node as z2jh's docs make one (label ``hub.jupyter.org/node-purpose=user``, taint
``hub.jupyter.org/dedicated=user:NoSchedule``).

`helm install` takes the example unchanged; its placeholder is bound by the user scheduler to
the tainted user node; ``validate --cluster`` then names what to change while z2jh's own user
placeholders run at its default priority, and nothing once they are off; with the chart's
default scheduler instead, it names the scheduler mismatch.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from testkit import z2jh
from testkit.cluster import create_node, delete_node, node_schedulable, unique_name, wait_for
from testkit.helm import CHART, REPO, run_helm
from testkit.ics import calendar

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

EXAMPLE = REPO / "examples" / "z2jh" / "values.yaml"
RELEASE = "nps-z2jh"
PLACEHOLDERS = "placeholder-user"


def helm_in(testcluster: Any, namespace: str, *args: str) -> str:
    return run_helm(
        [*args, "--namespace", namespace], env={"KUBECONFIG": str(testcluster.kubeconfig)}
    )


@pytest.fixture
def user_node(testcluster: Any, kube_api: client.ApiClient) -> Iterator[str]:
    name = unique_name("z2jh-user")
    create_node(kube_api, z2jh.user_node(name))
    try:
        wait_for(
            f"node {name} schedulable",
            lambda: node_schedulable(client.CoreV1Api(kube_api).read_node(name)),
            timeout=60,
        )
        yield name
    finally:
        delete_node(kube_api, name)


@pytest.fixture
def installed(
    testcluster: Any, kube_api: client.ApiClient, namespace: Any, helm: str
) -> Iterator[str]:
    """The chart installed with the example values as they are; z2jh's user scheduler and
    PriorityClasses (its user placeholders at z2jh's default -10)."""
    z2jh.ensure_user_scheduler(testcluster)
    z2jh.apply_priority_classes(kube_api)
    out = helm_in(testcluster, namespace.name, "install", RELEASE, str(CHART), "-f", str(EXAMPLE))
    assert "STATUS: deployed" in out
    try:
        yield namespace.name
    finally:
        helm_in(testcluster, namespace.name, "uninstall", RELEASE)


def bound_by(core: client.CoreV1Api, namespace: str, pod: str) -> str:
    """The component that reported the pod's Scheduled Event (the scheduler that bound it)."""
    events = core.list_namespaced_event(
        namespace, field_selector=f"reason=Scheduled,involvedObject.name={pod}"
    ).items
    assert events, f"no Scheduled Event for {pod}"
    e = events[0]
    return str(e.reporting_component or (e.source.component if e.source else ""))


def validate(testcluster: Any, namespace: str, tmp: Path) -> list[str]:
    """``validate --cluster`` for the example's pool; its finding and fix lines about z2jh."""
    ics = tmp / "courses.ics"
    ics.write_bytes(calendar([]))
    config = tmp / "config.yaml"
    config.write_text(
        f"namespace: {namespace}\ncalendars: [{{name: courses, url: {ics}}}]\n"
        "pools:\n  user: {nodeSelector: {hub.jupyter.org/node-purpose: user}}\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "node_placeholder_scaler",
            "validate",
            "--cluster",
            "--config",
            str(config),
            "--kubeconfig",
            str(testcluster.kubeconfig),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    lines = out.stdout.splitlines()
    assert any("on the cluster" in x for x in lines), out.stdout + out.stderr
    return [
        f"{x}\n{lines[i + 1]}"
        for i, x in enumerate(lines[:-1])
        if x.startswith(("error:", "warning:")) and ("z2jh" in x or "schedulerName" in lines[i + 1])
    ]


def test_the_example_installs_unchanged_and_warms_a_z2jh_user_node(
    testcluster: Any,
    kube_api: client.ApiClient,
    installed: str,
    user_node: str,
    tmp_path: Path,
) -> None:
    ns, core = installed, client.CoreV1Api(kube_api)
    apps = client.AppsV1Api(kube_api)
    apps.patch_namespaced_deployment_scale(PLACEHOLDERS, ns, {"spec": {"replicas": 1}})

    def placed() -> client.V1Pod | None:
        pods = core.list_namespaced_pod(
            ns, label_selector="app.kubernetes.io/component=placeholder"
        ).items
        return next((p for p in pods if p.spec.node_name), None)

    wait_for("the placeholder bound to a node", placed, timeout=120)
    pod = placed()
    assert pod is not None
    assert pod.spec.node_name == user_node  # the only node with z2jh's user label
    assert pod.spec.scheduler_name == z2jh.user_scheduler() == "jhub-user-scheduler"
    assert bound_by(core, ns, pod.metadata.name) == z2jh.user_scheduler()
    assert validate(testcluster, ns, tmp_path) == []  # no z2jh user placeholders yet


def test_validate_names_what_to_change_beside_z2jh(
    testcluster: Any,
    kube_api: client.ApiClient,
    installed: str,
    tmp_path: Path,
) -> None:
    ns = installed
    apps = client.AppsV1Api(kube_api)
    # z2jh's userPlaceholder with 2 replicas at z2jh's default priority (-10, as ours)
    apps.create_namespaced_stateful_set(ns, z2jh.user_placeholder_statefulset(2, cpu="500m"))
    found = validate(testcluster, ns, tmp_path)
    assert len(found) == 2, found
    assert found[0].startswith(
        f"warning: StatefulSet {ns}/user-placeholder (z2jh): z2jh's "
        "static user placeholders (2) run beside the calendar's"
    )
    assert "fix: set scheduling.userPlaceholder.replicas: 0 in z2jh's values" in found[0]
    assert found[1].startswith(
        "warning: PriorityClass nps-z2jh-node-placeholder-scaler-"
        "placeholder (value -10, pool user): not below z2jh's user "
        f"placeholders {ns}/user-placeholder (value -10)"
    )
    # z2jh's turned off as the example says: nothing left to change
    apps.patch_namespaced_stateful_set("user-placeholder", ns, {"spec": {"replicas": 0}})
    assert validate(testcluster, ns, tmp_path) == []
    # the chart's default scheduler while z2jh's users use the user scheduler
    helm_in(
        testcluster,
        ns,
        "upgrade",
        RELEASE,
        str(CHART),
        "-f",
        str(EXAMPLE),
        "--set",
        "pools.user.schedulerName=",
    )
    [mismatch] = validate(testcluster, ns, tmp_path)
    assert mismatch.startswith(
        f"warning: Deployment {ns}/{PLACEHOLDERS} (pool user): its pods "
        "are placed by default-scheduler, z2jh's users by "
        "jhub-user-scheduler"
    )
    assert mismatch.endswith("fix: set pools.user.schedulerName: jhub-user-scheduler")
