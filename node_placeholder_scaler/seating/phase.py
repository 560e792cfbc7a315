"""What the class-sized rule decided for one pool, as plain data (seating/rule.py decides it).

The phase is a metric label and a log field: keep the vocabulary small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Phase(StrEnum):
    """Where a pool's active classes are (docs/concepts/class-sized.md)."""

    RAMP = "ramp"  # warming ahead of the expected arrivals
    SEATED = "seated"  # seated + free + booting seats cover every class: no refill
    RELEASED = "released"  # every class's arrival window (hold) has passed: nothing kept warm
    UNSIZED = "unsized"  # no seat size or seats per node known: nothing warmed for the class


PHASES = tuple(Phase)


@dataclass(frozen=True)
class ClassState:
    """One round of the rule for a pool: the seats it counted, the nodes it wants, and why."""

    phase: Phase
    warm: int  # warm nodes (placeholders or buffer chunks) the classes want now
    students: int  # seats asked by the pool's classes still in their arrival window
    needed: int  # seats expected to be taken by now + one node-up time
    seated: int  # user pods of the classes bound to pool nodes
    free: int  # free seats on the pool's nodes (beside warm placeholders)
    booting: int  # seats held by the placeholders or buffer chunks there are (running or pending)
    seats_per_node: int
    why: str
    late: timedelta | None = None  # the window opened this long after the first node was due

    def log_fields(self) -> str:
        return (
            f"phase={self.phase} students={self.students} needed={self.needed} "
            f"seated={self.seated} free_seats={self.free} warm_seats={self.booting} "
            f"seats_per_node={self.seats_per_node}"
        )
