"""Class-sized requests (``user: 120 students``) -> warm nodes, one round at a time.

Pure: the pool's classes, its profile (seats per node, arrival spread, node-up time, hold)
and what the round counted in the pool (seated students, free seats, warm placeholders) in;
a ClassState out. The rule (docs/concepts/class-sized.md):

* Students of a class arrive evenly over ``[start, start + spread)`` (the event's
  ``arrival:`` line, else the pool's arrivalSpread). The seats needed at t are the arrivals
  expected by ``t + nodeUp`` (a node asked for now is usable then), summed over the pool's
  classes whose arrival window ``[.., start + hold)`` is still open (hold: the pool's, else
  the class's spread).
* The students seated since the first class opened are counted against the closed classes
  first (their arrivals are over): what is left is the open classes' seated students.
* warm = ceil(max(0, needed - seated - free seats) / seats per node), at most maxReplicas:
  the placeholders (or buffer chunks) to keep. It grows with the arrival curve (a ramp, not
  everything at ``start - lead``) and falls as students take seats, so a preempted
  placeholder is not replaced once the class no longer needs it.
* Phase ``seated`` once seated + free seats + the seats of the placeholders there are
  (running or booting) cover every open class: from then on warm is
  min(warm there is, ceil((students - seated - free seats) / seats per node)): it never
  rises (no refill) and falls only as students take seats.
* Phase ``released`` once every class's hold has passed: warm is 0 (seated students keep
  their nodes; the autoscaler removes the empty ones).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..durations import format_duration
from ..model import ClassRequest
from ..observed import Resources
from .phase import ClassState, Phase

_MEMORY = re.compile(r"([0-9]{1,12}(?:\.[0-9]{1,6})?)(Ki|Mi|Gi|Ti|k|M|G|T)?")
_UNITS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def memory_bytes(text: str) -> int | None:
    """``1.5Gi`` -> bytes; None for anything that is not a memory size."""
    match = _MEMORY.fullmatch(text.strip())
    if match is None:
        return None
    return math.ceil(float(match[1]) * _UNITS[match[2]])


@dataclass(frozen=True)
class Profile:
    """How a pool's classes arrive and how fast its nodes come up (configured or learned)."""

    seats_per_node: int  # 0: unknown (the classes cannot be sized)
    spread: timedelta  # a class's arrival spread when its event does not say
    node_up: timedelta
    hold: timedelta | None  # None: each class's arrival spread
    source: str = "configured"  # or what it was learned from, in words


@dataclass(frozen=True)
class Counted:
    """What a round counted in the pool for its classes."""

    seated: int  # user pods created since the first open class opened, bound to pool nodes
    free: int  # free seats on the pool's usable nodes that host no placeholder
    warm: int  # placeholders (or buffer chunks) there are now: running or booting


def seats_per_node(room: Resources, seat: Resources) -> int:
    """Seats of ``seat`` that fit into ``room`` (the resources the seat asks for); 0: none."""
    names = ("cpu", "memory", *seat.extended)
    fits = [room.get(r) // seat.get(r) for r in names if seat.get(r) > 0]
    return max(0, min(fits)) if fits else 0


def learned_seat(pods: Iterable[Resources]) -> Resources | None:
    """The requests most of the pool's user pods have (None: no user pod with requests)."""
    seen: dict[tuple[int, int, tuple[tuple[str, int], ...]], Resources] = {}
    counts: Counter[tuple[int, int, tuple[tuple[str, int], ...]]] = Counter()
    for pod in pods:
        if pod.cpu_milli > 0 or pod.memory > 0:
            key = (pod.cpu_milli, pod.memory, tuple(sorted(pod.extended.items())))
            seen[key] = pod
            counts[key] += 1
    if not counts:
        return None
    return seen[max(counts, key=lambda key: (counts[key], key[1], key[0]))]


def expected(seats: int, start: datetime, spread: timedelta, at: datetime) -> int:
    """Arrivals of a class of ``seats`` expected by ``at`` (even over [start, start+spread))."""
    if at < start:
        return 0
    share = min(1.0, (at - start) / spread)
    return min(seats, math.ceil(seats * share))


def spread_of(c: ClassRequest, profile: Profile) -> timedelta:
    """How long the class takes to arrive: its event's ``arrival:``, else the pool's."""
    return c.spread or profile.spread


def window_of(c: ClassRequest, profile: Profile) -> timedelta:
    """How long after its start the class is still arriving (warm room is kept for it)."""
    return profile.hold if profile.hold is not None else spread_of(c, profile)


def open_classes(
    classes: Sequence[ClassRequest], profile: Profile, at: datetime
) -> list[ClassRequest]:
    """The classes whose arrival window has not passed at ``at``."""
    return [c for c in classes if at < c.start + window_of(c, profile)]


def needed(classes: Sequence[ClassRequest], profile: Profile, at: datetime) -> int:
    """Seats the open classes are expected to take by ``at`` + one node-up time."""
    ahead = at + profile.node_up
    return sum(
        expected(c.seats, c.start, spread_of(c, profile), ahead)
        for c in open_classes(classes, profile, at)
    )


def seated_in_open(
    classes: Sequence[ClassRequest], still: Sequence[ClassRequest], seated: int
) -> int:
    """The seated students counted against the open classes: the closed classes (their
    arrivals are over) take theirs first."""
    closed = sum(c.seats for c in classes if not any(c is o for o in still))
    return max(0, seated - closed)


def decide(
    classes: Sequence[ClassRequest], profile: Profile, counted: Counted, at: datetime, maximum: int
) -> ClassState:
    """The warm nodes a pool's classes want at ``at`` and the phase, with the reason."""
    per = profile.seats_per_node
    still = open_classes(classes, profile, at)
    students = sum(c.seats for c in still)
    need = needed(classes, profile, at)
    if not still:
        return ClassState(
            Phase.RELEASED,
            0,
            0,
            0,
            counted.seated,
            counted.free,
            counted.warm * per,
            per,
            _released(classes, profile),
        )
    counted = replace(counted, seated=seated_in_open(classes, still, counted.seated))
    if per <= 0:
        return ClassState(
            Phase.UNSIZED,
            0,
            students,
            need,
            counted.seated,
            counted.free,
            0,
            0,
            "no seat size known (set seatCpu/seatMemory or seatsPerNode, or "
            "let a user pod run in the pool): nothing warmed for the class",
        )
    covered = counted.seated + counted.free + counted.warm * per
    if covered >= students:  # keep room for the whole class, less what students took
        warm = min(counted.warm, _nodes(students - counted.seated - counted.free, per))
        why = (
            f"{counted.seated} seated + {counted.free} free + {counted.warm * per} warm "
            f"seats cover {students} students: no refill"
        )
        return ClassState(
            Phase.SEATED,
            warm,
            students,
            need,
            counted.seated,
            counted.free,
            counted.warm * per,
            per,
            why,
        )
    warm = min(maximum, _nodes(need - counted.seated - counted.free, per))
    why = (
        f"{need} of {students} students expected by now + node-up "
        f"{format_duration(profile.node_up)}; {counted.seated} seated, {counted.free} free "
        f"seats, {per} seats per node"
    )
    return ClassState(
        Phase.RAMP, warm, students, need, counted.seated, counted.free, counted.warm * per, per, why
    )


def late_by(classes: Sequence[ClassRequest], opens: datetime, profile: Profile) -> timedelta | None:
    """How long after the first node had to be asked for (one node-up before the first
    arrival) the classes' window opens: a lead shorter than the node-up time; None: in time."""
    due = min(c.start for c in classes) - profile.node_up
    return opens - due if opens > due else None


def with_lead(state: ClassState, late: timedelta | None) -> ClassState:
    """The state, telling (while it ramps) that the lead was too short."""
    if late is None or state.phase != Phase.RAMP:
        return replace(state, late=late)
    return replace(
        state,
        late=late,
        why=(
            f"{state.why}; the lead is {format_duration(late)} shorter than node-up + interval: "
            "the first arrivals may wait"
        ),
    )


def _nodes(seats: int, per: int) -> int:
    return math.ceil(max(0, seats) / per)


def _released(classes: Sequence[ClassRequest], profile: Profile) -> str:
    last = max(c.start + window_of(c, profile) for c in classes)
    hold = max(window_of(c, profile) for c in classes)
    return (
        f"arrival window (hold {format_duration(hold)}) passed at "
        f"{last.strftime('%H:%M')} UTC: warm room released"
    )
