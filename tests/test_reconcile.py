"""reconcile.py against the in-memory fake cluster (testkit/fakes.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.decisions import decision_message
from node_placeholder_scaler.model import Occurrence, Plan, PoolTarget
from node_placeholder_scaler.observed import Resources, Taint, Toleration
from node_placeholder_scaler.reconcile import reconcile_once
from testkit.fakes import GI, T0, FakeCluster, FakeDeployment, node, placeholder_pods, pod

CONFIG = """
namespace: node-placeholder
calendars: [{name: courses, url: /dev/null}]
pools:
  user: {nodeSelector: {pool: user}, maxReplicas: 10}
  gpu: {nodeSelector: {pool: gpu}, maxReplicas: 4}
"""
SETTINGS = load_settings(CONFIG, "config.yaml", {})
GPU_TOLERATION = Toleration("nvidia.com/gpu", "Exists", effect="NoSchedule")


def occurrence(summary: str, uid: str | None = None, start=T0, **requests: int) -> Occurrence:
    end = start + timedelta(hours=1)
    return Occurrence("courses", uid or summary, summary, start, end, requests)


def plan(user: int = 0, gpu: int = 0, *, known: bool = True, events=()) -> Plan:
    pools = {
        "user": PoolTarget("user", user, user or None, False, tuple(events), known),
        "gpu": PoolTarget("gpu", gpu, gpu or None, False, (), known),
    }
    return Plan(T0, pools, tuple(events), ())


def cluster(user_replicas: int = 0, gpu_replicas: int = 0) -> FakeCluster:
    return FakeCluster(
        deployments={
            "placeholder-user": FakeDeployment(user_replicas, Resources(3500, 14 * GI)),
            "placeholder-gpu": FakeDeployment(
                gpu_replicas,
                Resources(7500, 60 * GI, {"nvidia.com/gpu": 2}),
                (GPU_TOLERATION,),
            ),
        }
    )


def run(fake: FakeCluster, the_plan: Plan, *, dry_run: bool = False):
    result = reconcile_once(fake, the_plan, SETTINGS, "node-placeholder", dry_run=dry_run)
    return {d.pool: d for d in result.pools}


def test_scale_up_at_the_event_with_an_event_naming_it():
    fake = cluster()
    data8 = occurrence("Data 8 final", user=3)
    decisions = run(fake, plan(user=3, events=[data8]))
    assert decisions["user"].action == "scaled"
    assert (decisions["user"].desired, decisions["user"].current) == (3, 0)
    assert fake.scales == [("placeholder-user", 3)]
    assert fake.events == [
        ("placeholder-user", "PlaceholdersScaled", decision_message(decisions["user"]))
    ]
    assert "Data 8 final" in fake.events[0][2]
    assert decisions["gpu"].action == "unchanged"


def test_headroom_reduces_the_count():
    fake = cluster()
    fake.nodes = [node("a", labels={"pool": "user"}), node("b", labels={"pool": "user"})]
    fake.pods = [pod("student", "a", cpu=2, memory_gi=8)]  # a: 0.5 free, b: 1.0 free
    decisions = run(fake, plan(user=3))
    assert (decisions["user"].free, decisions["user"].desired) == (1, 2)
    assert fake.scales == [("placeholder-user", 2)]


def test_unchanged_patches_nothing_and_logs_no_info(caplog):
    fake = cluster(user_replicas=3)
    fake.deployments["placeholder-user"].pods = placeholder_pods("p", ["a", "b", "c"])
    with caplog.at_level(logging.INFO, logger="node_placeholder_scaler"):
        decisions = run(fake, plan(user=3))
    assert decisions["user"].action == "unchanged"
    assert fake.scales == [] and fake.events == []
    assert caplog.records == []


def test_scale_down_after_the_event_reads_no_nodes():
    fake = cluster(user_replicas=3)
    decisions = run(fake, plan(user=0))
    assert fake.scales == [("placeholder-user", 0)]
    assert decisions["user"].direction == "down"
    assert "no active calendar event" in fake.events[0][2]
    assert not any(call[0] in ("list nodes", "list pods on node") for call in fake.calls)


def test_no_reduction_while_a_placeholder_is_pending():
    fake = cluster(user_replicas=3)
    fake.deployments["placeholder-user"].pods = placeholder_pods("p", ["a", "b", None])
    fake.nodes = [node(n, labels={"pool": "user"}) for n in "abc"]  # c empty, old
    decisions = run(fake, plan(user=3))
    assert decisions["user"].free == 1
    assert decisions["user"].desired == 3
    assert fake.scales == []


def test_dry_run_changes_nothing_and_says_so(caplog):
    fake = cluster()
    with caplog.at_level(logging.INFO, logger="node_placeholder_scaler"):
        decisions = run(fake, plan(user=2, events=[occurrence("Lab", user=2)]), dry_run=True)
    assert decisions["user"].action == "would-scale"
    assert fake.scales == [] and fake.events == []
    assert any("would scale pool=user" in r.getMessage() for r in caplog.records)
    assert 'events="Lab"' in caplog.records[0].getMessage()


def test_unknown_plan_leaves_replicas_alone():
    fake = cluster(user_replicas=2)
    decisions = run(fake, plan(user=0, known=False))
    assert decisions["user"].action == "left-alone"
    assert fake.scales == [] and fake.calls == []


@pytest.mark.parametrize(
    ("method", "status", "stage"),
    [
        ("get deployment", 404, "deployment"),
        ("get deployment", 403, "deployment"),
        ("list placeholder pods", 500, "deployment"),
        ("list nodes", 500, "nodes"),
        ("list pods on node", None, "pods"),
        ("scale deployment", 409, "scale"),
        ("scale deployment", 403, "scale"),
    ],
)
def test_one_pool_failing_does_not_stop_the_other(method, status, stage):
    fake = cluster()
    fake.nodes = [
        node(
            "g1",
            labels={"pool": "gpu"},
            cpu=8,
            memory_gi=64,
            gpu=2,
            taints=[Taint("nvidia.com/gpu", "present", "NoSchedule")],
        )
    ]
    fake.nodes.append(node("u1", labels={"pool": "user"}))
    key = {
        "get deployment": "placeholder-gpu",
        "list placeholder pods": "placeholder-gpu",
        "list nodes": "pool=gpu",
        "list pods on node": "g1",
        "scale deployment": "placeholder-gpu",
    }[method]
    fake.fail(method, key, status)
    decisions = run(fake, plan(user=2, gpu=2))
    assert decisions["gpu"].action == "error"
    assert decisions["gpu"].stage == stage
    assert decisions["user"].action == "scaled"
    assert ("placeholder-user", 1) in fake.scales


def test_missing_deployment_is_an_error_not_a_crash():
    fake = cluster()
    del fake.deployments["placeholder-gpu"]
    decisions = run(fake, plan(user=1, gpu=1))
    assert decisions["gpu"].error and "404" in decisions["gpu"].error
    assert decisions["user"].action == "scaled"


def test_event_failure_still_counts_as_scaled():
    fake = cluster()
    fake.fail("create event", "placeholder-user", 403)
    decisions = run(fake, plan(user=1))
    assert decisions["user"].action == "scaled"
    assert decisions["user"].event_error
    assert fake.scales == [("placeholder-user", 1)]


def test_gpu_pool_counts_gpus():
    fake = cluster()
    taint = [Taint("nvidia.com/gpu", "present", "NoSchedule")]
    fake.nodes = [
        node("g1", labels={"pool": "gpu"}, cpu=8, memory_gi=64, gpu=2, taints=taint),
        node("g2", labels={"pool": "gpu"}, cpu=8, memory_gi=64, gpu=2, taints=taint),
    ]
    fake.pods = [pod("student", "g1", cpu=1, memory_gi=4, gpu=2)]  # g1 has no GPU left
    decisions = run(fake, plan(gpu=2))
    assert (decisions["gpu"].free, decisions["gpu"].desired) == (1, 1)


def test_pods_are_read_only_for_eligible_nodes():
    fake = cluster(user_replicas=1)
    fake.deployments["placeholder-user"].pods = placeholder_pods("p", ["a"])
    fake.nodes = [
        node("a", labels={"pool": "user"}),
        node("b", labels={"pool": "user"}),
        node("c", labels={"pool": "user"}, ready=False),
    ]
    run(fake, plan(user=2))
    assert [c for c in fake.calls if c[0] == "list pods on node"] == [("list pods on node", "b")]


def test_unexpected_exception_is_contained(monkeypatch):
    fake = cluster()

    def broken(selector):
        raise RuntimeError("bug")

    monkeypatch.setattr(fake, "list_nodes", broken)
    decisions = run(fake, plan(user=1, gpu=1))
    assert decisions["user"].action == "error" and "RuntimeError" in decisions["user"].error


def test_log_line_shape():
    fake = cluster()
    decisions = run(fake, plan(user=3, events=[occurrence("Data 8 final", user=3)]))
    assert (
        decisions["user"]
        .log_line()
        .startswith(
            'pool=user target=3 free=0 desired=3 current=0 events="Data 8 final" pending=0 '
            "action=scaled"
        )
    )


def test_two_events_with_one_title_stay_apart_in_the_event_and_the_log(caplog):
    fake = cluster()
    early = occurrence("Lab", "lab-a@school", T0 - timedelta(minutes=30), user=2)
    late = occurrence("Lab", "lab-b@school", T0, user=2)
    with caplog.at_level(logging.INFO, logger="node_placeholder_scaler"):
        decisions = run(fake, plan(user=4, events=[early, late]))
    ((_, _, message),) = fake.events
    assert "Lab (courses/lab-a@school@2026-11-23T08:30Z)" in message
    assert "Lab (courses/lab-b@school@2026-11-23T09:00Z)" in message
    (record,) = [r for r in caplog.records if "pool=user" in r.getMessage()]
    assert (
        'event_ids="courses/lab-a@school@2026-11-23T08:30Z; courses/lab-b@school@2026-11-23T09:00Z"'
        in record.getMessage()
    )
    assert decisions["user"].occurrences == (early, late)
