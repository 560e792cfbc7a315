"""Why nothing scales: the classic pool misconfigurations, judged from read-only facts. Pure.

kube/poolfacts.py reads the facts (clusterfacts.py's records); this module finds, per pool:

- ``selector``: the pool's ``nodeSelector`` matches no node and no Karpenter NodePool template
  (labels, or a requirement ``In`` the value): no autoscaler adds a node the placeholders fit;
- ``too-big``: one placeholder requests more than any node of the pool has allocatable beside
  its DaemonSet and static pods (the autoscaler's "would not fit if a new node is added"), or,
  with no node up, more than every
  instance type its NodePools allow (the instance types' resources, from NodeClaims or an
  instance-type file);
- ``limit``: a NodePool's ``limits`` hold fewer nodes than the pool's ``maxReplicas``.

Reads the cluster refused are one ``not-checked`` finding naming the reads to grant (a
finding, not a failure). Every finding names the object and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..clusterfacts import NodePool, PoolCheckFacts, PoolShape, PoolsReading
from ..observed import Resources, total
from ..sizing import format_cpu, format_memory, node_bound
from .findings import Finding, Severity

CHECKS = ("selector", "too-big", "limit")  # a metric label: keep it small
GRANT = (
    "bind the chart's read-only ClusterRole (preflight.clusterRole: true), or grant these "
    "reads to the user or ServiceAccount that runs the checks"
)


@dataclass(frozen=True)
class PoolFinding:
    """A finding with the pool and check it is about (the controller's metric labels)."""

    pool: str
    check: str  # one of CHECKS
    finding: Finding


def pool_check(reading: PoolsReading) -> PoolCheckFacts:
    """The read facts with each node's ``reserved``: the requests of its DaemonSet and static
    pods (none where the pods could not be read)."""

    def reserved(node: str) -> Resources:
        pods = reading.node_pods.get(node, ())
        return total(p.requests for p in pods if node_bound(p) and not p.terminated)

    pools = tuple(
        replace(pool, nodes=tuple(replace(n, reserved=reserved(n.name)) for n in pool.nodes))
        for pool in reading.facts.pools
    )
    return replace(reading.facts, pools=pools)


def judge_pools(facts: PoolCheckFacts) -> list[PoolFinding]:
    found: list[PoolFinding] = []
    for pool in facts.pools:
        found += _pool_findings(facts, pool)
    return found


def not_checked(refused: Sequence[str]) -> list[Finding]:
    """One finding for every read the cluster refused."""
    if not refused:
        return []
    reads = "; ".join(dict.fromkeys(refused))
    return [Finding("not-checked", "cluster", f"not checked: the cluster refused {reads}", GRANT)]


def _pool_findings(facts: PoolCheckFacts, pool: PoolShape) -> list[PoolFinding]:
    if not pool.node_selector:
        return []
    nodepools = [n for n in facts.nodepools or () if n.matches(pool.node_selector)]
    if not pool.nodes and not nodepools:
        if {"list nodes", "list nodepools"} & set(facts.refused):
            return []  # not checked: the not-checked finding names the read
        return [PoolFinding(pool.pool, "selector", _selector_finding(facts, pool))]
    too_big = _too_big(facts, pool, nodepools)
    if too_big is not None:
        return [PoolFinding(pool.pool, "too-big", too_big)]
    return [
        PoolFinding(pool.pool, "limit", f)
        for n in nodepools
        if (f := _limit(facts, pool, n)) is not None
    ]


def _selector_finding(facts: PoolCheckFacts, pool: PoolShape) -> Finding:
    selector = ", ".join(f"{k}={v}" for k, v in sorted(pool.node_selector.items()))
    severity: Severity = "error"
    if facts.nodepools is None:
        where = "no node (a node group at zero nodes is not visible here: check its labels)"
        known, severity = "", "warning"
    else:
        where = "no node and no Karpenter NodePool template"
        labels = sorted({f"{k}={v}" for n in facts.nodepools for k, v in n.labels.items()})
        known = f" (NodePool template labels: {', '.join(labels[:8])})" if labels else ""
    return Finding(
        severity,
        f"pools.{pool.pool}.nodeSelector {{{selector}}}",
        f"matches {where}: no autoscaler adds a node the placeholders can run on",
        f"set pools.{pool.pool}.nodeSelector (and the chart's pool nodeSelector) to "
        f"labels the pool's nodes carry{known}",
    )


def _too_big(
    facts: PoolCheckFacts, pool: PoolShape, nodepools: Sequence[NodePool]
) -> Finding | None:
    if pool.requests is None:
        return None
    fix = (
        f"lower the placeholder requests of pool {pool.pool} (the chart's pools."
        f"{pool.pool}.resources): `node-placeholder-scaler size --pool {pool.pool}` prints "
        "requests that fit a node"
    )
    if pool.nodes:
        if any(_fits(pool.requests, n.room) for n in pool.nodes):
            return None
        biggest = max(pool.nodes, key=lambda n: (n.room.cpu_milli, n.room.memory))
        return Finding(
            "error",
            pool.subject,
            f"one placeholder requests {_show(pool.requests)}"
            f"; no node of the pool has that much allocatable beside its DaemonSet "
            f"and static pods (largest: node {biggest.name}, "
            f"{_show(biggest.room, pool.requests)}): it would not fit if a new node "
            "is added",
            fix,
        )
    types = [t for t in facts.instance_types if any(n.allows(t.name) for n in nodepools)]
    if not types or any(_fits(pool.requests, t.resources) for t in types):
        return None
    names = ", ".join(n.name for n in nodepools)
    shown = "; ".join(f"{t.name}: {_show(t.resources, pool.requests)}" for t in types[:5])
    return Finding(
        "error",
        pool.subject,
        f"one placeholder requests {_show(pool.requests)}; "
        f"no instance type NodePool {names} allows has that much ({shown}): "
        "Karpenter adds no node for it",
        fix,
    )


def _limit(facts: PoolCheckFacts, pool: PoolShape, nodepool: NodePool) -> Finding | None:
    if nodepool.limits is None:
        return None
    sizes = [
        t.resources
        for t in facts.instance_types
        if nodepool.allows(t.name) and (pool.requests is None or _fits(pool.requests, t.resources))
    ]
    if not sizes and pool.requests is not None:
        sizes = [pool.requests]  # the least a node must have: an upper bound of the nodes
    if not sizes:
        return None
    most, name = _most_nodes(nodepool.limits, sizes)
    if most is None or most >= pool.max_replicas:
        return None
    return Finding(
        "warning",
        f"NodePool {nodepool.name} (pool {pool.pool})",
        f"its limits ({name}: {_amount(name, nodepool.limits.get(name))}) hold at "
        f"most {most} node(s), fewer than pools.{pool.pool}.maxReplicas "
        f"{pool.max_replicas}: the rest of the placeholders stay Pending",
        f"raise the NodePool's spec.limits.{name} to at least "
        f"{_amount(name, pool.max_replicas * min(s.get(name) for s in sizes))}, or "
        f"lower pools.{pool.pool}.maxReplicas to {most}",
    )


def _most_nodes(limits: Resources, sizes: Sequence[Resources]) -> tuple[int | None, str]:
    """The most nodes of the smallest size the limits allow, and the limit that binds."""
    best: tuple[int | None, str] = (None, "")
    for name in _names(limits):
        per = min(s.get(name) for s in sizes)
        if per <= 0:
            continue
        count = limits.get(name) // per
        if best[0] is None or count < best[0]:
            best = (count, name)
    return best


def _names(amount: Resources) -> Iterable[str]:
    if amount.cpu_milli:
        yield "cpu"
    if amount.memory:
        yield "memory"
    yield from (name for name, value in amount.extended.items() if value)


def _fits(requests: Resources, room: Resources) -> bool:
    return all(room.get(name) >= requests.get(name) for name in _names(requests))


def _amount(name: str, value: int) -> str:
    if name == "cpu":
        return format_cpu(value)
    return format_memory(value) if name == "memory" else str(value)


def _show(amount: Resources, only: Resources | None = None) -> str:
    """``cpu=4, memory=16Gi``: the resources of ``only`` (default: all of ``amount``)."""
    names = _names(amount if only is None else only)
    return ", ".join(f"{name}={_amount(name, amount.get(name))}" for name in names)
