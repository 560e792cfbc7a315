"""guardrails.py: per-calendar limits clip requests (not drop them), and node-hours per event.

The fixture guardrails.ics is one week of a calendar in Europe/Zurich (and the Monday after)
whose author asks for more than its limits allow; each row says what the planner grants.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from node_placeholder_scaler.guardrails import Limits, clip, node_hours
from node_placeholder_scaler.model import Occurrence
from node_placeholder_scaler.planning import held
from node_placeholder_scaler.plantext import holdings_table
from node_placeholder_scaler.problems.upcoming import upcoming, window
from testkit.unit import FIXTURES, book_for, utc

ZURICH = ZoneInfo("Europe/Zurich")
LIMITS = "maxNodes: 4, maxNodeHoursPerDay: 12, maxNodeHoursPerWeek: 30, maxLead: 1h"
FETCHED = utc("2026-03-08T12:00")


def config(limits: str = LIMITS, prices: str = "") -> str:
    return (
        f"leadTime: 0s\ncalendars: [{{name: labs, url: {FIXTURES / 'guardrails.ics'}, "
        f"{limits}}}]\npools: {{user: {{maxReplicas: 20{prices}}}, "
        f"gpu: {{maxReplicas: 20{prices}}}}}\n"
    )


def local(text: str) -> str:
    """A Zurich wall time as the UTC ISO text utc() reads."""
    from datetime import datetime

    return (
        datetime.fromisoformat(text)
        .replace(tzinfo=ZURICH)
        .astimezone(ZoneInfo("UTC"))
        .strftime("%Y-%m-%dT%H:%M")
    )


# (Zurich time, pool, target, the clipped problem's message or None)
ROWS = [
    # Monday: 3 x 2h = 6 node-hours of the day's 12
    ("2026-03-09T10:00", "user", 3, None),
    # 4 x 2h would make 14 > 12: what is left (6h) is 3 nodes
    (
        "2026-03-09T15:00",
        "user",
        3,
        "pool 'user': 4 requested; 8 node-hours would pass the "
        "calendar's maxNodeHoursPerDay 12 (6 already held); clipped to 3",
    ),
    # Tuesday 00:30 Zurich is Monday in UTC: counted on Tuesday (the calendar's day). gpu: 10
    # -> maxNodes 4; lead 24h -> maxLead 1h; 4 x 11h > 12 -> 1 node
    ("2026-03-10T00:00", "gpu", 1, "lead 1d is over the calendar's maxLead 1h; clipped to it"),
    (
        "2026-03-10T05:00",
        "gpu",
        1,
        "pool 'gpu': 10 requested; 44 node-hours would pass the "
        "calendar's maxNodeHoursPerDay 12 (0 already held); clipped to 1",
    ),
    ("2026-03-09T23:00", "gpu", 0, None),  # before the clipped 1h lead
    # Wednesday: 5 -> maxNodes 4; 8h fits the day but the week holds 12 + 11 = 23 of 30
    (
        "2026-03-11T19:00",
        "user",
        3,
        "pool 'user': 5 requested; 8 node-hours would pass the "
        "calendar's maxNodeHoursPerWeek 30 (23 already held); clipped to 3",
    ),
    ("2026-03-12T10:30", "user", 1, None),  # Thursday: the last node-hour of the week
    # Friday: nothing left this week: clipped to 0, the event still named
    (
        "2026-03-13T10:30",
        "user",
        0,
        "pool 'user': 1 requested; 1 node-hours would pass the "
        "calendar's maxNodeHoursPerWeek 30 (30 already held); clipped to 0",
    ),
    ("2026-03-16T10:00", "user", 3, None),  # a new week
]


@pytest.mark.parametrize(("when", "pool", "target", "message"), ROWS)
def test_a_calendar_is_clipped_to_its_limits(
    when: str, pool: str, target: int, message: str | None
) -> None:
    plan = book_for(config(), FETCHED).plan(utc(local(when)))
    assert plan.pools[pool].target == target
    clipped = [p for p in plan.problems if p.kind == "clipped"]
    if message is None:
        assert clipped == []
    else:
        assert message in [p.message for p in clipped]
        assert all(p.calendar == "labs" and p.event for p in clipped)


def test_the_same_plan_whenever_it_is_asked() -> None:
    """A budget counts the whole day and week, not the part a plan's window sees."""
    at = utc(local("2026-03-13T10:30"))
    for fetched in (FETCHED, utc("2026-03-13T09:00")):
        assert book_for(config(), fetched).plan(at).pools["user"].target == 0


def test_without_limits_nothing_is_clipped() -> None:
    plan = book_for(config("pools: [user, gpu]"), FETCHED).plan(utc(local("2026-03-10T05:00")))
    assert plan.pools["gpu"].target == 10
    assert [p.kind for p in plan.problems] == []


def test_node_hours_and_cost_per_event_and_pool() -> None:
    book = book_for(config(prices=", pricePerNodeHour: 0.5"), FETCHED).book
    found = held(
        book.views(FETCHED), book.settings, utc("2026-03-09T00:00"), utc("2026-03-11T00:00")
    )
    rows = [(h.occurrence.summary, h.pool, h.nodes, h.node_hours, h.cost) for h in found]
    assert rows == [
        ("Morning lab", "user", 3, 6.0, 3.0),
        ("Afternoon lab", "user", 3, 6.0, 3.0),
        ("GPU hold", "gpu", 1, 11.0, 5.5),  # 10h event + the clipped 1h lead
    ]
    table = holdings_table(found, ZURICH)
    assert table.splitlines()[-1].split() == ["total", "23.0", "11.50"]


def test_no_price_no_cost() -> None:
    book = book_for(config(), FETCHED).book
    found = held(
        book.views(FETCHED), book.settings, utc("2026-03-16T00:00"), utc("2026-03-17T00:00")
    )
    assert [(h.nodes, h.node_hours, h.cost) for h in found] == [(3, 6.0, None)]
    assert holdings_table(found, ZURICH).splitlines()[-1].split() == ["total", "6.0", "-"]


def occurrence(
    start: str, hours: int, lead: timedelta | None = None, **requests: int
) -> Occurrence:
    begin = utc(start)
    return Occurrence(
        "c", start, start, begin, begin + timedelta(hours=hours), requests=requests, lead=lead
    )


def no_lead(o: Occurrence, pool: str) -> timedelta:
    return o.lead or timedelta(0)


@pytest.mark.parametrize(
    ("limits", "occurrences", "granted"),
    [
        (Limits(), [occurrence("2026-03-09T09:00", 2, user=50)], [{"user": 50}]),
        (Limits(max_nodes=0), [occurrence("2026-03-09T09:00", 2, user=5)], [{"user": 0}]),
        # several pools of one event share the day's budget, in pool-name order
        (
            Limits(max_node_hours_per_day=10),
            [occurrence("2026-03-09T09:00", 2, user=3, gpu=3)],
            [{"user": 2, "gpu": 3}],
        ),
        # the lead counts: 1h event + 1h lead = 2h per node
        (
            Limits(max_node_hours_per_day=5),
            [occurrence("2026-03-09T09:00", 1, timedelta(hours=1), user=3)],
            [{"user": 2}],
        ),
        # an earlier event is served first, whatever the input order
        (
            Limits(max_node_hours_per_day=4),
            [occurrence("2026-03-09T12:00", 1, user=4), occurrence("2026-03-09T09:00", 1, user=3)],
            [{"user": 3}, {"user": 1}],
        ),
    ],
)
def test_clip_table(
    limits: Limits, occurrences: list[Occurrence], granted: list[dict[str, int]]
) -> None:
    clipped = clip(occurrences, limits, ZoneInfo("UTC"), no_lead)
    assert [dict(o.requests) for o in clipped] == granted
    assert all(
        list(o.requests) == list(src.requests)
        for o, src in zip(clipped, sorted(occurrences, key=lambda o: o.start), strict=True)
    )


def test_a_pool_outside_the_allow_list_is_left_to_the_planner() -> None:
    clipped = clip(
        [occurrence("2026-03-09T09:00", 1, user=9, gpu=9)],
        Limits(max_nodes=1),
        ZoneInfo("UTC"),
        no_lead,
        allowed=frozenset({"user"}),
    )
    assert dict(clipped[0].requests) == {"user": 1, "gpu": 9}


def test_node_hours_of_an_event() -> None:
    o = occurrence("2026-03-09T09:00", 2, timedelta(minutes=30), user=3)
    assert node_hours(o, "user", 3, no_lead) == 7.5


def test_plan_prints_node_hours_and_cost(tmp_path, capsys) -> None:
    from node_placeholder_scaler import cli

    path = tmp_path / "config.yaml"
    path.write_text("timezone: Europe/Zurich\n" + config(prices=", pricePerNodeHour: 0.5"))
    code = cli.main(
        ["plan", "--from", "2026-03-09T00:00", "--to", "2026-03-11T00:00", "--config", str(path)]
    )
    out = capsys.readouterr().out
    assert code == 0
    tail = out.split("Node-hours each event will hold:\n", 1)[1].splitlines()
    assert [line.split() for line in tail] == [
        ["START", "EVENT", "POOL", "NODES", "NODE-HOURS", "COST"],
        ["2026-03-09", "09:00", "CET", "Morning", "lab", "user", "3", "6.0", "3.00"],
        ["2026-03-09", "14:00", "CET", "Afternoon", "lab", "user", "3", "6.0", "3.00"],
        ["2026-03-10", "00:30", "CET", "GPU", "hold", "gpu", "1", "11.0", "5.50"],
        ["total", "23.0", "11.50"],
    ]
    assert "[clipped] labs / 'Afternoon lab' / 2026-03-09 14:00 CET: pool 'user'" in out


def test_clips_are_upcoming_problems_days_ahead() -> None:
    """validate, plan and the controller's early warning see a clip before the event."""
    book = book_for(config(), FETCHED).book
    now = utc("2026-03-08T12:00")
    found = [(p.title, p.kind) for p in upcoming(book.views(now), *window(now), book.settings)]
    assert found == [
        ("Afternoon lab", "clipped"),
        ("GPU hold", "clipped"),
        ("GPU hold", "clipped"),
        ("Evening review", "clipped"),
        ("Extra session", "clipped"),
    ]
