"""Headroom arithmetic on recorded API payloads (tests/fixtures/cluster, golden files).

The nodes and pods are what the test cluster's apiserver returned; they go through
kube/objects.py as in the controller. Expected fractions are worked out by hand from the
recorded quantities: allocatable 3900m CPU and 16374Mi memory per node; each student pod
requests its notebook plus a 100m/128Mi sidecar.
"""

from __future__ import annotations

import json
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from node_placeholder_scaler import capacity
from node_placeholder_scaler.config.sections import HeadroomSettings
from node_placeholder_scaler.kube import objects
from node_placeholder_scaler.observed import NodeInfo, Placeholders, PodInfo, Resources

RECORDED = Path(__file__).parent / "fixtures" / "cluster"
MI = 1024**2


def items(name: str) -> list[dict[str, Any]]:
    return list(json.loads((RECORDED / name).read_text())["items"])


NODES = [objects.node(body) for body in items("user-pool-nodes.json")]
PODS = [objects.pod(body) for body in items("student-pods.json")]
AFTER_BOOT = max(n.created for n in NODES) + timedelta(hours=1)
PLACEHOLDERS = Placeholders(
    "np", "placeholder-user", "uid", 0, "app=p", Resources(3500, 14 * 1024 * MI), ()
)


def node_of(pod: str) -> str:
    found = next(p.node for p in PODS if p.name == pod)
    assert found is not None
    return found


def room(strategy: str = "balanced", threshold: float = 0.2, now: Any = AFTER_BOOT) -> Any:
    by_node: dict[str, list[PodInfo]] = {n.name: [] for n in NODES}
    for pod in PODS:
        by_node[pod.node or ""].append(pod)
    settings = HeadroomSettings(strategy, threshold, timedelta(minutes=10))  # type: ignore[arg-type]
    return capacity.headroom(NODES, by_node, PLACEHOLDERS, settings, now)


def test_the_recorded_objects_read_as_the_controller_reads_them() -> None:
    assert len(NODES) == 3 and all(isinstance(n, NodeInfo) for n in NODES)
    for node in NODES:
        assert node.ready and not node.unschedulable and not node.taints
        disk = {"ephemeral-storage": 100 * 1024 * MI}
        assert node.allocatable == Resources(3900, 16374 * MI, disk)
        assert node.labels["hub.jupyter.org/pool-name"] == "user-pool"
    requests = {p.name: p.requests for p in PODS}
    assert requests == {  # notebook + sidecar
        "u-full": Resources(3600, 14464 * MI),
        "u-half": Resources(2100, 8320 * MI),
        "u-small": Resources(600, 2176 * MI),
    }
    assert {p.phase for p in PODS} == {"Running"}


def fractions(result: Any) -> dict[str, float]:
    by_node = {row.node: row.fraction for row in result.nodes}
    return {pod: by_node[node_of(pod)] for pod in ("u-full", "u-half", "u-small")}


def test_balanced_takes_the_scarcer_resource_and_drops_the_full_node() -> None:
    result = room()
    # CPU is the scarcer one on every node: 300/3900, 1800/3900, 3300/3900.
    assert fractions(result) == pytest.approx(
        {"u-full": 1 / 13, "u-half": 6 / 13, "u-small": 11 / 13}
    )
    assert [row.counted for row in result.nodes if row.node == node_of("u-full")] == [False]
    assert result.free == 1  # floor(6/13 + 11/13) = floor(1.31)


def test_memory_strategy_counts_memory_only() -> None:
    result = room("memory", threshold=0.1)
    # 1910/16374, 8054/16374, 14198/16374: the full node is above 0.1 now.
    expected = {
        "u-full": Fraction(1910, 16374),
        "u-half": Fraction(8054, 16374),
        "u-small": Fraction(14198, 16374),
    }
    assert fractions(result) == pytest.approx({k: float(v) for k, v in expected.items()})
    assert all(row.counted for row in result.nodes)
    assert result.free == 1  # floor(1.48)


def test_nodes_younger_than_the_grace_period_do_not_count() -> None:
    just_booted = max(n.created for n in NODES) + timedelta(minutes=5)
    result = room(now=just_booted)
    assert {row.excluded for row in result.nodes} == {"young"}
    assert result.free == 0
