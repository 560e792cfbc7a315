"""Metrics of class-sized requests (seating/rule.py): the phase of each pool and the seats counted.

Bounded labels: pool, phase (phase.PHASES plus ``none``: no class active) and kind (the
seat counts of a ClassState).
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Gauge

from .phase import PHASES, ClassState

PREFIX = "node_placeholder_"
NO_CLASS = "none"
SEAT_KINDS = ("students", "needed", "seated", "free", "warm")


class ClassMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.phase = Gauge(
            f"{PREFIX}class_phase",
            "1 for the phase of the pool's class-sized requests (ramp, seated, released, "
            "unsized; none: no class active), else 0",
            ["pool", "phase"],
            registry=registry,
        )
        self.seats = Gauge(
            f"{PREFIX}class_seats",
            "Seats the class-sized rule counted in the pool: students (asked by open classes), "
            "needed (expected by now + node-up), seated, free, warm (held by placeholders)",
            ["pool", "kind"],
            registry=registry,
        )

    def initialise(self, pools: Sequence[str]) -> None:
        for pool in pools:
            self.observe(pool, None)

    def observe(self, pool: str, state: ClassState | None) -> None:
        current = NO_CLASS if state is None else state.phase
        for phase in (*PHASES, NO_CLASS):
            self.phase.labels(pool, phase).set(1 if phase == current else 0)
        values = (
            (0, 0, 0, 0, 0)
            if state is None
            else (state.students, state.needed, state.seated, state.free, state.booting)
        )
        for kind, value in zip(SEAT_KINDS, values, strict=True):
            self.seats.labels(pool, kind).set(value)
