"""Free node-equivalents of a pool (its headroom) and the replicas it leaves to ask for.

Pure: nodes, pods and settings in, numbers out; ``now`` is an argument.

The rule (stated exactly in docs/concepts/headroom.md):

* f(node) = the node's free fraction for the strategy's resources, where free = allocatable -
  the requests of every non-terminated pod bound to it (placeholders included, so reserved room
  is never counted twice). ``balanced``: the smallest fraction over cpu, memory and every
  extended resource (a domain-qualified name such as ``nvidia.com/gpu``) that the pool's
  placeholder pod requests; ``cpu``: cpu only; ``memory``: memory only. A node that has none of
  a counted resource has f = 0.
* Eligible nodes: Ready; not cordoned; no NoSchedule/NoExecute taint that the placeholder pod
  template does not tolerate (so a node being removed by the autoscaler or still booting does not
  count); hosting no placeholder pod of the pool; created at least ``nodeGracePeriod`` ago.
* headroom = floor(sum of f over eligible nodes with f > threshold).
* desired = max(0, target - headroom); but while a placeholder pod of the pool is Pending
  (unscheduled), headroom may not push desired below the current replicas: desired =
  max(target - headroom, min(current, target)). A lower calendar target still scales down.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from .config.sections import HeadroomSettings, Strategy
from .observed import NodeInfo, Placeholders, PodInfo, Resources, Toleration, total

BLOCKING_EFFECTS = frozenset({"NoSchedule", "NoExecute"})


@dataclass(frozen=True)
class NodeHeadroom:
    """One pool node: why it does not count, or its free fraction."""

    node: str
    excluded: str | None  # not-ready, cordoned, tainted, placeholder, young; None: eligible
    fraction: float = 0.0  # free fraction for the strategy (eligible nodes only)
    counted: bool = False  # eligible and fraction > threshold


@dataclass(frozen=True)
class Headroom:
    free: int  # free node-equivalents
    nodes: tuple[NodeHeadroom, ...]
    pending: int  # placeholder pods of the pool waiting for a node
    resources: tuple[str, ...]  # the resources the strategy compared

    @property
    def eligible(self) -> int:
        return sum(1 for n in self.nodes if n.excluded is None)


def counted_resources(strategy: Strategy, placeholder: Resources) -> tuple[str, ...]:
    """The resources whose free fraction a strategy compares."""
    if strategy == "cpu":
        return ("cpu",)
    if strategy == "memory":
        return ("memory",)
    extended = sorted(n for n, v in placeholder.extended.items() if "/" in n and v > 0)
    return ("cpu", "memory", *extended)


def exclusion(
    node: NodeInfo,
    now: datetime,
    settings: HeadroomSettings,
    tolerations: Sequence[Toleration],
    placeholder_nodes: frozenset[str],
) -> str | None:
    """Why a node is not headroom, or None when it may be (its pods decide the rest)."""
    if not node.ready:
        return "not-ready"
    if node.unschedulable:
        return "cordoned"
    for taint in node.taints:
        if taint.effect in BLOCKING_EFFECTS and not any(t.tolerates(taint) for t in tolerations):
            return "tainted"
    if node.name in placeholder_nodes:
        return "placeholder"
    if now - node.created < settings.node_grace_period:
        return "young"
    return None


def free_fraction(allocatable: Resources, used: Resources, resources: Iterable[str]) -> Fraction:
    """The smallest free fraction over ``resources`` (0 when the node has none of one)."""
    fractions = []
    for name in resources:
        capacity = allocatable.get(name)
        if capacity <= 0:
            return Fraction(0)
        fractions.append(Fraction(max(0, capacity - used.get(name)), capacity))
    return min(fractions, default=Fraction(0))


@dataclass(frozen=True)
class Screen:
    """Which pool nodes may count as headroom, decided from the nodes alone (before any pod
    is read); computed once per pool and round."""

    excluded: Mapping[str, str]  # node name -> why it does not count
    candidates: tuple[str, ...]  # the other nodes, sorted: only their pods need reading


def screen(
    nodes: Sequence[NodeInfo], placeholders: Placeholders, settings: HeadroomSettings, now: datetime
) -> Screen:
    hosting = frozenset(p.node for p in placeholders.pods if p.node and not p.terminated)
    reasons = {
        n.name: exclusion(n, now, settings, placeholders.tolerations, hosting) for n in nodes
    }
    excluded = {name: why for name, why in reasons.items() if why is not None}
    return Screen(excluded, tuple(sorted(name for name in reasons if name not in excluded)))


def headroom(
    nodes: Sequence[NodeInfo],
    pods_by_node: Mapping[str, Sequence[PodInfo]],
    placeholders: Placeholders,
    settings: HeadroomSettings,
    now: datetime,
    *,
    screened: Screen | None = None,
) -> Headroom:
    """Free node-equivalents of a pool. ``pods_by_node`` needs only the candidate nodes;
    ``screened``: the pool's Screen when the caller already has it."""
    if screened is None:
        screened = screen(nodes, placeholders, settings, now)
    resources = counted_resources(settings.strategy, placeholders.requests)
    threshold = Fraction(str(settings.threshold))
    rows: list[NodeHeadroom] = []
    counted: list[Fraction] = []
    for node in sorted(nodes, key=lambda n: n.name):
        reason = screened.excluded.get(node.name)
        if reason is not None:
            rows.append(NodeHeadroom(node.name, reason))
            continue
        pods = pods_by_node.get(node.name, ())
        used = total(p.requests for p in pods if not p.terminated)
        fraction = free_fraction(node.allocatable, used, resources)
        if fraction > threshold:
            counted.append(fraction)
        rows.append(NodeHeadroom(node.name, None, float(fraction), fraction > threshold))
    free = math.floor(sum(counted, Fraction(0)))
    return Headroom(free, tuple(rows), placeholders.pending, resources)


def desired_replicas(target: int, free: int, current: int, pending: int) -> int:
    """Replicas to ask for: max(0, target - free), held at current while placeholders pend."""
    desired = max(0, target - free)
    if pending > 0:
        desired = max(desired, min(current, target))
    return desired
