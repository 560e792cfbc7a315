"""API JSON <-> our dataclasses. Pure functions, tested by comparing values and dicts.

Quantities are parsed with the client's own ``parse_quantity`` ("0.5", "1G", "512Mi", "1e9").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from ..clusterfacts import (
    DEFAULT_SCHEDULER,
    SINGLEUSER,
    USER_PLACEHOLDER,
    UserPlaceholders,
    z2jh_component,
)
from ..observed import Container, NodeInfo, Placeholders, PodInfo, Resources, Taint, Toleration
from ..observed import pod_requests as combine_requests

Json = Mapping[str, Any]
COMPONENT = "node-placeholder-scaler"
IGNORED = frozenset({"pods"})  # allocatable entries that are not resources a pod requests
MAX_MESSAGE = 1024


def quantity(value: object) -> Decimal:
    return Decimal(parse_quantity(value))  # type: ignore[no-untyped-call]


def resources(values: Json | None) -> Resources:
    """A resource list (requests or allocatable) -> Resources (cpu in millicores, rounded up)."""
    cpu = memory = 0
    extended: dict[str, int] = {}
    for name, raw in (values or {}).items():
        amount = quantity(raw)
        if name == "cpu":
            cpu = math.ceil(amount * 1000)
        elif name == "memory":
            memory = math.ceil(amount)
        elif name not in IGNORED:
            extended[name] = math.ceil(amount)
    return Resources(cpu, memory, dict(sorted(extended.items())))


def timestamp(text: str | None) -> datetime:
    if not text:
        return datetime.fromtimestamp(0, UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def node(body: Json) -> NodeInfo:
    metadata, spec, status = body.get("metadata", {}), body.get("spec", {}), body.get("status", {})
    conditions = status.get("conditions") or []
    ready_condition: Json = next((c for c in conditions if c.get("type") == "Ready"), {})
    ready = ready_condition.get("status") == "True"
    taints = tuple(
        Taint(t.get("key", ""), t.get("value") or "", t.get("effect", ""))
        for t in spec.get("taints") or []
    )
    return NodeInfo(
        name=metadata.get("name", ""),
        labels=dict(metadata.get("labels") or {}),
        allocatable=resources(status.get("allocatable")),
        ready=ready,
        unschedulable=bool(spec.get("unschedulable")),
        taints=taints,
        created=timestamp(metadata.get("creationTimestamp")),
        ready_since=timestamp(ready_condition.get("lastTransitionTime")) if ready else None,
    )


def pod_spec_requests(spec: Json) -> Resources:
    containers = [
        resources((c.get("resources") or {}).get("requests")) for c in _list(spec, "containers")
    ]
    inits = [
        Container(
            resources((c.get("resources") or {}).get("requests")),
            sidecar=c.get("restartPolicy") == "Always",
        )
        for c in _list(spec, "initContainers")
    ]
    return combine_requests(containers, inits, resources(spec.get("overhead")))


def pod(body: Json) -> PodInfo:
    metadata, spec, status = body.get("metadata", {}), body.get("spec", {}), body.get("status", {})
    owners = metadata.get("ownerReferences") or []
    owner = next((o.get("kind") for o in owners if o.get("controller")), None)
    return PodInfo(
        name=metadata.get("name", ""),
        namespace=metadata.get("namespace", ""),
        node=spec.get("nodeName") or None,
        phase=status.get("phase") or "Pending",
        requests=pod_spec_requests(spec),
        priority=int(spec.get("priority") or 0),
        owner_kind=owner,
        mirror="kubernetes.io/config.mirror" in (metadata.get("annotations") or {}),
        deleting=bool(metadata.get("deletionTimestamp")),
        created=timestamp(metadata.get("creationTimestamp")),
    )


def tolerations(spec: Json) -> tuple[Toleration, ...]:
    return tuple(
        Toleration(
            key=t.get("key") or "",
            operator=t.get("operator") or "Equal",
            value=t.get("value") or "",
            effect=t.get("effect") or "",
        )
        for t in _list(spec, "tolerations")
    )


def placeholders(deployment: Json, selector: str, pods: Iterable[PodInfo]) -> Placeholders:
    metadata, spec = deployment.get("metadata", {}), deployment.get("spec", {})
    template = (spec.get("template") or {}).get("spec") or {}
    replicas = spec.get("replicas")
    return Placeholders(
        namespace=metadata.get("namespace", ""),
        deployment=metadata.get("name", ""),
        uid=metadata.get("uid", ""),
        replicas=1 if replicas is None else int(replicas),
        selector=selector,
        requests=pod_spec_requests(template),
        tolerations=tolerations(template),
        pods=tuple(sorted(pods, key=lambda p: p.name)),
    )


def selector_text(selector: Json) -> str:
    """A LabelSelector (matchLabels, matchExpressions) as label-selector query text."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(expression.get("values") or [])
        if operator == "In":
            parts.append(f"{key} in ({values})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def pods_on_node_selector(node_name: str) -> str:
    return f"spec.nodeName={node_name},status.phase!=Succeeded,status.phase!=Failed"


def event(
    placeholders: Placeholders,
    reason: str,
    message: str,
    now: datetime,
    instance: str = COMPONENT,
) -> dict[str, Any]:
    """A core/v1 Event about the placeholder Deployment; ``instance``: the writing replica."""
    involved = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": placeholders.deployment,
        "namespace": placeholders.namespace,
        "uid": placeholders.uid,
    }
    return event_about(involved, reason, message, now, instance=instance)


def event_about(
    involved: Mapping[str, str],
    reason: str,
    message: str,
    now: datetime,
    *,
    warning: bool = False,
    instance: str = COMPONENT,
) -> dict[str, Any]:
    """A core/v1 Event about ``involved`` (apiVersion, kind, name, namespace, uid)."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{involved['name']}.", "namespace": involved["namespace"]},
        "involvedObject": {k: v for k, v in involved.items() if v},  # no uid: not known
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


def _list(spec: Json, key: str) -> list[Json]:
    return list(spec.get(key) or [])


def user_placeholders(body: Json) -> UserPlaceholders | None:
    """A StatefulSet payload -> zero-to-jupyterhub's user placeholders (None: not z2jh's)."""
    meta = body.get("metadata") or {}
    spec = body.get("spec") or {}
    template = spec.get("template") or {}
    labels = {
        **(meta.get("labels") or {}),
        **((template.get("metadata") or {}).get("labels") or {}),
    }
    if z2jh_component(labels) != USER_PLACEHOLDER:
        return None
    pod = template.get("spec") or {}
    return UserPlaceholders(
        f"{meta.get('namespace')}/{meta.get('name')}",
        int(spec.get("replicas") or 0),
        str(pod.get("schedulerName") or DEFAULT_SCHEDULER),
        pod.get("priorityClassName"),
    )


def user_pod_scheduler(body: Json) -> str | None:
    """The schedulerName of a zero-to-jupyterhub user's pod (None: not one)."""
    labels = (body.get("metadata") or {}).get("labels") or {}
    if z2jh_component(labels) != SINGLEUSER:
        return None
    return str((body.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER)
