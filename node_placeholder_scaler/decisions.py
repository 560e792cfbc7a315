"""What a round decided, as plain data: the vocabularies (actions, error stages, scale
directions) and the per-pool decision that the loop logs, counts and writes as an Event.

The vocabularies are the only values of their metric labels and log fields; metrics.py
pre-creates every one of them, and the shipped dashboard may name only these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from .backends.capacitybuffers import BufferState
from .model import Occurrence
from .seating.phase import ClassState


class Action(StrEnum):
    """What a round did with one pool."""

    SCALED = "scaled"  # patched the placeholder Deployment's scale
    WOULD_SCALE = "would-scale"  # dry run: would have patched
    UNCHANGED = "unchanged"
    LEFT_ALONE = "left-alone"  # no good copy of a feed that may name the pool
    ERROR = "error"  # see the decision's stage and error


class Stage(StrEnum):
    """Where an error happened (the ``stage`` label of ``node_placeholder_errors_total``)."""

    FEEDS = "feeds"  # the feed layer raised (pool label empty)
    ROUND = "round"  # the round itself raised (pool label empty)
    DEPLOYMENT = "deployment"  # reading the placeholder Deployment and its pods
    NODES = "nodes"
    PODS = "pods"
    SCALE = "scale"
    EVENT = "event"  # scaled, but the Kubernetes Event could not be written
    REPORT = "report"  # an event report could not be stored or written as an Event
    BUFFER = "buffer"  # backend capacityBuffer: reading it, or it cannot warm (backends/buffer.py)


ROUND_STAGES = (Stage.FEEDS, Stage.ROUND)  # counted with pool=""
POOL_STAGES = tuple(s for s in Stage if s not in ROUND_STAGES)  # counted per pool


class Direction(StrEnum):
    """Of a scale patch (the ``direction`` label of ``node_placeholder_scale_patches_total``)."""

    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class PoolDecision:
    """What a round decided for one pool, and why (the occurrences behind the target)."""

    pool: str
    backend_object: str  # the name of the pool's placeholder Deployment or CapacityBuffer
    action: Action
    target: int | None = None
    free: int | None = None  # free node-equivalents; None when not measured
    desired: int | None = None
    current: int | None = None
    pending: int = 0
    nodes: int | None = None  # nodes of the pool
    eligible: int | None = None  # nodes that could count as headroom
    occurrences: tuple[Occurrence, ...] = ()  # the active calendar occurrences naming the pool
    stage: Stage | None = None
    error: str | None = None
    event_error: str | None = None  # scaled, but the Kubernetes Event could not be created
    buffer: BufferState | None = None  # backend capacityBuffer: its status conditions
    seating: ClassState | None = None  # class-sized requests: the phase and its counts
    autosize: str | None = None  # what autosize used (apply) or would use (advise), and why

    @property
    def events(self) -> tuple[str, ...]:
        """The titles of the occurrences."""
        return tuple(o.summary for o in self.occurrences)

    @property
    def direction(self) -> Direction | None:
        if self.desired is None or self.current is None or self.desired == self.current:
            return None
        return Direction.UP if self.desired > self.current else Direction.DOWN

    def log_line(self) -> str:
        events = "; ".join(self.events).replace('"', "'")
        line = (
            f"pool={self.pool} target={_show(self.target)} free={_show(self.free)} "
            f'desired={_show(self.desired)} current={_show(self.current)} events="{events}" '
            f"pending={self.pending} action={self.action}"
        )
        if self.occurrences:
            ids = "; ".join(occurrence_id(o) for o in self.occurrences).replace('"', "'")
            line += f' event_ids="{ids}"'
        if self.buffer is not None:
            line += f" {self.buffer.log_fields()}"
        if self.autosize:
            line += f' autosize="{self.autosize}"'
        if self.seating is not None:
            line += f' {self.seating.log_fields()} why="{self.seating.why}"'
        if self.error:
            line += f' stage={self.stage} error="{self.error}"'
        return line


@dataclass(frozen=True)
class RoundResult:
    at: datetime
    dry_run: bool
    pools: tuple[PoolDecision, ...]

    def errors(self) -> list[PoolDecision]:
        return [d for d in self.pools if d.error or d.event_error]


def occurrence_id(occurrence: Occurrence) -> str:
    """Tells two occurrences with one title apart: calendar/UID@start (UTC)."""
    start = occurrence.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    uid = "".join(c if c.isprintable() else "?" for c in occurrence.uid)
    return f"{occurrence.calendar}/{uid}@{start}"


def decision_message(decision: PoolDecision) -> str:
    """The Kubernetes Event text: the change, the numbers behind it and the calendar events."""
    if decision.occurrences:
        reason = "for: " + "; ".join(
            f"{o.summary} ({occurrence_id(o)})" for o in decision.occurrences
        )
    else:
        reason = "no active calendar event"
    verb = "Dry run: would scale" if decision.action == Action.WOULD_SCALE else "Scaled"
    return (
        f"{verb} placeholders of pool {decision.pool} from {decision.current} to "
        f"{decision.desired} (calendar target {decision.target}, free node-equivalents "
        f"{_show(decision.free)}) {reason}{class_note(decision)}"
    )


def class_note(decision: PoolDecision) -> str:
    """The class-sized rule's phase and reason and what autosize did, for an Event message
    ("" without either)."""
    state = decision.seating
    note = "" if state is None else f"; class phase {state.phase}: {state.why}"
    return note + (f"; {decision.autosize}" if decision.autosize else "")


def _show(value: int | None) -> str:
    return "-" if value is None else str(value)
