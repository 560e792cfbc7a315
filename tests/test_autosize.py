"""Autosize (seating/autosize.py): learning from a series' stored reports, and the bounds."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from node_placeholder_scaler.reports.record import EventReport, from_json
from node_placeholder_scaler.seating.autosize import Learned, bounded, learn, series_of

TIMELINES = Path(__file__).parent / "fixtures" / "timelines"


def _report(
    series: str,
    arrivals: int,
    window: float | None,
    most: int | None,
    per: int = 7,
    nodes: int | None = 3,
) -> EventReport:
    return from_json(
        {
            "series": series,
            "start": "2026-11-16T09:00:00+00:00",
            "arrivals": arrivals,
            "arrival_curve": {"window_s": window, "most": most},
            "advice": {"users_per_node": per, "nodes": nodes},
        }
    )


def test_learned_from_a_recorded_report():
    """The live report of a recorded surge run (100 students over 60 s at time scale 0.25)."""
    data = json.loads((TIMELINES / "ours-n10.json").read_text())
    [stored] = data["live_reports"]
    report = from_json(stored)
    found = learn([report], report.series)
    assert found is not None and found.reports == 1
    assert found.seats_per_node == report.advice.users_per_node == 7
    assert report.arrival_curve.window_s is not None
    assert found.node_up == timedelta(seconds=report.arrival_curve.window_s)
    # the busiest rate, stretched over every arrival: no longer than the real spread (60 s)
    assert found.spread is not None and found.spread <= timedelta(seconds=75)
    print(found.describe())


def test_the_last_three_of_the_series_count_steepest_and_slowest():
    reports = [
        _report("c/lab", 100, 60, 20, nodes=9),  # too old: only the last three count
        _report("c/other", 100, 300, 100, per=2, nodes=20),  # another series
        _report("c/lab", 90, 40, 30, per=8, nodes=2),
        _report("c/lab", 0, None, None, nodes=None),  # nobody came: skipped
        _report("c/lab", 100, 50, 25, per=7, nodes=4),
        _report("c/lab", 120, 45, 18, per=7, nodes=3),
    ]
    found = learn(reports, "c/lab")
    assert found == Learned(3, timedelta(seconds=50), timedelta(seconds=120), 7, 4)
    assert found.describe() == (
        "3 reports of the series, node-up p90 50s, arrival spread 2m, "
        "7 seats per node, advice 4 nodes"
    )
    assert learn(reports, "c/none") is None
    assert learn([_report("c/lab", 0, None, None)], "c/lab") is None


@pytest.mark.parametrize(
    ("nodes", "floor", "ceiling", "explicit", "below", "kept"),
    [
        (4, 0, 10, 0, False, 4),
        (12, 0, 10, 0, False, 10),  # the ceiling
        (0, 1, 10, 0, False, 1),  # the floor
        (2, 0, 10, 5, False, 5),  # never below the instructor's explicit request...
        (2, 0, 10, 5, True, 2),  # ...unless the operator says so
        (12, 0, 10, 11, False, 11),  # the explicit request wins over the ceiling (maxReplicas caps)
    ],
)
def test_bounds(nodes, floor, ceiling, explicit, below, kept):
    assert (
        bounded(nodes, floor=floor, ceiling=ceiling, explicit=explicit, below_request=below) == kept
    )


def test_series_names_match_the_reports():
    assert series_of("courses", "d8@x", "Data 8") == "courses/d8@x"
    assert series_of("courses", "", "Data 8") == "Data 8"
