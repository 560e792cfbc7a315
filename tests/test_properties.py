"""Property tests: any text in, a result or a reported problem out, never an exception."""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node_placeholder_scaler.config.settings import ConfigError, load_settings
from node_placeholder_scaler.feeds.book import CalendarBook
from node_placeholder_scaler.feeds.worker import work
from node_placeholder_scaler.ical.calendar import CalendarError, parse_calendar
from node_placeholder_scaler.ical.descriptions import parse_description
from node_placeholder_scaler.planning import plan as plan_at
from testkit.ics import Event
from testkit.ics import calendar as ics_calendar
from testkit.unit import FIXTURES, make_settings

pytestmark = pytest.mark.slow  # property tests over many examples

UTC = ZoneInfo("UTC")
LINES = st.sampled_from(
    [
        "user: 3",
        "gpu: 1",
        "lead: 15m",
        "user: lots",
        "gpuu: 2",
        "<br>",
        "</p>",
        "&nbsp;",
        "<li>user: 2</li>",
        "free text",
        ":",
        "user:",
        ": 3",
        "lead: -5m",
        "\u00a0",
        "<",
        "&",
    ]
)


@given(st.text())
def test_any_description_text(text: str) -> None:
    parsed = parse_description(text, ["user", "gpu"])
    assert all(count >= 0 for count in parsed.requests.values())
    assert set(parsed.requests) <= {"user", "gpu"}


@given(st.lists(LINES | st.text(max_size=20), max_size=12))
def test_any_description_lines(lines: list[str]) -> None:
    parsed = parse_description("\n".join(lines), ["user", "gpu"])
    assert parsed.lead is None or parsed.lead >= timedelta(0)


def _plan_on(data: bytes) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    try:
        calendar = parse_calendar(
            data, name="x", pools=["user"], window=(start, start + timedelta(days=30))
        )
    except CalendarError:
        return
    for occurrence in calendar.occurrences(start, start + timedelta(days=30)):
        assert occurrence.start.tzinfo is not None and occurrence.end >= occurrence.start
    calendar.problems()


# Feeds a calendar app could serve: escaped and folded by the icalendar library, so every
# example reaches the event parser, the description grammar and the planner (random bytes
# stop at the first line).
MARCH = datetime(2026, 3, 2, tzinfo=UTC)
EVENTS = st.lists(
    st.builds(
        lambda summary, minute, length, lines: Event(
            summary,
            MARCH + timedelta(minutes=minute),
            MARCH + timedelta(minutes=minute + length),
            "\n".join(lines),
        ),
        st.text(min_size=1, max_size=20).filter(str.strip),
        st.integers(0, 14 * 24 * 60),
        st.integers(1, 300),
        st.lists(LINES | st.text(max_size=20), max_size=6),
    ),
    min_size=1,
    max_size=8,
)


def _requested(event: Event) -> int:
    return parse_description(event.description, ["user"]).requests.get("user", 0)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS)
def test_any_feed_of_events_is_parsed_event_by_event(events: list[Event]) -> None:
    data = ics_calendar(events)
    parsed = parse_calendar(
        data, name="x", pools=["user"], window=(MARCH, MARCH + timedelta(days=16))
    )
    occurrences = parsed.occurrences(MARCH, MARCH + timedelta(days=16))
    assert sorted((o.start, o.end, o.requests.get("user", 0)) for o in occurrences) == sorted(
        (e.start, e.end, _requested(e)) for e in events
    ), parsed.problems()
    _plan_on(data)


GOOGLE = (FIXTURES / "google.ics").read_bytes()


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(0, len(GOOGLE)), st.integers(0, len(GOOGLE)), st.binary(max_size=40))
def test_mangled_real_feed(cut: int, at: int, junk: bytes) -> None:
    _plan_on(GOOGLE[:cut] + junk + GOOGLE[at:])


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS, st.integers(0, 14 * 24 * 60))
def test_book_plans_any_feed_of_events(events: list[Event], minute: int) -> None:
    settings_ = make_settings("calendars: [{name: a, url: a.ics}]\npools: {user: {}}\n")
    packed = zlib.compress(ics_calendar(events))  # the worker's work, inline, without a fetch
    book = CalendarBook(settings_, runner=lambda job, cancel: work(replace(job, packed=packed)))
    book.refresh(MARCH)
    at = MARCH + timedelta(minutes=minute, seconds=30)
    plan = plan_at(book.views(MARCH), book.settings, at)
    assert set(plan.pools) == {"user"} and plan.pools["user"].known
    running = [e for e in events if e.start <= at < e.end]
    assert plan.pools["user"].target >= sum(_requested(e) for e in running)


@given(st.text(max_size=300))
def test_any_config_text_is_settings_or_config_error(text: str) -> None:
    try:
        load_settings(text, "c.yaml", {})
    except ConfigError as error:
        assert str(error).startswith("c.yaml")
