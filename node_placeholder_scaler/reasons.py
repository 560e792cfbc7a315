"""Every reason of the Kubernetes Events the controller writes: one list.

Data. The modules that write an Event take its reason from here (decisions, outages, backends,
reporting), and the reference page docs/reference/events.md is generated from ``REASONS``
(``python -m testkit.docs_reference --write``). A new Event reason is a row here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Reason:
    """One Event reason: its type, the object it is written on and when it is written."""

    name: str
    type: Literal["Normal", "Warning"]
    on: str
    when: str


PLACEHOLDERS_SCALED = Reason(
    "PlaceholdersScaled",
    "Normal",
    "the pool's placeholder Deployment",
    "the controller changed the placeholders' replicas; the message names the calendar target, "
    "the free node-equivalents and the events (title and calendar/UID@start)",
)
WOULD_SCALE = Reason(
    "WouldScale",
    "Normal",
    "the pool's placeholder Deployment",
    "run --dry-run (the chart's controller.dryRun) would have changed the placeholders' "
    "replicas; nothing was written but this Event (one per new would-be change)",
)
BUFFER_SCALED = Reason(
    "BufferScaled",
    "Normal",
    "the pool's CapacityBuffer",
    "the controller changed the buffer's replicas (backend capacityBuffer)",
)
BUFFER_NOT_READY = Reason(
    "BufferNotReady",
    "Warning",
    "the pool's CapacityBuffer",
    "a new problem of the buffer: ReadyForProvisioning False, LimitedByQuotas True, an "
    "unsupported provisioning strategy (one Event per new problem)",
)
RECONCILE_FAILED = Reason(
    "ReconcileFailed",
    "Warning",
    "the pool's placeholder Deployment",
    "the pool's rounds started failing (stage and error); one per outage, not per round",
)
RECONCILE_RECOVERED = Reason(
    "ReconcileRecovered",
    "Normal",
    "the pool's placeholder Deployment",
    "a round of a failing pool succeeded again; names the failed rounds, the time and the "
    "first error",
)
EVENT_REPORT = Reason(
    "EventReport",
    "Normal",
    "the pool's placeholder Deployment",
    "reports.settleTime after an event's end: arrivals, waits, whether the warm capacity was "
    "ready in time and the advice for the next occurrence",
)

CALENDAR_PROBLEM = Reason(
    "CalendarProblem",
    "Warning",
    "the pool's placeholder Deployment (its CapacityBuffer for a buffer pool; the "
    "leader-election Lease for a problem that names no pool)",
    "an upcoming occurrence (now - 1h to 14 days ahead) has a problem: calendar, event, date, "
    "the line and a suggestion; told once per problem",
)

POOL_SELECTOR_MATCHES_NOTHING = Reason(
    "PoolSelectorMatchesNothing",
    "Warning",
    "the pool's placeholder Deployment",
    "the pool check: the pool's nodeSelector matches no node and no Karpenter NodePool "
    "template (told once per cause)",
)
PLACEHOLDER_TOO_BIG = Reason(
    "PlaceholderTooBig",
    "Warning",
    "the pool's placeholder Deployment",
    "the pool check: a placeholder asks for more than a node of the pool offers (told once per "
    "cause)",
)
POOL_LIMIT_BELOW_MAX_REPLICAS = Reason(
    "PoolLimitBelowMaxReplicas",
    "Warning",
    "the pool's placeholder Deployment",
    "the pool check: a NodePool's limits hold fewer nodes than the pool's maxReplicas (told "
    "once per cause)",
)

REASONS: tuple[Reason, ...] = (
    PLACEHOLDERS_SCALED,
    WOULD_SCALE,
    BUFFER_SCALED,
    BUFFER_NOT_READY,
    RECONCILE_FAILED,
    RECONCILE_RECOVERED,
    EVENT_REPORT,
    CALENDAR_PROBLEM,
    POOL_SELECTOR_MATCHES_NOTHING,
    PLACEHOLDER_TOO_BIG,
    POOL_LIMIT_BELOW_MAX_REPLICAS,
)
