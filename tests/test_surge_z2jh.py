"""The surge benchmark beside zero-to-jupyterhub (testkit/surge/z2jh.py): which scheduler and
spawner a scenario names, what our placeholders get, and how pods are told apart (no cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client import ApiClient

from testkit import z2jh as hub
from testkit.surge import cluster, z2jh
from testkit.surge.scenario import STRATEGY_TITLES, Scenario

FIXTURES = Path(__file__).parent / "fixtures" / "z2jh"


def pod_from(name: str) -> client.V1Pod:
    """A recorded pod payload as the kubernetes client's model (as the sampler reads it)."""
    pod: client.V1Pod = ApiClient().deserialize(
        (FIXTURES / name).read_text(), "V1Pod", "application/json"
    )
    return pod


def test_the_static_strategy_is_named_as_z2jh_names_it() -> None:
    assert STRATEGY_TITLES[z2jh.STATIC] == "z2jh userPlaceholder (static)"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"scheduler": "z2jh", "spawner": "kubespawner"}, None),
        ({"scheduler": "user"}, "unknown scheduler 'user': use one of default, z2jh"),
        ({"spawner": "hub"}, "unknown spawner 'hub': use one of plain, kubespawner"),
        (
            {"spawner": "kubespawner", "blocked_every": 5},
            "--blocked-every needs --spawner plain (one KubeSpawner profile for all)",
        ),
    ],
)
def test_scenario_choices_are_checked(changes: dict[str, object], problem: str | None) -> None:
    assert z2jh.check(Scenario().with_(**changes)) == problem


def test_the_user_scheduler_and_z2jhs_tolerations_go_to_our_placeholders() -> None:
    s = Scenario().with_(scheduler="z2jh", spawner="kubespawner")
    assert z2jh.cluster_args(s) == ["--user-scheduler"]
    assert z2jh.placement(s) == {
        "tolerations": hub.USER_TOLERATIONS,
        "schedulerName": "jhub-user-scheduler",
    }
    body = cluster.deployment(
        "placeholder-user", 0, "3900m", "15Gi", "placeholder", placement=z2jh.placement(s)
    )
    assert body["spec"]["template"]["spec"]["schedulerName"] == "jhub-user-scheduler"
    # KubeSpawner students on the default scheduler: tolerations only
    default = s.with_(scheduler="default")
    assert z2jh.cluster_args(default) == []
    assert z2jh.placement(default) == {"tolerations": hub.USER_TOLERATIONS}
    # the benchmark without z2jh is unchanged
    assert z2jh.placement(Scenario()) == {}


def test_pods_are_told_apart_by_their_part() -> None:
    student = pod_from("kubespawner-pod.json")  # KubeSpawner's pod of user steady-0
    assert cluster.role_of(student) == "steady"
    student.metadata.labels["hub.jupyter.org/username"] = "student-007"
    student.metadata.name = "jupyter-student-007"
    assert cluster.role_of(student) == "student"
    placeholder = client.V1Pod(
        metadata=client.V1ObjectMeta(
            name="user-placeholder-0", labels=hub.labels(hub.USER_PLACEHOLDER)
        )
    )
    assert cluster.role_of(placeholder) == "placeholder"
    puller = client.V1Pod(
        metadata=client.V1ObjectMeta(
            name="continuous-image-puller-x", labels=hub.labels(hub.CONTINUOUS_IMAGE_PULLER)
        )
    )
    assert cluster.role_of(puller) == ""  # not counted
    plain = client.V1Pod(
        metadata=client.V1ObjectMeta(name="student-001", labels={cluster.ROLE: "student"})
    )
    assert cluster.role_of(plain) == "student"
