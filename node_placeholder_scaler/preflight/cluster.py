"""``validate --cluster``: what would stop warming on this cluster. Pure: facts in, findings out.

kube/clusterfacts.py reads the facts (read-only; clusterfacts.py's records); this module
makes its ``ClusterFacts`` of them (``cluster_facts``) and judges them:

- per pool, does its backend's object exist (the placeholder Deployment, or the CapacityBuffer
  and a served CapacityBuffer CRD), and can the buffer warm anything (its status conditions);
- which autoscaler runs (Cluster Autoscaler, Karpenter, or unknown: autoscalers.py);
- is the placeholder PriorityClass right for it: below user pods (0) so they preempt the
  placeholders, and, with Cluster Autoscaler, not below its expendable cutoff (-10 unless
  ``--expendable-pods-priority-cutoff`` says otherwise), or CA ignores the pending placeholders;
  with Karpenter (no cutoff) placeholder pods should carry ``karpenter.sh/do-not-disrupt``, or
  consolidation may take a warm node away;
- user pods that run with ``preemptionPolicy: Never``: they never preempt a placeholder, so they
  wait for a new node even when a warm one is there;
- beside zero-to-jupyterhub: its static user placeholders, its user scheduler and their
  priority against ours (z2jh.py).

Every finding names the object and the fix. ``error`` findings would stop warming (exit 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..backends.capacitybuffers import API_VERSION, KIND, buffer_state
from ..clusterfacts import (
    ClusterReading,
    NeverPreempts,
    PlaceholderFacts,
    PoolCheckFacts,
    PoolFacts,
    Z2jhFacts,
)
from .autoscalers import AutoscalerSeen, detect
from .findings import Finding
from .pools import judge_pools, not_checked, pool_check
from .z2jh import OurPlaceholders, z2jh_facts
from .z2jh import judge as judge_z2jh

__all__ = ["ClusterFacts", "Finding", "cluster_facts", "judge"]

DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
CA_BUFFER_FLAGS = (
    "--capacity-buffer-controller-enabled",
    "--capacity-buffer-pod-injection-enabled",
)
MAX_LISTED = 5
DETECTION_READS = ("list deployments", "get lease", "get configmap", "list nodepools")


@dataclass(frozen=True)
class ClusterFacts:
    namespace: str
    buffer_api: bool
    autoscalers: tuple[AutoscalerSeen, ...]
    pools: tuple[PoolFacts, ...]
    never_preempts: tuple[NeverPreempts, ...] = ()
    unreadable: tuple[str, ...] = field(default=())  # what could not be read (e.g. forbidden)
    pool_check: PoolCheckFacts | None = None  # selectors, sizes and limits (preflight/pools.py)
    z2jh: Z2jhFacts = field(default_factory=Z2jhFacts)  # zero-to-jupyterhub (z2jh.py)


def cluster_facts(reading: ClusterReading) -> ClusterFacts:
    """What ``judge`` needs of what was read: the autoscalers detected, the pools' nodes'
    DaemonSet and static pods counted, z2jh's schedulers chosen."""
    return ClusterFacts(
        namespace=reading.namespace,
        buffer_api=reading.buffer_api,
        autoscalers=detect(reading.workloads, reading.signs),
        pools=reading.pools,
        never_preempts=reading.never_preempts,
        unreadable=reading.unreadable,
        pool_check=pool_check(reading.pool_check),
        z2jh=z2jh_facts(reading.workloads, reading.user_pod_schedulers, reading.user_placeholders),
    )


def judge(facts: ClusterFacts) -> list[Finding]:
    """Every finding, errors first."""
    found = _autoscaler_findings(facts)
    for pool in facts.pools:
        if pool.backend == "capacityBuffer":
            found += _buffer_findings(facts, pool)
        elif pool.placeholders is not None:  # read for every placeholder pool
            found += _placeholder_findings(facts, pool, pool.placeholders)
    found += _never_preempt_findings(facts)
    found += judge_z2jh(facts.z2jh, _ours(facts), any_pool=bool(facts.pools))
    if facts.pool_check is not None:
        found += [f.finding for f in judge_pools(facts.pool_check)]
    found += not_checked(facts.unreadable)
    order = ("error", "warning", "not-checked")
    return sorted(found, key=lambda f: order.index(f.severity))


def _ours(facts: ClusterFacts) -> list[OurPlaceholders]:
    """The pools' placeholder Deployments that exist and were read."""
    return [
        OurPlaceholders(
            pool.pool,
            f"{facts.namespace}/{ph.deployment}",
            ph.scheduler_name,
            ph.priority_class,
            ph.priority,
        )
        for pool in facts.pools
        if (ph := pool.placeholders) and ph.exists and ph.priority_read
    ]


def _autoscaler_findings(facts: ClusterFacts) -> list[Finding]:
    if not facts.autoscalers and any(r.startswith(DETECTION_READS) for r in facts.unreadable):
        return []  # not checked (the not-checked finding names the reads)
    if not facts.autoscalers:
        return [
            Finding(
                "warning",
                "cluster",
                "no autoscaler found (no Cluster Autoscaler or Karpenter "
                "Deployment, Lease, cluster-autoscaler-status ConfigMap or NodePool)",
                "warm nodes need a node autoscaler: install Cluster Autoscaler or Karpenter (a "
                "managed one outside the cluster cannot be seen here; then ignore this)",
            )
        ]
    if len(facts.autoscalers) > 1:
        return [
            Finding(
                "warning",
                "cluster",
                "both Cluster Autoscaler and Karpenter seem to run: "
                + "; ".join(e for a in facts.autoscalers for e in a.evidence),
                "run one node autoscaler per node pool",
            )
        ]
    return []


def _placeholder_findings(
    facts: ClusterFacts, pool: PoolFacts, ph: PlaceholderFacts
) -> list[Finding]:
    subject = f"Deployment {facts.namespace}/{ph.deployment} (pool {pool.pool})"
    if not ph.exists:
        return [
            Finding(
                "error",
                subject,
                "not found: the pool has no placeholders",
                f"install the chart with pools.{pool.pool}, or set "
                f"pools.{pool.pool}.deployment to the placeholder Deployment's name",
            )
        ]
    if not ph.priority_read:
        return []  # not checked (the not-checked finding names the read)
    if ph.priority_class is None:
        return [
            Finding(
                "error",
                subject,
                "its pods have no priorityClassName (priority 0): user pods cannot preempt them",
                "give the placeholders the chart's "
                "PriorityClass (priorityClass.create: true, value -10)",
            )
        ]
    if ph.priority is None:
        return [
            Finding(
                "error",
                subject,
                f"PriorityClass {ph.priority_class} not found: the "
                "placeholder pods cannot be created",
                f"create PriorityClass {ph.priority_class} (priorityClass.create: true)",
            )
        ]
    found: list[Finding] = []
    pc = f"PriorityClass {ph.priority_class} (value {ph.priority}, pool {pool.pool})"
    if ph.priority >= 0:
        found.append(
            Finding(
                "error",
                pc,
                "not below user pods (0): users cannot preempt the placeholders",
                "set priorityClass.value below 0, e.g. -10",
            )
        )
    for scaler in facts.autoscalers:
        found += _for_autoscaler(scaler, pc, ph, pool.pool)
    return found


def _for_autoscaler(
    scaler: AutoscalerSeen, pc: str, ph: PlaceholderFacts, pool: str
) -> list[Finding]:
    if scaler.kind == "cluster-autoscaler":
        cutoff = scaler.cutoff()
        if ph.priority is not None and ph.priority < cutoff:
            return [
                Finding(
                    "error",
                    pc,
                    f"below Cluster Autoscaler's expendable cutoff "
                    f"({cutoff}): it ignores pending placeholders and adds no node",
                    f"set priorityClass.value >= {cutoff} (or lower CA's "
                    "--expendable-pods-priority-cutoff)",
                )
            ]
        return []
    if dict(ph.annotations).get(DO_NOT_DISRUPT) != "true":
        return [
            Finding(
                "warning",
                f"Deployment {ph.deployment} (pool {pool})",
                f'placeholder pods lack the annotation {DO_NOT_DISRUPT}: "true"; '
                "Karpenter may consolidate a warm node and boot a cold one later",
                f'set pools.{pool}.podAnnotations: {{{DO_NOT_DISRUPT}: "true"}}',
            )
        ]
    return []


def _buffer_findings(facts: ClusterFacts, pool: PoolFacts) -> list[Finding]:
    subject = f"{KIND} {facts.namespace}/{pool.buffer_name} (pool {pool.pool})"
    if not facts.buffer_api:
        return [
            Finding(
                "error",
                f"CRD capacitybuffers.{API_VERSION.split('/')[0]}",
                f"{API_VERSION} is not served: pool {pool.pool} (backend "
                "capacityBuffer) cannot warm anything",
                "install the CapacityBuffer CRD that comes with your autoscaler "
                "(Karpenter >= 1.14 ships it in its chart's crds/), or use backend: "
                "placeholders",
            )
        ]
    if pool.buffer is None:
        return [
            Finding(
                "error",
                subject,
                "not found",
                f"install the chart with "
                f"pools.{pool.pool}.backend: capacityBuffer, or set "
                f"pools.{pool.pool}.buffer to its name",
            )
        ]
    found = []
    problem = buffer_state(pool.buffer).problem
    if problem:
        found.append(
            Finding(
                "error",
                subject,
                problem,
                "fix what the condition says (e.g. create its PodTemplate)",
            )
        )
    elif not pool.buffer.conditions:
        found.append(
            Finding(
                "error",
                subject,
                "no status conditions: no autoscaler works on it",
                _enable_buffers(facts.autoscalers),
            )
        )
    for scaler in facts.autoscalers:
        found += _buffer_support(scaler, subject)
    return found


def _enable_buffers(scalers: Sequence[AutoscalerSeen]) -> str:
    kinds = {s.kind for s in scalers}
    if kinds == {"karpenter"}:
        return "turn on Karpenter's feature gate: FEATURE_GATES=CapacityBuffer=true"
    if kinds == {"cluster-autoscaler"}:
        return "start Cluster Autoscaler with " + " and ".join(CA_BUFFER_FLAGS)
    return (
        "turn on CapacityBuffer support: Karpenter FEATURE_GATES=CapacityBuffer=true, or "
        "Cluster Autoscaler " + " and ".join(CA_BUFFER_FLAGS)
    )


def _buffer_support(scaler: AutoscalerSeen, subject: str) -> list[Finding]:
    """An autoscaler whose own Deployment was found but has buffer support off."""
    enabled = all(scaler.flag(f) == "true" or f in scaler.args for f in CA_BUFFER_FLAGS)
    if scaler.kind == "cluster-autoscaler" and scaler.args and not enabled:
        return [
            Finding(
                "error",
                subject,
                "Cluster Autoscaler runs without CapacityBuffer support",
                _enable_buffers([scaler]),
            )
        ]
    if scaler.kind == "karpenter" and scaler.env:
        gates = dict(scaler.env).get("FEATURE_GATES", "")
        if "CapacityBuffer=true" not in gates.replace(" ", ""):
            return [
                Finding(
                    "error",
                    subject,
                    "Karpenter runs without its CapacityBuffer gate",
                    _enable_buffers([scaler]),
                )
            ]
    return []


def _never_preempt_findings(facts: ClusterFacts) -> list[Finding]:
    if not facts.never_preempts or all(p.backend == "capacityBuffer" for p in facts.pools):
        return []
    pods = facts.never_preempts
    classes = sorted({p.priority_class or "(none)" for p in pods})
    listed = ", ".join(p.pod for p in pods[:MAX_LISTED])
    more = f" and {len(pods) - MAX_LISTED} more" if len(pods) > MAX_LISTED else ""
    return [
        Finding(
            "warning",
            f"pods {listed}{more}",
            f"run with preemptionPolicy: Never (PriorityClass {', '.join(classes)}): they never "
            "preempt a placeholder and wait for a new node even when a warm one is there",
            "give user pods a PriorityClass with preemptionPolicy: PreemptLowerPriority, or use "
            "backend: capacityBuffer (no placeholder pods to preempt)",
        )
    ]
