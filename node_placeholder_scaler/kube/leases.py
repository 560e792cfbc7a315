"""The leader-election Lease (coordination.k8s.io/v1) as a port.LeaseStore.

Raw JSON like the rest of kube/: ``lease_record`` and ``lease_body`` are pure and tested on
Leases recorded from client-go's leader election (tests/test_kube_leases.py): the same fields
in the same formats, so either implementation reads what the other wrote. Requests are
bounded by a timeout shorter than the renew deadline and counted on their own meter (not in a
round's API usage). RBAC: leases create, and get/update of this Lease by name, in its
namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from ..port import LeaseConflict, LeaseRecord
from . import ApiUsage, KubeError, call

Json = Mapping[str, Any]


def micro_time(value: datetime | None) -> str | None:
    """A MicroTime: RFC 3339 in UTC with microseconds."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def lease_record(body: Json) -> LeaseRecord:
    spec = body.get("spec") or {}
    return LeaseRecord(
        holder=spec.get("holderIdentity") or None,
        lease_seconds=spec.get("leaseDurationSeconds"),
        acquired=parse_time(spec.get("acquireTime")),
        renewed=parse_time(spec.get("renewTime")),
        transitions=int(spec.get("leaseTransitions") or 0),
        version=str((body.get("metadata") or {}).get("resourceVersion") or ""),
    )


def lease_body(name: str, namespace: str, record: LeaseRecord) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if record.version:
        metadata["resourceVersion"] = record.version
    spec = {
        "holderIdentity": record.holder,
        "leaseDurationSeconds": record.lease_seconds,
        "acquireTime": micro_time(record.acquired),
        "renewTime": micro_time(record.renewed),
        "leaseTransitions": record.transitions,
    }
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {k: v for k, v in spec.items() if v is not None},
    }


class KubeLeases:
    """One Lease, read and written with optimistic concurrency (resourceVersion)."""

    def __init__(self, api_client: Any, namespace: str, name: str, *, timeout: float) -> None:
        self.api = client.CoordinationV1Api(api_client)
        self.namespace, self.name, self.timeout = namespace, name, timeout
        self.meter = ApiUsage()

    def describe(self) -> str:
        return f"{self.namespace}/{self.name}"

    def get(self) -> LeaseRecord | None:
        try:
            body = self._call("get", self.api.read_namespaced_lease, self.name, self.namespace)
        except KubeError as error:
            if error.status == 404:
                return None
            raise
        return lease_record(body)

    def create(self, record: LeaseRecord) -> LeaseRecord:
        body = lease_body(self.name, self.namespace, record)
        return lease_record(
            self._call("create", self.api.create_namespaced_lease, self.namespace, body)
        )

    def replace(self, record: LeaseRecord) -> LeaseRecord:
        body = lease_body(self.name, self.namespace, record)
        return lease_record(
            self._call("update", self.api.replace_namespaced_lease, self.name, self.namespace, body)
        )

    def _call(self, verb: str, method: Any, *args: Any) -> Any:
        action = f"{verb} lease {self.describe()}"
        try:
            return call(self.meter, self.timeout, action, method, *args)
        except KubeError as error:
            if error.status == 409:
                raise LeaseConflict(action, 409, error.reason) from None
            raise
