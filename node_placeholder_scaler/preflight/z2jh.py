"""``validate --cluster`` beside zero-to-jupyterhub (z2jh). Pure: facts in, findings out
(kube/clusterfacts.py reads, preflight/cluster.py calls ``z2jh_facts`` and ``judge``).

A z2jh release shows itself by its user scheduler's Deployment (labels ``component:
user-scheduler``, ``app: jupyterhub``), its ``user-placeholder`` StatefulSet (``component:
user-placeholder``) and its users' pods (``component: singleuser-server``). What this module
says to change:

- both kinds of placeholders active: z2jh's static user placeholders (replicas > 0) hold room
  all day beside the calendar's; the pool's headroom counts their room as used;
- our placeholders placed by another scheduler than the one z2jh's users use: two schedulers
  each with its own view of the same nodes (one packs, one spreads);
- our placeholders' priority not below z2jh's user placeholders: a student may preempt z2jh's
  user-sized placeholder instead of ours (at equal priority the scheduler picks either);
  z2jh's placeholders at priority 0 (``scheduling.podPriority.enabled: false``) cannot be
  preempted by students at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..clusterfacts import (
    USER_SCHEDULER,
    UserPlaceholders,
    Workload,
    Z2jhFacts,
    z2jh_component,
)
from .findings import Finding


@dataclass(frozen=True)
class OurPlaceholders:
    """One pool's placeholder Deployment, as the z2jh checks need it."""

    pool: str
    deployment: str  # namespace/name
    scheduler_name: str
    priority_class: str | None
    priority: int | None


def is_user_scheduler(labels: Mapping[str, str]) -> bool:
    return z2jh_component(labels) == USER_SCHEDULER


def user_scheduler_name(labels: Mapping[str, str]) -> str | None:
    """The schedulerName a user-scheduler Deployment serves by z2jh's naming
    (``<release>-user-scheduler``), when its release label says."""
    release = labels.get("release") or labels.get("app.kubernetes.io/instance")
    return f"{release}-{USER_SCHEDULER}" if release else None


def z2jh_facts(
    workloads: Sequence[Workload],
    pod_schedulers: Sequence[str],
    placeholders: Sequence[UserPlaceholders],
) -> Z2jhFacts:
    """A zero-to-jupyterhub release's user schedulers, user placeholders and the schedulers its
    users are placed by: those its users' pods name, else its user placeholders' (z2jh gives
    them the users' scheduler), else z2jh's naming of a user-scheduler Deployment."""
    schedulers = [w for w in workloads if is_user_scheduler(dict(w.labels))]
    names = (
        set(pod_schedulers)
        or {p.scheduler_name for p in placeholders}
        or {name for w in schedulers if (name := user_scheduler_name(dict(w.labels)))}
    )
    return Z2jhFacts(tuple(w.name for w in schedulers), tuple(sorted(names)), tuple(placeholders))


def judge(z2jh: Z2jhFacts, ours: Sequence[OurPlaceholders], *, any_pool: bool) -> list[Finding]:
    """The findings of a cluster with z2jh (none without); ``any_pool``: this install warms
    at least one pool (placeholders or CapacityBuffer)."""
    if not z2jh.found:
        return []
    active = [p for p in z2jh.placeholders if p.replicas > 0]
    found = [_both_active(p) for p in active if any_pool]
    found += [_unpreemptable(p) for p in active if p.priority is not None and p.priority >= 0]
    for pool in ours:
        found += _scheduler(pool, z2jh)
        found += [_priority(pool, p) for p in active if _not_below(pool, p)]
    return found


def _both_active(p: UserPlaceholders) -> Finding:
    return Finding(
        "warning",
        f"StatefulSet {p.name} (z2jh)",
        f"z2jh's static user placeholders ({p.replicas}) run beside the calendar's: they hold "
        "room all day, and the pools' headroom counts it as used",
        "set scheduling.userPlaceholder.replicas: 0 in z2jh's values (pools.<pool>.minReplicas "
        "keeps warm nodes outside events); to keep both, give z2jh's a priority above ours",
    )


def _unpreemptable(p: UserPlaceholders) -> Finding:
    return Finding(
        "warning",
        f"StatefulSet {p.name} (z2jh)",
        f"its pods run at priority {p.priority} (PriorityClass {p.priority_class or '(none)'}),"
        " not below students: no student can preempt them",
        "set scheduling.podPriority.enabled: true in z2jh's values (user placeholders at -10)",
    )


def _scheduler(pool: OurPlaceholders, z2jh: Z2jhFacts) -> list[Finding]:
    names = sorted(set(z2jh.scheduler_names))
    if not names or pool.scheduler_name in names:
        return []
    return [
        Finding(
            "warning",
            f"Deployment {pool.deployment} (pool {pool.pool})",
            f"its pods are placed by {pool.scheduler_name}, z2jh's users by {', '.join(names)}: "
            "two schedulers with separate views of the same nodes (z2jh's packs, the default "
            "spreads), so students may not land where the placeholders held room",
            f"set pools.{pool.pool}.schedulerName: {names[0]}",
        )
    ]


def _not_below(pool: OurPlaceholders, p: UserPlaceholders) -> bool:
    return pool.priority is not None and p.priority is not None and pool.priority >= p.priority


def _priority(pool: OurPlaceholders, p: UserPlaceholders) -> Finding:
    return Finding(
        "warning",
        f"PriorityClass {pool.priority_class} (value {pool.priority}, pool {pool.pool})",
        f"not below z2jh's user placeholders {p.name} (value {p.priority}): a student may "
        "preempt theirs (one user's room) instead of ours (a node's)",
        "turn z2jh's user placeholders off (scheduling.userPlaceholder.replicas: 0), or set "
        f"its scheduling.podPriority.userPlaceholderPriority above {pool.priority} (e.g. "
        f"{(pool.priority or 0) + 1}, below its image puller's -5)",
    )
