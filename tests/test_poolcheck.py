"""preflight/pools.py: why nothing scales, judged on the test cluster's own NodePools and instance
types (tests/cluster/manifests), as kube/poolfacts.py reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from node_placeholder_scaler.clusterfacts import NodePool, PoolCheckFacts, PoolNode, PoolShape
from node_placeholder_scaler.kube.objects import resources
from node_placeholder_scaler.kube.poolfacts import (
    InstanceTypeError,
    nodepool,
    read_instance_types,
)
from node_placeholder_scaler.preflight.findings import Finding
from node_placeholder_scaler.preflight.pools import judge_pools, not_checked

MANIFESTS = Path(__file__).parent / "cluster" / "manifests"
TYPES = read_instance_types(str(MANIFESTS / "karpenter-instance-types.json"))
USER_POOL = {"hub.jupyter.org/pool-name": "user-pool"}
FITS = resources({"cpu": "3500m", "memory": "14Gi"})


def nodepools(user_cpu: str = "40", gpu_cpu: str = "32") -> tuple[NodePool, ...]:
    text = (MANIFESTS / "karpenter-nodepools.yaml").read_text()
    text = text.replace("@USER_MAX_CPU@", user_cpu).replace("@GPU_MAX_CPU@", gpu_cpu)
    text = text.replace("@SCALE_DOWN_UNNEEDED@", "30s")
    return tuple(nodepool(d) for d in yaml.safe_load_all(text) if d["kind"] == "NodePool")


def shape(
    requests: Any = FITS,
    selector: dict[str, str] | None = None,
    maximum: int = 10,
    nodes: tuple[PoolNode, ...] = (),
) -> PoolShape:
    return PoolShape(
        "user",
        "Deployment nps/placeholder-user (pool user)",
        USER_POOL if selector is None else selector,
        requests,
        maximum,
        nodes,
    )


def findings(
    pool: PoolShape, pools: tuple[NodePool, ...] | None = None, types: Any = TYPES
) -> list[tuple[str, Finding]]:
    facts = PoolCheckFacts((pool,), nodepools() if pools is None else pools, types)
    return [(f.check, f.finding) for f in judge_pools(facts)]


def test_the_test_clusters_pools_are_read() -> None:
    user, gpu = nodepools()
    assert user.name == "user" and user.labels == USER_POOL
    assert user.limits == resources({"cpu": "40"})
    assert user.allows("user-4cpu-16gi") and not user.allows("gpu-8cpu-64gi-2gpu")
    assert [t.name for t in TYPES] == ["user-4cpu-16gi", "gpu-8cpu-64gi-2gpu"]
    assert gpu.matches({"node.kubernetes.io/instance-type": "gpu-8cpu-64gi-2gpu"})


def test_a_correct_pool_has_no_findings() -> None:
    assert findings(shape()) == []
    assert findings(shape(nodes=(PoolNode("n1", resources({"cpu": "4", "memory": "16Gi"})),))) == []
    assert findings(shape(selector={})) == []  # no selector: any node, nothing to check


def test_a_placeholder_too_big_for_every_instance_type() -> None:
    [(check, f)] = findings(shape(resources({"cpu": "6", "memory": "14Gi"})))
    assert check == "too-big" and f.severity == "error"
    assert f.subject == "Deployment nps/placeholder-user (pool user)"
    assert f.problem == (
        "one placeholder requests cpu=6, memory=14Gi; no instance type NodePool user allows "
        "has that much (user-4cpu-16gi: cpu=4, memory=16Gi): "
        "Karpenter adds no node for it"
    )
    assert "node-placeholder-scaler size --pool user" in f.fix


def test_a_placeholder_too_big_for_the_pools_nodes() -> None:
    nodes = (
        PoolNode("small", resources({"cpu": "2", "memory": "8Gi"})),
        PoolNode("big", resources({"cpu": "4", "memory": "13Gi"})),
    )
    [(check, f)] = findings(shape(nodes=nodes))
    assert check == "too-big"
    assert (
        "no node of the pool has that much allocatable beside its DaemonSet and static "
        "pods (largest: node big, cpu=4, memory=13Gi): it would not fit if a new node is "
        "added"
    ) in f.problem


def test_the_pods_every_node_runs_leave_less_room() -> None:
    """14Gi fits 16Gi allocatable, not beside a DaemonSet's 2.5Gi."""
    alloc = resources({"cpu": "4", "memory": "16Gi"})
    assert findings(shape(nodes=(PoolNode("n1", alloc, resources({"memory": "2Gi"})),))) == []
    [(check, f)] = findings(
        shape(nodes=(PoolNode("n1", alloc, resources({"cpu": "100m", "memory": "2560Mi"})),))
    )
    assert check == "too-big"
    assert "(largest: node n1, cpu=3900m, memory=13824Mi)" in f.problem


def test_without_instance_types_and_nodes_the_size_is_not_judged() -> None:
    found = findings(shape(resources({"cpu": "60"}), maximum=1), types=())
    assert "too-big" not in [check for check, _ in found]


@pytest.mark.parametrize(
    ("pools", "severity", "where"),
    [
        (None, "error", "matches no node and no Karpenter NodePool template"),
        ((), "error", "matches no node and no Karpenter NodePool template"),
    ],
)
def test_a_selector_that_matches_nothing(pools: Any, severity: str, where: str) -> None:
    [(check, f)] = findings(shape(selector={"pool": "usre"}), pools)
    assert check == "selector" and f.severity == severity
    assert f.subject == "pools.user.nodeSelector {pool=usre}"
    assert f.problem.startswith(where)
    assert "set pools.user.nodeSelector" in f.fix


def test_without_karpenter_a_selector_matching_no_node_is_a_warning() -> None:
    facts = PoolCheckFacts((shape(selector={"pool": "usre"}),), None, ())
    [found] = judge_pools(facts)
    assert found.finding.severity == "warning"
    assert "a node group at zero nodes is not visible here" in found.finding.problem


@pytest.mark.parametrize(
    ("cpu_limit", "types", "most"),
    [
        ("8", TYPES, 2),  # 8 CPUs of 4-CPU nodes
        ("8", (), 2),  # no instance type known: 8 / 3.5 (the placeholder) is at most 2
        ("39", TYPES, 9),
    ],
)
def test_a_nodepool_limit_below_max_replicas(cpu_limit: str, types: Any, most: int) -> None:
    [(check, f)] = findings(shape(maximum=10), nodepools(user_cpu=cpu_limit), types)
    assert check == "limit" and f.severity == "warning"
    assert f.subject == "NodePool user (pool user)"
    assert f.problem.startswith(
        f"its limits (cpu: {cpu_limit}) hold at most {most} node(s), "
        "fewer than pools.user.maxReplicas 10"
    )
    assert f"lower pools.user.maxReplicas to {most}" in f.fix


def test_a_limit_that_holds_max_replicas_is_fine() -> None:
    assert findings(shape(maximum=10), nodepools(user_cpu="40")) == []


def test_refused_reads_are_one_not_checked_finding() -> None:
    [f] = not_checked(["list nodes", "list nodepools", "list nodes"])
    assert f.severity == "not-checked"
    assert f.problem == "not checked: the cluster refused list nodes; list nodepools"
    assert "preflight.clusterRole: true" in f.fix
    assert not_checked([]) == []


def test_a_bad_instance_type_file(tmp_path: Path) -> None:
    bad = tmp_path / "types.json"
    bad.write_text('{"name": "x"}')
    with pytest.raises(InstanceTypeError, match="not an instance-type list"):
        read_instance_types(str(bad))


def test_a_refused_node_or_nodepool_list_leaves_the_selector_unjudged() -> None:
    for refused in (("list nodes",), ("list nodepools",)):
        facts = PoolCheckFacts((shape(selector={"pool": "usre"}),), None, (), refused)
        assert judge_pools(facts) == []
