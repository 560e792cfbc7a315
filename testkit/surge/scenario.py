"""The course-surge scenario. Every number is a field (and a flag of bench/surge_bench.py)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

STRATEGIES = (
    "nothing",
    "static",
    "no-lead",
    "ours",
    "buffer",
    "class",
    "class-buffer",
    "z2jh-static",
)
# a controller run from the calendar
CALENDAR_STRATEGIES = ("no-lead", "ours", "buffer", "class", "class-buffer")
STRATEGY_TITLES = {
    "nothing": "1 nothing",
    "static": "2 static user-sized placeholders",
    "no-lead": "3 node-sized placeholders at T0 (no lead)",
    "ours": "4 ours (node-sized, with lead)",
    "buffer": "5 ours with CapacityBuffer (node-sized, with lead)",
    "z2jh-static": "z2jh userPlaceholder (static)",
    "class": "6 class-sized (pause pods)",
    "class-buffer": "7 class-sized (CapacityBuffer)",
}
SCHEDULERS = ("default", "z2jh")  # the cluster's default scheduler, or z2jh's user scheduler


@dataclass(frozen=True)
class Scenario:
    """All durations are in scenario seconds; ``time_scale`` compresses them on the cluster."""

    students: int = 100
    student_cpu: float = 0.5
    student_memory_gi: float = 1.5
    arrival_spread: float = 240.0  # students arrive uniformly over [T0, T0 + spread)
    stay: float = 1200.0
    steady: int = 6  # steady user sessions before the course
    node_cpu: float = 4.0
    node_memory_gi: float = 16.0
    placeholder_cpu: str = "3900m"  # node-sized: just under the node's allocatable
    placeholder_memory: str = "15Gi"
    boot_delay: float = 120.0
    scan_interval: float = 10.0
    scale_down_unneeded: float = 120.0
    user_min: int = 1
    user_max: int = 30
    event_length: float = 300.0  # the calendar event: T0 .. T0 + 5 min
    lead: float = 240.0
    nodes: int = 0  # the event's `user: N`; 0 = choose (see chosen_nodes)
    static_placeholders: int = 8
    controller_interval: float = 30.0
    before: float = 600.0  # measurement window: T0 - before .. T0 + after
    after: float = 1800.0
    sample_interval: float = 2.0
    seed: int = 6
    time_scale: float = 1.0  # cluster seconds per scenario second (0.25 = 4x faster)
    blocked_every: int = 0  # every k-th student asks for a node label no node has (0: none)
    # who places students and placeholders: default (kube-scheduler's spreading scores) or z2jh
    # (zero-to-jupyterhub's user scheduler, which packs: testkit/surge/z2jh.py)
    scheduler: str = "default"
    # who builds a student's pod: plain (a pause pod) or kubespawner (KubeSpawner's pod with
    # z2jh's default singleuser values)
    spawner: str = "plain"
    second_students: int = 0  # a second course in the same pool (0: none; see courses.py)
    second_start: float = 0.0  # its event's start and first arrival, after T0
    second_spread: float = 60.0  # its students arrive uniformly over [start, start + spread)
    second_length: float = 300.0  # its event's length
    class_node_up: float = 0.0  # the class-sized mode's configured nodeUp (0: boot + scan)
    class_spread: float = 0.0  # its configured arrivalSpread (0: the first course's spread)

    @classmethod
    def quick(cls) -> Scenario:
        """CI smoke: 20 students, 30 s boot, short windows."""
        return cls(
            students=20,
            arrival_spread=60.0,
            stay=120.0,
            boot_delay=30.0,
            scale_down_unneeded=60.0,
            event_length=90.0,
            lead=60.0,
            user_max=10,
            controller_interval=10.0,
            before=90.0,
            after=240.0,
        )

    def with_(self, **changes: object) -> Scenario:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def per_node(self) -> int:
        """Students (or steady sessions) that fit on one pool node."""
        return min(
            math.floor(self.node_cpu / self.student_cpu + 1e-9),
            math.floor(self.node_memory_gi / self.student_memory_gi + 1e-9),
        )

    def chosen_nodes(self) -> int:
        """N for the event: the students arriving during one node-up time, in nodes.

        A preempted placeholder makes the autoscaler add the next node, which is usable one
        scan plus one boot later; the warm nodes must hold the arrivals of that time:
        N = ceil(arrival rate x (boot delay + scan interval + controller interval) / per_node),
        at most the nodes for the whole class.
        """
        if self.nodes:
            return self.nodes
        rate = self.students / self.arrival_spread
        up = self.boot_delay + self.scan_interval + self.controller_interval
        whole = math.ceil(self.students / self.per_node)
        return max(1, min(whole, math.ceil(rate * up / self.per_node)))

    def arrivals(self) -> list[float]:
        """Seeded arrival offsets after T0 (scenario seconds), sorted."""
        rng = random.Random(self.seed)
        first = [rng.uniform(0.0, self.arrival_spread) for _ in range(self.students)]
        return sorted(
            first
            + [
                self.second_start + rng.uniform(0.0, self.second_spread)
                for _ in range(self.second_students)
            ]
        )

    def wall(self, seconds: float) -> float:
        """Scenario seconds -> cluster (wall-clock) seconds."""
        return seconds * self.time_scale


def go_duration(seconds: float) -> str:
    """Seconds -> a Go duration for scripts/testcluster ("750ms", "30s")."""
    ms = max(1, round(seconds * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"
