"""Autosize: the last event reports of a recurring series size its next occurrence.

Pure: stored reports (reports/record.py EventReports) in, a Learned profile and bounded
node counts out. The rule (docs/concepts/class-sized.md, "Autosize"):

* From the last ``LAST`` reports of the same series (calendar/UID) that had arrivals:
  node-up = the largest of their node-up p90 (``arrival_curve.window_s``); the arrival spread =
  the time the class would take at its busiest rate (arrivals x window / most arrivals within
  the window), the shortest of them (the steepest surge); seats per node = the smallest
  ``advice.users_per_node`` seen; nodes = the largest ``advice.nodes``.
* ``apply``: a class-sized request uses them instead of the configured profile; a node
  request (``user: 3``) asks for the learned nodes instead. Either way the warm nodes stay
  within [autosizeFloor, autosizeCeiling], and never below the event's explicit node
  request unless ``autosizeBelowRequest: allowed``. ``advise``: nothing changes; the log line,
  the Events and the report say what apply would use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from ..durations import format_duration
from ..reports.record import EventReport

LAST = 3  # reports of the series that count


@dataclass(frozen=True)
class Learned:
    reports: int  # how many reports it learned from
    node_up: timedelta | None
    spread: timedelta | None
    seats_per_node: int | None
    nodes: int | None

    def describe(self) -> str:
        parts = [f"{self.reports} report{'s' if self.reports != 1 else ''} of the series"]
        if self.node_up is not None:
            parts.append(f"node-up p90 {format_duration(self.node_up)}")
        if self.spread is not None:
            parts.append(f"arrival spread {format_duration(self.spread)}")
        if self.seats_per_node:
            parts.append(f"{self.seats_per_node} seats per node")
        if self.nodes is not None:
            parts.append(f"advice {self.nodes} nodes")
        return ", ".join(parts)


def learn(reports: Sequence[EventReport], series: str, *, last: int = LAST) -> Learned | None:
    """What the last reports of ``series`` (with arrivals) say; None when there are none."""
    mine = [r for r in reports if r.series == series and r.arrivals][-last:]
    if not mine:
        return None
    ups, spreads, seats, nodes = [], [], [], []
    for report in mine:
        window, most = report.arrival_curve.window_s, report.arrival_curve.most
        if window:
            ups.append(float(window))
            if most:
                spreads.append(float(window) * report.arrivals / most)
        if report.advice.users_per_node:
            seats.append(report.advice.users_per_node)
        if report.advice.nodes is not None:
            nodes.append(report.advice.nodes)
    return Learned(
        len(mine),
        timedelta(seconds=max(ups)) if ups else None,
        timedelta(seconds=min(spreads)) if spreads else None,
        min(seats) if seats else None,
        max(nodes) if nodes else None,
    )


def bounded(
    nodes: int, *, floor: int, ceiling: int, explicit: int = 0, below_request: bool = False
) -> int:
    """``nodes`` within [floor, ceiling], and at least the explicit request unless allowed."""
    kept = max(floor, min(ceiling, nodes))
    return kept if below_request else max(kept, explicit)


def series_of(calendar: str, uid: str, summary: str) -> str:
    """The series a report belongs to: calendar/UID (RRULE occurrences share it), else the
    title."""
    return f"{calendar}/{uid}" if uid else summary
