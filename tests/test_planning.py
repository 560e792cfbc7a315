"""planning.py: which lead applies, on a real feed read through the CalendarBook."""

from __future__ import annotations

from datetime import timedelta

import pytest

from testkit.ics import Event, calendar
from testkit.unit import book_for, utc

START = utc("2026-03-03T10:00")


def book(tmp_path, *events: tuple[str, str]):
    feed = tmp_path / "c.ics"
    end = START + timedelta(hours=1)
    feed.write_bytes(calendar(Event(summary, START, end, lines) for summary, lines in events))
    return book_for(
        f"leadTime: 15m\ncalendars: [{{name: c, url: {feed}}}]\n"
        "pools: {user: {}, gpu: {leadTime: 30m}}\n",
        START - timedelta(days=1),
    )


@pytest.mark.parametrize(
    ("minutes_before", "user", "problems"),
    [
        (10, 0, []),  # lead: 0s is no lead, not "the global 15m"
        (0, 2, ["unknown-pool"]),
    ],
)
def test_lead_zero_is_no_lead_for_the_event_and_its_problems(
    tmp_path, minutes_before, user, problems
):
    plans = book(tmp_path, ("Exam", "user: 2\nlead: 0s\ngpuu: 1"))
    plan = plans.plan(START - timedelta(minutes=minutes_before))
    assert plan.pools["user"].target == user
    assert [p.kind for p in plan.problems] == problems


def test_event_lead_then_pool_lead_then_global(tmp_path):
    plans = book(tmp_path, ("Lab", "user: 1\ngpu: 1"), ("Exam", "user: 2\nlead: 5m"))
    at = {m: plans.plan(START - timedelta(minutes=m)).pools for m in (31, 30, 16, 15, 6, 5)}
    assert [(at[m]["user"].target, at[m]["gpu"].target) for m in (31, 30, 16, 15, 6, 5)] == [
        (0, 0),
        (0, 1),
        (0, 1),
        (1, 1),
        (1, 1),
        (3, 1),
    ]
