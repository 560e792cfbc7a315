"""Which autoscaler runs, from what the cluster shows (``validate --cluster``). Pure.

Cluster Autoscaler or Karpenter, from well-known names, labels and images of Deployments,
leader-election Leases, CA's status ConfigMap and Karpenter's NodePools; with the args and
env of its own Deployment when it is found (its flags: CA's expendable cutoff, its
CapacityBuffer support; Karpenter's feature gates). preflight/cluster.py judges with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..clusterfacts import CA_LEASE, KARPENTER_LEASE, Signs, Workload

Autoscaler = Literal["cluster-autoscaler", "karpenter"]
DEFAULT_CUTOFF = -10


@dataclass(frozen=True)
class AutoscalerSeen:
    """Evidence of one autoscaler, and what its own configuration says (when it is readable)."""

    kind: Autoscaler
    evidence: tuple[str, ...]
    args: tuple[str, ...] = ()  # command and args of its Deployment's container, if found
    env: tuple[tuple[str, str], ...] = ()  # its container's env, if found

    def flag(self, name: str) -> str | None:
        """The value of ``--name=value`` (or ``--name value``) among the args."""
        for i, arg in enumerate(self.args):
            if arg == name and i + 1 < len(self.args):
                return self.args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
        return None

    def cutoff(self) -> int:
        value = self.flag("--expendable-pods-priority-cutoff")
        try:
            return int(value) if value is not None else DEFAULT_CUTOFF
        except ValueError:
            return DEFAULT_CUTOFF


CA_NAMES, KARPENTER_NAMES = ("cluster-autoscaler",), ("karpenter",)
NAME_LABELS = ("app.kubernetes.io/name", "app", "k8s-app")


def detect(workloads: Sequence[Workload], signs: Signs) -> tuple[AutoscalerSeen, ...]:
    """The autoscalers the cluster shows signs of."""
    found: list[AutoscalerSeen] = []
    for kind, names, lease in (
        ("cluster-autoscaler", CA_NAMES, CA_LEASE),
        ("karpenter", KARPENTER_NAMES, KARPENTER_LEASE),
    ):
        evidence: list[str] = []
        own = [w for w in workloads if _is(w, names)]
        evidence += [f"Deployment {w.name}" for w in own]
        if lease in signs.leases:
            evidence.append(f"Lease kube-system/{lease}")
        if kind == "cluster-autoscaler" and signs.ca_status:
            evidence.append("ConfigMap kube-system/cluster-autoscaler-status")
        if kind == "karpenter" and signs.nodepools:
            evidence.append(f"{signs.nodepools} Karpenter NodePool(s)")
        if evidence:
            first = own[0] if own else None
            found.append(
                AutoscalerSeen(
                    kind,  # type: ignore[arg-type]
                    tuple(evidence),
                    args=first.args if first else (),
                    env=first.env if first else (),
                )
            )
    return tuple(found)


def _is(workload: Workload, names: tuple[str, ...]) -> bool:
    labels = dict(workload.labels)
    if any(labels.get(key) in names for key in NAME_LABELS):
        return True
    repositories = [image.rsplit("@", 1)[0].rsplit(":", 1)[0] for image in workload.images]
    return any(part in names for repo in repositories for part in repo.split("/"))
