"""The expansion window: far events are not parsed but still reported; wider queries."""

from __future__ import annotations

from datetime import datetime, timedelta

from node_placeholder_scaler.ical.calendar import parse_calendar
from testkit.hostile_calendars import UTC, WINDOW, calendar, event

FAR = event(
    "DESCRIPTION:usr: 2", uid="far", start="DTSTART:20250101T100000Z", summary="Old exam"
).replace("DTEND:20260303T110000Z", "DTEND:20250101T110000Z")
LONG = event(
    "DESCRIPTION:user: 4",
    "DURATION:P30D",
    uid="long",
    start="DTSTART:20260210T000000Z",
    summary="Exam month",
)
LATE = event(
    "DESCRIPTION:user: 5", uid="late", start="DTSTART:20260601T100000Z", summary="Summer"
).replace("DTEND:20260303T110000Z", "DTEND:20260601T110000Z")
DATA = calendar(FAR, LONG, LATE)


def test_far_event_is_not_expanded_but_its_problems_are_reported() -> None:
    parsed = parse_calendar(DATA, name="c", pools=["user"], window=WINDOW)
    assert "Old exam" not in {o.summary for o in parsed.occurrences(*WINDOW)}
    (problem,) = [p for p in parsed.problems() if p.event == "Old exam"]
    assert problem.kind == "unknown-pool"
    assert problem.start == datetime(2025, 1, 1, 10, tzinfo=UTC)


def test_long_event_starting_before_the_window_is_kept() -> None:
    parsed = parse_calendar(DATA, name="c", pools=["user"], window=WINDOW)
    active = parsed.occurrences(WINDOW[0], WINDOW[0] + timedelta(hours=1))
    assert [o.summary for o in active] == ["Exam month"]


def test_query_outside_the_window_expands_again_from_the_kept_bytes() -> None:
    parsed = parse_calendar(DATA, name="c", pools=["user"], window=WINDOW)
    june = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC))
    assert [o.summary for o in parsed.occurrences(*june)] == ["Summer"]
    assert parsed.window == june  # apart from the window: the query alone is expanded


def test_query_that_meets_the_window_widens_it() -> None:
    parsed = parse_calendar(DATA, name="c", pools=["user"], window=WINDOW)
    wider = (WINDOW[0], datetime(2026, 6, 2, tzinfo=UTC))
    assert "Summer" in [o.summary for o in parsed.occurrences(*wider)]
    assert parsed.window == wider


def test_a_past_week_is_expanded_alone_not_up_to_the_window() -> None:
    """A daily series: the past week holds 7 occurrences, and only those are expanded."""
    daily = calendar(
        event(
            "DESCRIPTION:user: 1",
            "RRULE:FREQ=DAILY",
            uid="d",
            start="DTSTART:20250101T100000Z",
            summary="Daily",
        ).replace("DTEND:20260303T110000Z", "DTEND:20250101T110000Z")
    )
    parsed = parse_calendar(daily, name="c", pools=["user"], window=WINDOW)
    week = (datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 10, tzinfo=UTC))
    assert len(parsed.occurrences(*week)) == 7
    assert parsed.window == week
    assert not [p for p in parsed.problems() if p.kind == "over-limit"]


def test_without_source_only_the_window_is_known() -> None:
    parsed = parse_calendar(DATA, name="c", pools=["user"], window=WINDOW, keep_source=False)
    june = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC))
    assert parsed.occurrences(*june) == []
    assert parsed.window == WINDOW
