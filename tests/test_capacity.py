"""capacity.py: free node-equivalents and desired replicas, as DESIGN.md "Headroom" defines."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest

from node_placeholder_scaler import capacity
from node_placeholder_scaler.config.sections import HeadroomSettings
from node_placeholder_scaler.observed import (
    Container,
    Placeholders,
    Resources,
    Taint,
    Toleration,
    pod_requests,
)
from testkit.fakes import GI, T0, node, placeholder_pods, pod

USER_PLACEHOLDER = Resources(3500, 14 * GI)
GPU_PLACEHOLDER = Resources(7500, 60 * GI, {"nvidia.com/gpu": 2})
GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")


def placeholders(requests=USER_PLACEHOLDER, pods=(), tolerations=()) -> Placeholders:
    return Placeholders(
        "ns",
        "placeholder-user",
        "uid",
        len(pods),
        "app=p",
        requests,
        tuple(tolerations),
        tuple(pods),
    )


def room(nodes, pods=(), holders=None, **settings):
    holders = holders or placeholders()
    by_node = {n.name: [p for p in pods if p.node == n.name] for n in nodes}
    return capacity.headroom(nodes, by_node, holders, HeadroomSettings(**settings), T0)


def test_empty_nodes_each_count_one():
    assert room([node("a"), node("b")]).free == 2


def test_half_full_nodes_add_up():
    nodes = [node("a"), node("b"), node("c")]
    pods = [pod(f"u{n}", n, cpu=2, memory_gi=8) for n in "abc"]
    result = room(nodes, pods)
    assert [n.fraction for n in result.nodes] == [0.5, 0.5, 0.5]
    assert result.free == 1  # floor(1.5)


def test_threshold_drops_nearly_full_nodes_strictly():
    nodes = [node(n) for n in "abcde"]
    pods = [pod(f"u{n}", n, cpu=3.2, memory_gi=1) for n in "abcde"]  # f = 0.2 exactly
    assert room(nodes, pods).free == 0
    assert room(nodes, pods, threshold=0.1).free == 1


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("balanced", 0.25), ("cpu", 0.75), ("memory", 0.25)],
)
def test_strategies(strategy, expected):
    result = room([node("a")], [pod("u", "a", cpu=1, memory_gi=12)], strategy=strategy)
    assert result.nodes[0].fraction == expected


def test_gpu_counts_only_when_the_placeholder_requests_it():
    gpu_node = node("g", cpu=8, memory_gi=64, gpu=2, taints=[GPU_TAINT])
    used = [pod("u", "g", cpu=1, memory_gi=4, gpu=2)]
    tolerate = [Toleration("nvidia.com/gpu", "Exists", effect="NoSchedule")]
    gpu = room([gpu_node], used, placeholders(GPU_PLACEHOLDER, tolerations=tolerate))
    assert gpu.resources == ("cpu", "memory", "nvidia.com/gpu")
    assert gpu.free == 0
    cpu_only = room([gpu_node], used, placeholders(tolerations=tolerate))
    assert cpu_only.free == 0  # 0.875 is < 1 but counts as a fraction
    assert cpu_only.nodes[0].fraction == pytest.approx(0.875)


def test_node_without_the_resource_has_no_room():
    assert room([node("a")], holders=placeholders(GPU_PLACEHOLDER)).free == 0


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"ready": False}, "not-ready"),
        ({"unschedulable": True}, "cordoned"),
        ({"taints": [Taint("ToBeDeletedByClusterAutoscaler", "1", "NoSchedule")]}, "tainted"),
        ({"taints": [Taint("node.kubernetes.io/unreachable", "", "NoExecute")]}, "tainted"),
        ({"age": timedelta(minutes=5)}, "young"),
    ],
)
def test_ineligible_nodes(kwargs, reason):
    result = room([node("a", **kwargs), node("b")])
    assert result.nodes[0].excluded == reason
    assert result.free == 1


def test_prefer_no_schedule_and_tolerated_taints_do_not_exclude():
    taints = [Taint("soft", "", "PreferNoSchedule"), GPU_TAINT]
    holders = placeholders(tolerations=[Toleration("nvidia.com/gpu", "Equal", "present")])
    assert room([node("a", taints=taints)], holders=holders).free == 1


def test_grace_period_is_configurable():
    young = node("a", age=timedelta(minutes=5))
    assert room([young], node_grace_period=timedelta(minutes=1)).free == 1


def test_placeholder_hosting_node_is_not_headroom_and_placeholders_use_room():
    holders = placeholders(pods=placeholder_pods("placeholder-user", ["a"]))
    result = room([node("a"), node("b")], holders=holders)
    assert [n.excluded for n in result.nodes] == ["placeholder", None]
    assert result.free == 1


def test_terminated_pods_free_their_room():
    done = pod("done", "a", cpu=4, memory_gi=16, phase="Succeeded")
    assert room([node("a")], [done]).free == 1


def test_exact_sums_no_float_error():
    nodes = [node(f"n{i}") for i in range(10)]
    pods = [pod(f"u{i}", f"n{i}", cpu=3.6, memory_gi=1) for i in range(10)]  # 0.1 each
    assert room(nodes, pods, threshold=0.0).free == 1
    assert capacity.free_fraction(Resources(3, 3), Resources(1, 2), ["cpu"]) == Fraction(2, 3)


def test_candidates_skip_nodes_that_cannot_count():
    holders = placeholders(pods=placeholder_pods("p", ["a"]))
    nodes = [node("a"), node("b"), node("c", ready=False)]
    screened = capacity.screen(nodes, holders, HeadroomSettings(), T0)
    assert list(screened.candidates) == ["b"]
    assert screened.excluded == {"a": "placeholder", "c": "not-ready"}


def test_pending_counted():
    holders = placeholders(pods=placeholder_pods("p", ["a", None]))
    assert room([node("a")], holders=holders).pending == 1


@pytest.mark.parametrize(
    ("target", "free", "current", "pending", "desired"),
    [
        (3, 1, 0, 0, 2),
        (3, 5, 3, 0, 0),
        (0, 0, 4, 0, 0),
        (3, 1, 3, 1, 3),  # pending: headroom cannot reduce
        (3, 1, 1, 1, 2),  # pending: increases still happen
        (2, 0, 3, 1, 2),  # pending: a lower calendar target still reduces
        (0, 0, 3, 2, 0),  # event over
    ],
)
def test_desired_replicas(target, free, current, pending, desired):
    assert capacity.desired_replicas(target, free, current, pending) == desired


def test_pod_requests_rule():
    app = [Resources(100, 10), Resources(200, 20)]
    inits = [
        Container(Resources(500, 5)),
        Container(Resources(50, 50), sidecar=True),
        Container(Resources(100, 100)),
    ]
    # max(app 300m/30 + sidecar 50m/50, init 500m/5, init 100m/100 + sidecar) + overhead
    assert pod_requests(app, inits, Resources(10, 1)) == Resources(510, 151, {})
