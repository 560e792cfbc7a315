"""Metrics of buffer pools (backend capacityBuffer): their CapacityBuffer's status conditions.

Bounded labels: pool, condition (ReadyForProvisioning, Provisioning, LimitedByQuotas) and reason
(a known vocabulary, else Other; None when the condition has no reason or is absent).
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Gauge

from .capacitybuffers import CONDITIONS, NO_REASON, BufferState, metric_reason

PREFIX = "node_placeholder_"
STATUS_VALUE = {"True": 1, "False": 0}  # Unknown or absent: -1


class BufferMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["pool", "condition"]
        self.condition = Gauge(
            f"{PREFIX}buffer_condition",
            "Status of a buffer pool's CapacityBuffer condition: 1 True, 0 False, -1 Unknown",
            labels,
            registry=registry,
        )
        self.reason = Gauge(
            f"{PREFIX}buffer_condition_reason",
            "1 for the current reason of a buffer pool's CapacityBuffer condition, else 0",
            [*labels, "reason"],
            registry=registry,
        )
        self.replicas = Gauge(
            f"{PREFIX}buffer_status_replicas",
            "status.replicas of a buffer pool's CapacityBuffer (chunks the autoscaler keeps)",
            ["pool"],
            registry=registry,
        )
        self._reasons: dict[tuple[str, str], str] = {}

    def initialise(self, pools: Sequence[str]) -> None:
        """The series of the buffer pools, before their first round."""
        for pool in pools:
            self.replicas.labels(pool).set(0)
            for kind in CONDITIONS:
                self.condition.labels(pool, kind).set(-1)
                self.reason.labels(pool, kind, NO_REASON).set(1)
                self._reasons[(pool, kind)] = NO_REASON

    def observe(self, pool: str, state: BufferState) -> None:
        for kind in CONDITIONS:
            status, reason = state.conditions.get(kind, ("Unknown", ""))
            self.condition.labels(pool, kind).set(STATUS_VALUE.get(status, -1))
            label, last = metric_reason(reason), self._reasons.get((pool, kind))
            if last is not None and last != label:
                self.reason.labels(pool, kind, last).set(0)
            self.reason.labels(pool, kind, label).set(1)
            self._reasons[(pool, kind)] = label
        if state.status_replicas is not None:
            self.replicas.labels(pool).set(state.status_replicas)
