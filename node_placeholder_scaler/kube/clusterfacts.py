"""Read-only facts for ``validate --cluster`` (preflight/cluster.py judges them).

Takes the pools' plain reads (``clusterfacts.PoolReads``), returns what it read
(``clusterfacts.ClusterReading``); preflight/cluster.py detects the autoscaler and z2jh's
schedulers in it.

Reads, never writes: Deployments (all namespaces, for the autoscaler's), two well-known Leases and
CA's status ConfigMap in kube-system, Karpenter's NodePools, the pools' placeholder Deployments
and PriorityClasses or CapacityBuffers, the pods of the cluster (for preemptionPolicy
Never, and z2jh's users' schedulerName) and zero-to-jupyterhub's user-placeholder StatefulSets.
Lists are capped (``LIST_LIMIT``); a forbidden read is reported, not fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from kubernetes import client

from ..clusterfacts import (
    CA_LEASE,
    DEFAULT_SCHEDULER,
    KARPENTER_LEASE,
    PLACEHOLDER_SELECTOR,
    ClusterReading,
    InstanceType,
    NeverPreempts,
    PlaceholderFacts,
    PoolFacts,
    PoolReads,
    PoolsReading,
    Signs,
    UserPlaceholders,
    Workload,
)
from ..observed import ClusterError
from .objects import user_placeholders, user_pod_scheduler
from .poolfacts import gather_pools

if TYPE_CHECKING:
    from . import Kube

LIST_LIMIT = 5000
SYSTEM = "kube-system"
T = TypeVar("T")


class _Reader:
    """Calls through kube.Kube; 404 -> None, 403 -> noted as unreadable."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        api = kube.core.api_client
        self.coordination = client.CoordinationV1Api(api)
        self.scheduling = client.SchedulingV1Api(api)
        self.unreadable: list[str] = []

    def get(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return self.kube._call(what, method, *args, **kwargs)
        except ClusterError as error:
            if error.status == 404:
                return None
            if error.status in (401, 403):
                self.unreadable.append(what)
                return None
            raise


def gather(
    kube: Kube,
    pools: Sequence[PoolReads],
    namespace: str,
    instance_types: Sequence[InstanceType] = (),
) -> ClusterReading:
    """Everything preflight.judge needs; raises ClusterError only when the API is unusable."""
    reader = _Reader(kube)
    served = kube.buffer_api_served()
    workloads = _workloads(reader)
    nodepools = _nodepools(reader)
    signs = Signs(
        leases=tuple(
            n
            for n in (CA_LEASE, KARPENTER_LEASE)
            if reader.get(
                f"get lease {SYSTEM}/{n}", reader.coordination.read_namespaced_lease, n, SYSTEM
            )
        ),
        ca_status=reader.get(
            f"get configmap {SYSTEM}/cluster-autoscaler-status",
            kube.core.read_namespaced_config_map,
            "cluster-autoscaler-status",
            SYSTEM,
        )
        is not None,
        nodepools=len(nodepools or ()),
    )
    pool_check = gather_pools(
        reader.get,
        kube,
        pools,
        namespace,
        nodepools=nodepools,
        instance_types=instance_types,
        refused=reader.unreadable,
    )
    pool_check = _refused(pool_check, reader.unreadable)
    found = tuple(_pool(reader, pool, namespace, served) for pool in pools)
    pods = _pods(reader)
    placeholders = _user_placeholders(reader)
    return ClusterReading(
        namespace=namespace,
        buffer_api=served,
        workloads=tuple(workloads),
        signs=signs,
        pools=found,
        never_preempts=_never_preempts(pods, namespace),
        unreadable=tuple(reader.unreadable),
        pool_check=pool_check,
        user_pod_schedulers=tuple(sorted({n for pod in pods if (n := user_pod_scheduler(pod))})),
        user_placeholders=placeholders,
    )


def pool_reading(kube: Kube, pools: Sequence[PoolReads], namespace: str) -> PoolsReading:
    """The pool checks' reads alone (the running controller); refused reads are noted."""
    reader = _Reader(kube)
    reading = gather_pools(
        reader.get,
        kube,
        pools,
        namespace,
        nodepools=_nodepools(reader),
        refused=reader.unreadable,
    )
    return _refused(reading, reader.unreadable)


def _refused(reading: PoolsReading, refused: Sequence[str]) -> PoolsReading:
    return replace(reading, facts=replace(reading.facts, refused=tuple(refused)))


def _workloads(reader: _Reader) -> list[Workload]:
    body = reader.get(
        "list deployments", reader.kube.apps.list_deployment_for_all_namespaces, limit=LIST_LIMIT
    )
    found = []
    for item in (body or {}).get("items", []):
        meta = item.get("metadata", {})
        template = (item.get("spec") or {}).get("template") or {}
        labels = {
            **(meta.get("labels") or {}),
            **((template.get("metadata") or {}).get("labels") or {}),
        }
        containers = (template.get("spec") or {}).get("containers") or [{}]
        first = containers[0]
        found.append(
            Workload(
                name=f"{meta.get('namespace')}/{meta.get('name')}",
                labels=tuple(sorted(labels.items())),
                images=tuple(str(c.get("image") or "") for c in containers),
                args=tuple(
                    str(a) for a in [*(first.get("command") or []), *(first.get("args") or [])]
                ),
                env=tuple(
                    (str(e.get("name")), str(e.get("value") or "")) for e in first.get("env") or []
                ),
            )
        )
    return found


def _nodepools(reader: _Reader) -> list[Any] | None:
    """Karpenter's NodePools; None when the API is not served or the list is refused."""
    custom = reader.kube.custom
    if not reader.get("discover karpenter.sh/v1", custom.get_api_resources, "karpenter.sh", "v1"):
        return None
    body = reader.get(
        "list nodepools",
        custom.list_cluster_custom_object,
        "karpenter.sh",
        "v1",
        "nodepools",
        limit=100,
    )
    return None if body is None else list(body.get("items", []))


def _pool(reader: _Reader, pool: PoolReads, namespace: str, served: bool) -> PoolFacts:
    if pool.backend == "capacityBuffer":
        buffer = None
        if served:
            try:
                buffer = reader.kube.read_buffer(namespace, pool.buffer)
            except ClusterError as error:
                if error.status != 404:
                    raise
        return PoolFacts(pool.name, pool.backend, buffer_name=pool.buffer, buffer=buffer)
    refused = len(reader.unreadable)
    body = reader.get(
        f"get deployment {namespace}/{pool.deployment}",
        reader.kube.apps.read_namespaced_deployment,
        pool.deployment,
        namespace,
    )
    if body is None and len(reader.unreadable) > refused:  # not checked
        return PoolFacts(
            pool.name, pool.backend, PlaceholderFacts(pool.deployment, True, priority_read=False)
        )
    if body is None:
        return PoolFacts(pool.name, pool.backend, PlaceholderFacts(pool.deployment, False))
    template = (body.get("spec") or {}).get("template") or {}
    class_name = (template.get("spec") or {}).get("priorityClassName")
    value, refused = None, len(reader.unreadable)
    if class_name:
        pc = reader.get(
            f"get priorityclass {class_name}", reader.scheduling.read_priority_class, class_name
        )
        value = int(pc.get("value", 0)) if pc is not None else None
    annotations: Mapping[str, str] = (template.get("metadata") or {}).get("annotations") or {}
    return PoolFacts(
        pool.name,
        pool.backend,
        PlaceholderFacts(
            pool.deployment,
            True,
            class_name,
            value,
            tuple(sorted(annotations.items())),
            priority_read=len(reader.unreadable) == refused,
            scheduler_name=(template.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER,
        ),
    )


def _pods(reader: _Reader) -> list[Any]:
    """Running or pending pods of the cluster (capped)."""
    body = reader.get(
        "list pods",
        reader.kube.core.list_pod_for_all_namespaces,
        field_selector="status.phase!=Succeeded,status.phase!=Failed",
        limit=LIST_LIMIT,
    )
    return list((body or {}).get("items", []))


def _user_placeholders(reader: _Reader) -> tuple[UserPlaceholders, ...]:
    """zero-to-jupyterhub's user-placeholder StatefulSets, with their PriorityClass's value."""
    body = reader.get(
        "list statefulsets",
        reader.kube.apps.list_stateful_set_for_all_namespaces,
        label_selector=PLACEHOLDER_SELECTOR,
        limit=100,
    )
    found = [p for item in (body or {}).get("items", []) if (p := user_placeholders(item))]
    return tuple(_with_priority(reader, p) for p in found)


def _with_priority(reader: _Reader, p: UserPlaceholders) -> UserPlaceholders:
    if not p.priority_class:
        return replace(p, priority=0)
    pc = reader.get(
        f"get priorityclass {p.priority_class}",
        reader.scheduling.read_priority_class,
        p.priority_class,
    )
    return p if pc is None else replace(p, priority=int(pc.get("value", 0)))


def _never_preempts(pods: Sequence[Any], namespace: str) -> tuple[NeverPreempts, ...]:
    """Running or pending user pods (not kube-system, not ours) with preemptionPolicy Never."""
    found = []
    for item in pods:
        meta, spec = item.get("metadata", {}), item.get("spec", {})
        if spec.get("preemptionPolicy") != "Never" or meta.get("namespace") in (SYSTEM, namespace):
            continue
        found.append(
            NeverPreempts(
                f"{meta.get('namespace')}/{meta.get('name')}", spec.get("priorityClassName")
            )
        )
    return tuple(found)
