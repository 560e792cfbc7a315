"""One class-sized event, computed round by round with the controller's own rule, as an SVG.

``python -m testkit.class_timeline --write`` writes docs/concepts/class-sized.svg (the picture
on the class-sized page; tests/test_class_timeline.py checks it is in step with this code).

The model, per reconcile round (every 30 s): the rule (seating/rule.py ``decide``) sees the
seated students, the free seats on the nodes students are on, and the placeholders there are;
the Deployment is set to its ``warm``. A new placeholder's node is usable one node-up time
later (booting until then). 100 of the 120 students come, evenly over the spread; each
takes a free seat, else preempts a warm placeholder (its node becomes a student node, and the
Deployment replaces the placeholder until the next round lowers it: a refill that boots), else
waits.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from node_placeholder_scaler.model import ClassRequest, Occurrence
from node_placeholder_scaler.seating.rule import Counted, Profile, decide

OUT = Path(__file__).resolve().parents[1] / "docs" / "concepts" / "class-sized.svg"
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
STUDENTS, COME, PER_NODE = 120, 100, 8  # 120 asked for, 100 come
SPREAD, NODE_UP, INTERVAL, HOLD = 600, 180, 30, 720  # seconds
LEAD, AFTER = 900, 900  # the picture: T0 - 15 min .. T0 + 15 min


@dataclass
class Pool:
    ready: list[float] = field(default_factory=list)  # placeholders: when their node is usable
    free: int = 0  # free seats on student nodes
    seated: int = 0
    waiting: int = 0

    def warm(self, t: float) -> int:
        return sum(1 for r in self.ready if r <= t)

    def booting(self, t: float) -> int:
        return len(self.ready) - self.warm(t)

    def scale(self, replicas: int, t: float) -> None:
        while len(self.ready) < replicas:
            self.ready.append(t + NODE_UP)
        while len(self.ready) > replicas:  # the unscheduled (booting) go first
            self.ready.remove(max(self.ready))

    def seat(self, t: float) -> None:
        """Seat the waiting students where there is room (or a placeholder to preempt)."""
        while self.waiting:
            if self.free:
                self.free -= 1
            elif self.warm(t):
                self.ready.remove(min(self.ready))  # preempted: its node is the student's
                self.ready.append(t + NODE_UP)  # the Deployment replaces it (a refill)
                self.free += PER_NODE - 1
            else:
                return
            self.waiting -= 1
            self.seated += 1


def timeline(step: float = 5.0) -> list[tuple[float, dict[str, float]]]:
    """(seconds from T0, series) every ``step`` seconds."""
    klass = ClassRequest(Occurrence("c", "d8", "Data 8", T0, T0 + timedelta(hours=1)), STUDENTS)
    profile = Profile(
        PER_NODE,
        timedelta(seconds=SPREAD),
        timedelta(seconds=NODE_UP + INTERVAL),
        timedelta(seconds=HOLD),
    )
    pool, arrivals = Pool(), [SPREAD * i / COME for i in range(COME)]
    rows: list[tuple[float, dict[str, float]]] = []
    t, needed = -float(LEAD), 0
    while t <= AFTER:
        while arrivals and arrivals[0] <= t:
            arrivals.pop(0)
            pool.waiting += 1
        pool.seat(t)
        if t % INTERVAL == 0:
            state = decide(
                [klass],
                profile,
                Counted(pool.seated, pool.free, len(pool.ready)),
                T0 + timedelta(seconds=t),
                50,
            )
            pool.scale(state.warm, t)
            needed = state.needed
        rows.append(
            (
                t,
                {
                    "needed": needed,
                    "warm": pool.warm(t) * PER_NODE,
                    "booting": pool.booting(t) * PER_NODE,
                    "seated": pool.seated,
                    "waiting": pool.waiting,
                },
            )
        )
        t += step
    return rows


SERIES = (
    ("needed", "#888888", "seats needed by now + node-up"),
    ("warm", "#d95f02", "warm seats (placeholders on Ready nodes)"),
    ("booting", "#7570b3", "booting seats (placeholders waiting for a node)"),
    ("seated", "#1b9e77", "students seated"),
    ("waiting", "#e7298a", "students waiting"),
)


def svg(rows: list[tuple[float, dict[str, float]]]) -> str:
    width, height, left, top, plot_w, plot_h = 760, 380, 50, 20, 680, 260
    top_value = math.ceil(STUDENTS / 20) * 20 + 20

    def x(t: float) -> float:
        return left + (t + LEAD) / (LEAD + AFTER) * plot_w

    def y(v: float) -> float:
        return top + plot_h - v / top_value * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#cccccc"/>',
    ]
    for v in range(0, top_value + 1, 20):
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
    for minute in range(-LEAD // 60, AFTER // 60 + 1, 5):
        out.append(
            f'<text x="{x(minute * 60):.1f}" y="{top + plot_h + 14}" '
            f'text-anchor="middle">{minute:+d} min</text>'
        )
    for at, label in ((0, "start"), (HOLD, "hold ends: released")):
        out.append(
            f'<line x1="{x(at):.1f}" y1="{top}" x2="{x(at):.1f}" y2="{top + plot_h}" '
            f'stroke="#999999" stroke-dasharray="4 3"/><text x="{x(at) + 3:.1f}" '
            f'y="{top + 12}">{label}</text>'
        )
    out.append(
        f'<line x1="{left}" y1="{y(STUDENTS):.1f}" x2="{left + plot_w}" '
        f'y2="{y(STUDENTS):.1f}" stroke="#000000" stroke-dasharray="2 2"/>'
        f'<text x="{left + 4}" y="{y(STUDENTS) - 4:.1f}">requested: user: {STUDENTS} '
        f"students ({PER_NODE} seats per node)</text>"
    )
    for key, colour, _ in SERIES:
        points = " ".join(f"{x(t):.1f},{y(s[key]):.1f}" for t, s in rows)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
    for i, (_, colour, label) in enumerate(SERIES):
        lx, ly = left + (i % 3) * 230, top + plot_h + 34 + (i // 3) * 16
        out.append(
            f'<rect x="{lx}" y="{ly - 9}" width="12" height="4" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{ly - 4}">{label}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {OUT}")
    args = parser.parse_args()
    text = svg(timeline())
    if args.write:
        OUT.write_text(text)
        print(f"wrote {OUT}")
    else:
        print(text)


if __name__ == "__main__":
    main()
