"""Read-only facts for preflight/pools.py: the pools' nodes and the pods on them (it counts
their DaemonSet and static pods), placeholder requests, Karpenter's NodePools and NodeClaims,
and instance types from a file (the kwok provider's format).

Reads: nodes (one list), the pods of the pools' nodes (the pod cache of ``run``, else one list
per node), each placeholder Deployment, NodePools and NodeClaims where the
``karpenter.sh/v1`` API is served. A refused read is noted by the caller's reader (a
``not-checked`` finding), never fatal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..clusterfacts import (
    INSTANCE_TYPE,
    InstanceType,
    NodePool,
    PoolCheckFacts,
    PoolNode,
    PoolReads,
    PoolShape,
    PoolsReading,
    Requirement,
)
from ..observed import ClusterError, PodInfo, Resources
from . import objects as kubejson

LIST_LIMIT = 5000
Get = Callable[..., Any]  # _Reader.get: (what, method, *args) -> body, or None (404/403)
Json = Mapping[str, Any]


class InstanceTypeError(Exception):
    """An instance-type file that cannot be read."""


def read_instance_types(path: str) -> tuple[InstanceType, ...]:
    """A JSON list of ``{"name": ..., "resources": {"cpu": "4", "memory": "16Gi", ...}}``
    (the format of Karpenter's kwok provider, ``INSTANCE_TYPES_FILE_PATH``)."""
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))
        return tuple(
            InstanceType(str(i["name"]), kubejson.resources(i.get("resources"))) for i in items
        )
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise InstanceTypeError(f"{path}: not an instance-type list ({error})") from None


def gather_pools(
    get: Get,
    kube: Any,
    pools: Sequence[PoolReads],
    namespace: str,
    *,
    nodepools: Sequence[Json] | None,
    instance_types: Sequence[InstanceType] = (),
    refused: list[str] | None = None,
) -> PoolsReading:
    """The reads of every pool; ``nodepools``: the listed NodePool objects (None: no API)."""
    body = get("list nodes", kube.core.list_node, limit=LIST_LIMIT)
    nodes = [kubejson.node(item) for item in (body or {}).get("items", [])]
    claims: list[InstanceType] = []
    if nodepools is not None:
        listed = get(
            "list nodeclaims",
            kube.custom.list_cluster_custom_object,
            "karpenter.sh",
            "v1",
            "nodeclaims",
            limit=LIST_LIMIT,
        )
        claims = [t for c in (listed or {}).get("items", []) if (t := _claim_type(c))]
    matched = {
        pool.name: [
            n for n in nodes if all(n.labels.get(k) == v for k, v in pool.node_selector.items())
        ]
        for pool in pools
        if pool.node_selector
    }
    node_pods = _node_pods(kube, sorted({n.name for ns in matched.values() for n in ns}), refused)
    shapes = []
    for pool in pools:
        requests = None
        subject = f"Deployment {namespace}/{pool.deployment} (pool {pool.name})"
        if pool.backend == "placeholders":
            deployment = get(
                f"get deployment {namespace}/{pool.deployment}",
                kube.apps.read_namespaced_deployment,
                pool.deployment,
                namespace,
            )
            if deployment is not None:
                spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
                requests = kubejson.pod_spec_requests(spec)
        else:
            subject = f"pool {pool.name} (backend capacityBuffer)"
        shapes.append(
            PoolShape(
                pool.name,
                subject,
                dict(pool.node_selector),
                requests,
                pool.max_replicas,
                tuple(PoolNode(n.name, n.allocatable) for n in matched.get(pool.name, ())),
            )
        )
    facts = PoolCheckFacts(
        pools=tuple(shapes),
        nodepools=None if nodepools is None else tuple(nodepool(n) for n in nodepools),
        instance_types=_merge(claims, instance_types),
    )
    return PoolsReading(facts, node_pods)


def _node_pods(
    kube: Any, nodes: Sequence[str], refused: list[str] | None
) -> dict[str, tuple[PodInfo, ...]]:
    """The pods of each node (a refused read: none)."""
    if not nodes:
        return {}
    try:
        pods = kube.pods_on_nodes(nodes)
    except ClusterError as error:
        if error.status not in (401, 403):
            raise
        if refused is not None:
            refused.append("list pods")
        return {}
    return {node: tuple(found) for node, found in pods.items()}


def nodepool(body: Json) -> NodePool:
    spec = body.get("spec") or {}
    template = spec.get("template") or {}
    requirements = tuple(
        Requirement(
            str(r.get("key", "")),
            str(r.get("operator", "")),
            tuple(str(v) for v in r.get("values") or ()),
        )
        for r in (template.get("spec") or {}).get("requirements") or []
    )
    limits = spec.get("limits")
    return NodePool(
        name=str((body.get("metadata") or {}).get("name", "")),
        labels=dict((template.get("metadata") or {}).get("labels") or {}),
        requirements=requirements,
        limits=kubejson.resources(limits) if limits else None,
    )


def _claim_type(body: Json) -> InstanceType | None:
    """A NodeClaim's instance type and its allocatable (what Karpenter computed for it)."""
    labels = (body.get("metadata") or {}).get("labels") or {}
    allocatable = (body.get("status") or {}).get("allocatable")
    name = labels.get(INSTANCE_TYPE)
    if not name or not allocatable:
        return None
    return InstanceType(str(name), kubejson.resources(allocatable))


def _merge(
    claims: Sequence[InstanceType], listed: Sequence[InstanceType]
) -> tuple[InstanceType, ...]:
    """One entry per instance type: a NodeClaim's allocatable wins over a file's capacity."""
    found: dict[str, Resources] = {t.name: t.resources for t in listed}
    found.update({t.name: t.resources for t in claims})
    return tuple(InstanceType(name, amount) for name, amount in sorted(found.items()))
