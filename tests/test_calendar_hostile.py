"""Hostile calendars (issue #9): the damage stays inside the hostile part and is reported."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta

import pytest

from node_placeholder_scaler.ical.calendar import Limits, ParsedCalendar, parse_calendar
from testkit.hostile_calendars import GOOD_AT, UTC, WINDOW, Case, calendar, cases, event, zone

pytestmark = pytest.mark.slow  # waits on the parser's real time limits

HOSTILE_AT = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)


def _parse(data: bytes) -> ParsedCalendar:
    return parse_calendar(data, name="c", pools=["user"], window=WINDOW)


def _target(calendar_: ParsedCalendar, at: datetime) -> int:
    active = calendar_.occurrences(at, at + timedelta(seconds=1))
    return sum(o.requests.get("user", 0) for o in active)


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.name)
def test_hostile_part_stays_inside_and_is_reported(case: Case) -> None:
    parsed = _parse(case.data)
    assert _target(parsed, GOOD_AT) == 3, "the good event beside it still plans"
    kinds = {p.kind for p in parsed.problems()}
    assert kinds == case.kinds, parsed.problems()
    if case.hostile_target is not None:
        assert _target(parsed, HOSTILE_AT) == case.hostile_target
    assert pickle.loads(pickle.dumps(parsed)).occurrences(*WINDOW) == parsed.occurrences(*WINDOW)


def test_unreadable_rule_names_event_and_date() -> None:
    parsed = _parse(calendar(event("RRULE:FREQ=DAILY;COUNT=abc", summary="Stats lab")))
    (problem,) = [p for p in parsed.warnings if p.kind == "bad-rule"]
    assert problem.event == "Stats lab"
    assert problem.start == datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert "COUNT" in problem.message


def test_first_summary_names_the_event() -> None:
    """Fuzz finding: two SUMMARY lines named the event by both titles joined."""
    parsed = _parse(calendar(event("SUMMARY:second title", "DTEND:19000101T000000Z")))
    assert {p.event for p in parsed.warnings} == {"Hostile"}


def test_one_unexpandable_series_does_not_zero_the_calendar() -> None:
    """Issue: INTERVAL=-1 beside a valid event gave every pool a target of 0."""
    parsed = _parse(calendar(event("RRULE:FREQ=DAILY;INTERVAL=-1", "DESCRIPTION:user: 1")))
    assert _target(parsed, GOOD_AT) == 3
    assert {p.kind for p in parsed.warnings} == {"bad-rule"}


def test_rule_with_spaces_is_read_and_reported() -> None:
    parsed = _parse(
        calendar(event("RRULE:FREQ=DAILY;BYDAY=MO, TU, WE, TH, FR", "DESCRIPTION:user: 1"))
    )
    starts = [
        o.start.date().isoformat() for o in parsed.occurrences(*WINDOW) if o.summary == "Hostile"
    ]
    assert starts[:4] == ["2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]
    assert "2026-03-07" not in starts
    assert {p.kind for p in parsed.warnings} == {"bad-rule"}


def test_over_limit_series_is_capped_and_reported() -> None:
    parsed = parse_calendar(
        calendar(event("RRULE:FREQ=HOURLY", "DESCRIPTION:user: 1")),
        name="c",
        pools=["user"],
        window=WINDOW,
        limits=Limits(max_per_series=100),
    )
    hourly = [o for o in parsed.occurrences(*WINDOW) if o.summary == "Hostile"]
    assert len(hourly) == 100
    assert "over-limit" in {p.kind for p in parsed.warnings}


CUSTOM = "Customized Time Zone"


def _custom_feed(offset: str) -> bytes:
    return calendar(
        zone(CUSTOM, offset),
        event(
            "DESCRIPTION:user: 1", "DURATION:PT1H", start=f"DTSTART;TZID={CUSTOM}:20260303T120000"
        ),
    )


def _hostile_start(data: bytes) -> datetime:
    (occurrence,) = [o for o in _parse(data).occurrences(*WINDOW) if o.summary == "Hostile"]
    return occurrence.start


def test_custom_zones_are_scoped_to_their_feed() -> None:
    """Two feeds name different zones "Customized Time Zone"; a zone that changes is re-read."""
    assert _hostile_start(_custom_feed("+0200")) == datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert _hostile_start(_custom_feed("-0500")) == datetime(2026, 3, 3, 17, tzinfo=UTC)
    assert _hostile_start(_custom_feed("+0200")) == datetime(2026, 3, 3, 10, tzinfo=UTC)


def test_cut_off_feed_is_rejected_whole() -> None:
    from node_placeholder_scaler.ical.calendar import CalendarError

    with pytest.raises(CalendarError, match="END:VCALENDAR"):
        _parse(calendar()[:-20])


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_series_time_limit_survives_a_swallowed_alarm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Long fuzz finding: a SeriesTimeout raised inside a finaliser is swallowed by Python;
    the alarm repeats, so the limit still ends the body (a single alarm would let the loop
    run its 10 s and end without SeriesTimeout)."""
    import gc
    import sys
    import time

    from node_placeholder_scaler.ical.bounds import SeriesTimeout, time_limit

    class Swallower:
        def __del__(self) -> None:
            time.sleep(0.5)  # the first alarm fires here and is swallowed

    # Python hands the swallowed exception to sys.unraisablehook; pytest's own hook formats a
    # traceback there, which the repeating alarm interrupted on a loaded machine (a flake).
    swallowed: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: swallowed.append(u.exc_type))
    doomed = Swallower()
    started = time.monotonic()
    with pytest.raises(SeriesTimeout), time_limit(0.1):
        del doomed  # its finaliser runs now, within the limit
        gc.collect()
        while time.monotonic() - started < 10:
            pass
    # The first alarm was swallowed (on a loaded machine a second can land in the same finaliser
    # and be swallowed too: how many is the machine's timing), and a later one ended the body.
    assert swallowed and set(swallowed) == {SeriesTimeout}, swallowed
