"""The courses of a scenario, the presets, and the calendar each strategy serves the controller.

A scenario has one course (the first) and, for the overlap preset, a second one in the same
pool. The node-form strategies ask each event for ``user: N`` by the README rule; the
class-sized strategies ask for the class itself (``user: <students> students``) and let the
controller size the warm room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .scenario import Scenario

CLASS_STRATEGIES = ("class", "class-buffer")  # the class-sized mode: `user: S students`
BUFFER_STRATEGIES = ("buffer", "class-buffer")  # the pool's backend is a CapacityBuffer
TITLES = ("Course login surge", "Second course")
UIDS = ("surge-1@node-placeholder-scaler", "surge-2@node-placeholder-scaler")

# Each preset is a set of scenario fields (flags still override them).
PRESETS: dict[str, dict[str, object]] = {
    # the default scenario of the benchmark: one course of 100 over 4 minutes, boot 120 s
    "dev": {},
    # two overlapping courses in one pool: 60 students spread over 5 minutes from T0, and 40
    # who arrive within one minute from T0+3 min (a tight burst into a running course)
    "overlap": {
        "students": 60,
        "arrival_spread": 300.0,
        "event_length": 360.0,
        "second_students": 40,
        "second_start": 180.0,
        "second_spread": 60.0,
        "second_length": 240.0,
        "stay": 600.0,
        "before": 300.0,
        "after": 1200.0,
    },
    # the operator gave less lead (60 s) than a node takes to boot (120 s)
    "short-lead": {"lead": 60.0, "stay": 600.0, "before": 300.0, "after": 1200.0},
}
PRESET_NOTES = {
    "dev": "one course of 100 students arriving over 4 min, boot 120 s, lead 4 min",
    "overlap": "two overlapping courses in one pool: 60 students over 5 min from T0, 40 "
    "students within 1 min from T0+3 min",
    "short-lead": "one course of 100 over 4 min; lead 60 s, shorter than the 120 s boot",
}


@dataclass(frozen=True)
class Course:
    """One calendar event of the scenario (scenario seconds from T0)."""

    title: str
    uid: str
    students: int
    start: float
    spread: float
    length: float


def courses(s: Scenario) -> list[Course]:
    first = Course(TITLES[0], UIDS[0], s.students, 0.0, s.arrival_spread, s.event_length)
    if not s.second_students:
        return [first]
    return [
        first,
        Course(
            TITLES[1], UIDS[1], s.second_students, s.second_start, s.second_spread, s.second_length
        ),
    ]


def course_nodes(s: Scenario, c: Course) -> int:
    """The README rule for one course: its arrivals during one node-up time, in nodes (the
    scenario's ``nodes`` overrides it for the first course, as for a single course)."""
    if s.nodes and c.uid == UIDS[0]:
        return s.nodes
    return s.with_(students=c.students, arrival_spread=c.spread, nodes=0).chosen_nodes()


def request_line(s: Scenario, strategy: str, c: Course) -> str:
    """The pool line of the event's description under this strategy."""
    if strategy in CLASS_STRATEGIES:
        return f"user: {c.students} students"
    return f"user: {course_nodes(s, c)}"


def requested(s: Scenario, strategy: str) -> str:
    """What the calendar asked for, for the table ("user: 9", "user: 100 students", ...)."""
    return " + ".join(request_line(s, strategy, c) for c in courses(s))


def events(
    s: Scenario, strategy: str, t0: datetime, lead: float
) -> list[tuple[str, str, datetime, datetime, str]]:
    """(title, uid, start, end, description) of each course's event, in cluster time."""
    out = []
    for c in courses(s):
        start = t0 + timedelta(seconds=s.wall(c.start))
        end = start + timedelta(seconds=s.wall(c.length))
        description = f"{c.title}\n{request_line(s, strategy, c)}\nlead: {round(lead)}s"
        if strategy in CLASS_STRATEGIES:  # the course's own arrival spread, as it is known
            description += f"\narrival: {_seconds(s.wall(c.spread))}"
        out.append((c.title, c.uid, start, end, description))
    return out


def class_settings(s: Scenario) -> tuple[dict[str, object], dict[str, object]]:
    """The pool keys and top-level keys of the class-sized mode for this scenario, compressed
    like the rest of it: the seat (a student's pod), the pool's arrival spread (the first
    course's; each event also says its own with an ``arrival:`` line) and the node-up time
    (scan + boot; the controller adds its interval). The seats per node are left to the
    controller: a pool node's room over the seat (the steady sessions keep a node up; the
    autoscaler's node overhead makes it 7, not the 8 a bare 4-CPU node would hold). The hold
    is left unset: each class's arrival spread."""
    pool: dict[str, object] = {
        "seatCpu": s.student_cpu,
        "seatMemory": f"{round(s.student_memory_gi * 1024)}Mi",
        "arrivalSpread": _seconds(s.wall(s.class_spread or s.arrival_spread)),
        "nodeUp": _seconds(s.wall(s.class_node_up or s.boot_delay + s.scan_interval)),
    }
    return pool, {}


def _seconds(wall: float) -> str:
    return f"{max(1, round(wall))}s"


def run_label(strategy: str, nodes: int, request: str) -> str:
    """A run's name in tables: the strategy's title, and what its calendar asked for."""
    from .scenario import STRATEGY_TITLES

    title = STRATEGY_TITLES.get(strategy, strategy)
    if request and request != f"user: {nodes}":
        return f"{title}, {request}"
    return f"{title}, N={nodes}" if nodes else title
