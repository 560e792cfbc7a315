"""The Kubernetes object an Event is about (kind, apiVersion, name; the namespace is the
controller's)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subject:
    api_version: str
    kind: str
    name: str

    def involved(self, namespace: str, uid: str = "") -> dict[str, str]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "namespace": namespace,
            "uid": uid,
        }
