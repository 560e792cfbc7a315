"""preflight/z2jh.py: validate --cluster beside zero-to-jupyterhub, on payloads recorded from
the test cluster (tests/fixtures/z2jh) and plain facts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from node_placeholder_scaler.clusterfacts import (
    DEFAULT_SCHEDULER,
    PlaceholderFacts,
    PoolFacts,
    UserPlaceholders,
    Z2jhFacts,
)
from node_placeholder_scaler.kube.objects import user_placeholders as parse_statefulset
from node_placeholder_scaler.kube.objects import user_pod_scheduler
from node_placeholder_scaler.preflight.autoscalers import AutoscalerSeen
from node_placeholder_scaler.preflight.cluster import ClusterFacts, judge
from node_placeholder_scaler.preflight.z2jh import is_user_scheduler, user_scheduler_name

FIXTURES = Path(__file__).parent / "fixtures" / "z2jh"
CA = AutoscalerSeen("cluster-autoscaler", ("Deployment kube-system/cluster-autoscaler",))
USER_SCHEDULER = "jhub-user-scheduler"
# z2jh's user-scheduler Deployment labels (jupyterhub.labels of scheduling/user-scheduler)
SCHEDULER_LABELS = {
    "component": "user-scheduler",
    "app": "jupyterhub",
    "release": "jhub",
    "chart": "jupyterhub-4.4.0",
    "heritage": "Helm",
}


def payload(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return body


def recorded_placeholders(replicas: int | None = None, priority: int = -10) -> UserPlaceholders:
    body = payload("user-placeholder-statefulset.json")
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    parsed = parse_statefulset(body)
    assert parsed is not None
    return replace(parsed, priority=priority)


def ours(scheduler: str = USER_SCHEDULER, priority: int = -10) -> PoolFacts:
    return PoolFacts(
        "user",
        "placeholders",
        PlaceholderFacts(
            "placeholder-user", True, "nps-placeholder", priority, scheduler_name=scheduler
        ),
    )


def facts(z2jh: Z2jhFacts, *pools: PoolFacts) -> ClusterFacts:
    return ClusterFacts("nps", True, (CA,), pools or (ours(),), z2jh=z2jh)


def test_the_recorded_statefulset_and_student_pod_read_as_z2jhs() -> None:
    p = recorded_placeholders()
    assert (p.name, p.replicas, p.scheduler_name, p.priority_class) == (
        "surge/user-placeholder",
        8,
        USER_SCHEDULER,
        "jhub-user-placeholder-priority",
    )
    assert user_pod_scheduler(payload("kubespawner-pod.json")) == USER_SCHEDULER
    # our own placeholder Deployment's pods are not z2jh's
    other = payload("kubespawner-pod.json")
    other["metadata"]["labels"] = {"app.kubernetes.io/component": "placeholder"}
    assert user_pod_scheduler(other) is None
    del other["spec"]["schedulerName"]
    other["metadata"]["labels"] = {"component": "singleuser-server", "app": "jupyterhub"}
    assert user_pod_scheduler(other) == DEFAULT_SCHEDULER


def test_z2jhs_user_scheduler_deployment_and_its_name() -> None:
    assert is_user_scheduler(SCHEDULER_LABELS)
    modern = {
        "app.kubernetes.io/name": "jupyterhub",
        "app.kubernetes.io/component": "user-scheduler",
        "app.kubernetes.io/instance": "hub2",
    }
    assert is_user_scheduler(modern) and user_scheduler_name(modern) == "hub2-user-scheduler"
    assert user_scheduler_name(SCHEDULER_LABELS) == USER_SCHEDULER
    assert not is_user_scheduler({"component": "user-scheduler", "app": "other"})


def test_no_z2jh_no_findings() -> None:
    assert judge(facts(Z2jhFacts())) == []


def test_an_install_as_the_example_has_no_findings() -> None:
    # z2jh's user placeholders off (replicas 0), ours placed by the users' scheduler
    z = Z2jhFacts(("jhub/user-scheduler",), (USER_SCHEDULER,), (recorded_placeholders(0),))
    assert judge(facts(z)) == []


def test_both_placeholder_kinds_active_says_turn_z2jhs_off() -> None:
    z = Z2jhFacts(
        ("jhub/user-scheduler",), (USER_SCHEDULER,), (recorded_placeholders(8, priority=-9),)
    )
    [finding] = judge(facts(z))
    assert finding.subject == "StatefulSet surge/user-placeholder (z2jh)"
    assert "static user placeholders (8) run beside the calendar's" in finding.problem
    assert "scheduling.userPlaceholder.replicas: 0" in finding.fix


def test_our_placeholders_on_another_scheduler_than_the_students() -> None:
    z = Z2jhFacts(("jhub/user-scheduler",), (USER_SCHEDULER,), ())
    [finding] = judge(facts(z, ours(DEFAULT_SCHEDULER)))
    assert finding.subject == "Deployment nps/placeholder-user (pool user)"
    assert f"placed by {DEFAULT_SCHEDULER}, z2jh's users by {USER_SCHEDULER}" in finding.problem
    assert finding.fix == f"set pools.user.schedulerName: {USER_SCHEDULER}"


def test_students_on_the_default_scheduler_want_ours_there_too() -> None:
    z = Z2jhFacts((), (DEFAULT_SCHEDULER,), ())  # userScheduler.enabled: false
    assert judge(facts(z, ours(DEFAULT_SCHEDULER))) == []
    [finding] = judge(facts(z, ours(USER_SCHEDULER)))
    assert finding.fix == f"set pools.user.schedulerName: {DEFAULT_SCHEDULER}"


@pytest.mark.parametrize(("theirs", "warned"), [(-10, True), (-11, True), (-9, False)])
def test_our_priority_must_be_below_active_z2jh_placeholders(theirs: int, warned: bool) -> None:
    z = Z2jhFacts((), (USER_SCHEDULER,), (recorded_placeholders(8, priority=theirs),))
    found = [f for f in judge(facts(z)) if f.subject.startswith("PriorityClass")]
    assert bool(found) is warned
    if warned:
        assert found[0].subject == "PriorityClass nps-placeholder (value -10, pool user)"
        assert f"(value {theirs})" in found[0].problem
        assert "userPlaceholderPriority above -10 (e.g. -9" in found[0].fix


def test_z2jh_placeholders_without_pod_priority_cannot_be_preempted() -> None:
    body = payload("user-placeholder-statefulset.json")
    del body["spec"]["template"]["spec"]["priorityClassName"]  # podPriority.enabled: false
    parsed = parse_statefulset(body)
    assert parsed is not None and parsed.priority_class is None
    z = Z2jhFacts((), (USER_SCHEDULER,), (replace(parsed, priority=0),))
    problems = [f.problem for f in judge(facts(z))]
    assert any("priority 0 (PriorityClass (none)), not below students" in p for p in problems)


def test_a_statefulset_of_another_app_is_not_z2jhs() -> None:
    body = payload("user-placeholder-statefulset.json")
    body["metadata"]["labels"] = {"app": "web"}
    body["spec"]["template"]["metadata"]["labels"] = {"app": "web"}
    assert parse_statefulset(body) is None
