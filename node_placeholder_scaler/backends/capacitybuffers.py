"""CapacityBuffers (``autoscaling.x-k8s.io/v1beta1``) as plain data: parse, summarise, word.

Pure: API JSON in, frozen dataclasses and texts out (kube/buffers.py does the calls).

A CapacityBuffer asks the autoscaler (Cluster Autoscaler, GKE, Karpenter) to keep free room for
``spec.replicas`` chunks shaped like its PodTemplate, using *virtual* pods that never reach etcd.
The autoscaler's status says whether that worked:

- ``ReadyForProvisioning``: the autoscaler resolved the buffer (its PodTemplate exists). False
  means the buffer does nothing: a per-pool error for us.
- ``Provisioning``: Karpenter: True/FitsExistingCapacity (all chunks fit on existing or launched
  capacity), False/RequiresNewCapacity (it is adding nodes), False/BufferEmpty (replicas 0).
- ``LimitedByQuotas``: Cluster Autoscaler: True when ResourceQuotas cut the chunks.

Condition reasons become a metric label, so only a known vocabulary is passed through; anything
else is ``Other`` (the full text is in the log line and Events).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

GROUP, VERSION = "autoscaling.x-k8s.io", "v1beta1"
PLURAL, KIND = "capacitybuffers", "CapacityBuffer"
API_VERSION = f"{GROUP}/{VERSION}"
NOT_SERVED = (
    f"the {KIND} CRD ({API_VERSION}) is not served by this cluster: install an "
    "autoscaler with CapacityBuffer support and its CRD, or use backend: placeholders"
)
ACTIVE_CAPACITY = "buffer.x-k8s.io/active-capacity"

READY, PROVISIONING, LIMITED = "ReadyForProvisioning", "Provisioning", "LimitedByQuotas"
CONDITIONS = (READY, PROVISIONING, LIMITED)
STATUSES = ("True", "False", "Unknown")
ConditionStatus = Literal["True", "False", "Unknown"]
KNOWN_REASONS = frozenset(
    {
        # Karpenter v1.15 (pkg/controllers/capacitybuffer, pkg/controllers/provisioning/buffers.go)
        "Resolved",
        "ScalableRefNotFound",
        "PodTemplateNotFound",
        "ResolutionFailed",
        "FitsExistingCapacity",
        "RequiresNewCapacity",
        "NotReadyForProvisioning",
        "BufferEmpty",
        # Cluster Autoscaler (capacitybuffer controller)
        "AttributesSetSuccessfully",
        "ResourceQuotasAllocated",
    }
)
OTHER_REASON, NO_REASON = "Other", "None"
MAX_MESSAGE = 300


class BufferFormatError(ValueError):
    """The object is not a CapacityBuffer we can read (wrong kind or field types)."""


@dataclass(frozen=True)
class Condition:
    type: str
    status: ConditionStatus
    reason: str
    message: str
    observed_generation: int | None = None


@dataclass(frozen=True)
class CapacityBuffer:
    """One CapacityBuffer as read from the API."""

    namespace: str
    name: str
    uid: str
    generation: int
    replicas: int | None  # spec.replicas (what we set)
    status_replicas: int | None  # status.replicas (the chunks the autoscaler works with)
    pod_template: str | None  # spec.podTemplateRef.name
    strategy: str | None  # spec.provisioningStrategy
    conditions: tuple[Condition, ...] = ()

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == kind), None)


def parse_buffer(body: Mapping[str, Any]) -> CapacityBuffer:
    """A CapacityBuffer from its API JSON; BufferFormatError for anything else."""
    if body.get("kind", KIND) != KIND:
        raise BufferFormatError(f"expected a {KIND}, got a {body.get('kind')!r}")
    metadata, spec, status = (_mapping(body, key) for key in ("metadata", "spec", "status"))
    template = _mapping(spec, "podTemplateRef")
    raw = status.get("conditions") or []
    if not isinstance(raw, list):
        raise BufferFormatError("status.conditions is not a list")
    return CapacityBuffer(
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        uid=str(metadata.get("uid") or ""),
        generation=_integer(metadata, "generation") or 0,
        replicas=_integer(spec, "replicas"),
        status_replicas=_integer(status, "replicas"),
        pod_template=str(template["name"]) if template.get("name") else None,
        strategy=str(spec["provisioningStrategy"]) if spec.get("provisioningStrategy") else None,
        conditions=tuple(_condition(c) for c in raw if isinstance(c, Mapping)),
    )


def _mapping(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BufferFormatError(f"{key} is not a mapping")
    return value


def _integer(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BufferFormatError(f"{key} is not a whole number: {value!r}")
    return value


def _condition(body: Mapping[str, Any]) -> Condition:
    status = body.get("status")
    generation = body.get("observedGeneration")
    return Condition(
        type=str(body.get("type") or ""),
        status=status if status in ("True", "False") else "Unknown",
        reason=str(body.get("reason") or ""),
        message=" ".join(str(body.get("message") or "").split())[:MAX_MESSAGE],
        observed_generation=generation if isinstance(generation, int) else None,
    )


def metric_reason(reason: str) -> str:
    """A condition reason as a bounded metric label value."""
    if not reason:
        return NO_REASON
    return reason if reason in KNOWN_REASONS else OTHER_REASON


@dataclass(frozen=True)
class BufferState:
    """What a round reports of a pool's CapacityBuffer: its conditions, summarised."""

    name: str
    status_replicas: int | None
    conditions: Mapping[str, tuple[ConditionStatus, str]]  # type -> (status, reason)
    problem: str | None  # why the buffer cannot warm anything; None when it can (or may yet)

    def status_of(self, kind: str) -> ConditionStatus:
        return self.conditions.get(kind, ("Unknown", ""))[0]

    def log_fields(self) -> str:
        """``buffer_replicas=3 ReadyForProvisioning=True/Resolved Provisioning=False/...``"""
        parts = [f"buffer_replicas={'-' if self.status_replicas is None else self.status_replicas}"]
        for kind in CONDITIONS:
            if kind in self.conditions:
                status, reason = self.conditions[kind]
                parts.append(f"{kind}={status}/{reason or '-'}")
        return " ".join(parts)


def buffer_state(buffer: CapacityBuffer) -> BufferState:
    """Summarise the conditions; ``problem`` is set when ReadyForProvisioning is False for the
    current generation (the autoscaler makes no virtual pods for it) or quotas cut it."""
    conditions = {c.type: (c.status, c.reason) for c in buffer.conditions if c.type in CONDITIONS}
    return BufferState(buffer.name, buffer.status_replicas, conditions, _problem(buffer))


def _problem(buffer: CapacityBuffer) -> str | None:
    where = f"CapacityBuffer {buffer.namespace}/{buffer.name}"
    if buffer.strategy not in (None, ACTIVE_CAPACITY):
        return f"{where} has provisioningStrategy {buffer.strategy!r}, not {ACTIVE_CAPACITY!r}"
    ready = buffer.condition(READY)
    if ready is not None and ready.status == "False":
        return (
            f"{where} is not ReadyForProvisioning ({ready.reason or 'no reason'}: "
            f"{ready.message or 'no message'}); the autoscaler keeps no room for it"
        )
    limited = buffer.condition(LIMITED)
    if limited is not None and limited.status == "True":
        return f"{where} is LimitedByQuotas: {limited.message or limited.reason}"
    return None


def buffer_message(
    pool: str,
    *,
    old: int | None,
    new: int,
    target: int,
    events: tuple[str, ...],
    state: BufferState,
) -> str:
    """The Kubernetes Event text of a replicas change on a pool's CapacityBuffer."""
    reason = "for: " + "; ".join(events) if events else "no active calendar event"
    return (
        f"Set CapacityBuffer replicas of pool {pool} from {'-' if old is None else old} to {new} "
        f"(calendar target {target}) {reason}; buffer status: {state.log_fields()}"
    )
