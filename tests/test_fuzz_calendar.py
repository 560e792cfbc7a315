"""Fuzz harness (issue #9 item 6): strategies that reach the grammar and the iCal structure.

The default run is modest; the long run sets NPS_FUZZ_EXAMPLES (docs/reliability/benchmarks.md,
"Fuzzing"):
    NPS_FUZZ_EXAMPLES=10000 python -m pytest -q -p no:cacheprovider tests/test_fuzz_calendar.py
Properties: no exception but CalendarError, the good event beside the mutated one always
plans (one bad part never costs the feed), every occurrence is inside the window, aware and
ordered, only ASCII digits become numbers, and the result survives pickling.
"""

from __future__ import annotations

import os
import pickle
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node_placeholder_scaler.ical.calendar import parse_calendar
from node_placeholder_scaler.ical.descriptions import MAX_EVENT_LEAD, parse_description
from node_placeholder_scaler.model import ProblemKind
from testkit.hostile_calendars import GOOD_AT, WINDOW, calendar

pytestmark = pytest.mark.slow  # fuzzes the calendar engine


def fuzz(default: int) -> settings:
    examples = int(os.environ.get("NPS_FUZZ_EXAMPLES", default))
    return settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )


# --- the description grammar -------------------------------------------------------------

UNICODE_DIGITS = "²³¹٣٤۵३๓０１２３𝟙"
DIGITISH = st.text(
    alphabet=st.sampled_from(list("0123456789" + UNICODE_DIGITS + "+-.,e _")),
    min_size=1,
    max_size=12,
)
HUGE = st.integers(1, 6000).map(lambda n: "9" * n)
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**30).map(str),
    DIGITISH,
    HUGE,
    st.sampled_from(["1h30m", "90s", "15m", "2d", "1h²", "٣m", "99999999999999d"]),
)
LABELS = st.sampled_from(
    [
        "user",
        "USER",
        " gpu ",
        "lead",
        "Lead",
        "room",
        "x",
        "us\u200der",
        "user\u00ad",
        "Lecture 3",
        "",
    ]
)
COLONS = st.sampled_from([":", "\uff1a", " : ", ":\u00a0", "\ufe55", ";", ""])
WRAPS = st.sampled_from(
    [
        "{}",
        "<p>{}</p>",
        "<li>{}</li>",
        "{}<br>",
        "<b>{}",
        "&nbsp;{}",
        "<!--{}-->",
        "<style>{}</style>",
        "{}&#178;",
        "<a href='x:1'>{}</a>",
    ]
)
LINE = st.builds(
    lambda w, label, colon, value: w.format(f"{label}{colon}{value}"),
    WRAPS,
    LABELS,
    COLONS,
    NUMBERS,
)
TEXT = st.lists(LINE | st.text(max_size=30), max_size=20).map("\n".join)


@fuzz(300)
@given(TEXT)
def test_grammar_never_raises_and_reads_only_ascii_digits(text: str) -> None:
    parsed = parse_description(text, ["user", "gpu"])
    assert set(parsed.requests) <= {"user", "gpu"}
    assert all(0 <= count <= 999_999 for count in parsed.requests.values())
    assert parsed.lead is None or timedelta(0) <= parsed.lead <= MAX_EVENT_LEAD
    assert all(isinstance(p.kind, ProblemKind) for p in parsed.problems)


@fuzz(200)
@given(st.integers(0, 10**6), st.sampled_from(["", " ", "\u00a0"]), WRAPS)
def test_an_ascii_request_is_read_exactly(count: int, pad: str, wrap: str) -> None:
    if "--" in wrap or "style" in wrap or "#178" in wrap:
        return  # a comment or style block hides the line; &#178; appends a digit
    parsed = parse_description(wrap.format(f"user:{pad}{count}"), ["user"])
    assert dict(parsed.requests) == ({"user": count} if count <= 999_999 else {})


@fuzz(200)
@given(st.text(alphabet=st.sampled_from(list(UNICODE_DIGITS)), min_size=1, max_size=5))
def test_unicode_digits_are_a_problem_not_a_number(digits: str) -> None:
    parsed = parse_description(f"user: {digits}\nlead: {digits}m", ["user"])
    assert not parsed.requests and parsed.lead is None
    assert {p.kind for p in parsed.problems} == {"bad-value", "bad-lead"}


# --- the iCal structure --------------------------------------------------------------------

FREQS = st.sampled_from(
    [
        "SECONDLY",
        "MINUTELY",
        "HOURLY",
        "DAILY",
        "WEEKLY",
        "MONTHLY",
        "YEARLY",
        "daily",
        "FORTNIGHTLY",
        "",
    ]
)
DAYS = st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU", "XX", "mo"])
SMALL = st.one_of(st.integers(-400, 400).map(str), DIGITISH, st.sampled_from(["", "abc", "1.5"]))
BYDAY = st.lists(
    st.builds(
        lambda n, d: f"{n}{d}", st.sampled_from(["", "1", "-1", "2", "+3", "53", "-54", "0"]), DAYS
    ),
    min_size=1,
    max_size=8,
).map(",".join)
UNTIL = st.sampled_from(
    [
        "20260310",
        "20260310T100000Z",
        "20260310T100000",
        "2026",
        "abc",
        "19000101T000000Z",
        "99991231T235959Z",
    ]
)


def _part(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return values.map(lambda v: f"{name}={v}")


RULE_PARTS = st.one_of(
    _part("INTERVAL", SMALL),
    _part("COUNT", SMALL | HUGE),
    _part("UNTIL", UNTIL),
    _part("BYDAY", BYDAY),
    _part("BYMONTHDAY", SMALL),
    _part("BYMONTH", SMALL),
    _part("BYHOUR", SMALL),
    _part("BYMINUTE", SMALL),
    _part("BYSECOND", SMALL),
    _part("BYSETPOS", SMALL),
    _part("BYWEEKNO", SMALL),
    _part("BYYEARDAY", SMALL),
    _part("WKST", DAYS),
    st.sampled_from(["X-FOO=1", "FREQ=DAILY", ""]),
)
RRULE = st.builds(
    lambda freq, parts, sep: sep.join([f"FREQ={freq}", *parts]),
    FREQS,
    st.lists(RULE_PARTS, max_size=5),
    st.sampled_from([";", "; ", ";;"]),
)
STAMP = st.sampled_from(
    [
        "20260303T100000Z",
        "20260303T100000",
        "20260303",
        "19000101T000000Z",
        "00010101T000000Z",
        "99991231T235959Z",
        "20260230T100000Z",
        "abc",
        "20260303T250000Z",
        "20131210Z",
    ]
)
TZIDS = st.sampled_from(
    [
        "",
        ";TZID=Europe/Zurich",
        ";TZID=Mars/Olympus",
        ";TZID=Custom Zone",
        ";TZID=W. Europe Standard Time",
        ";VALUE=DATE",
        ";TZID=",
    ]
)
OFFSETS = st.sampled_from(["+0100", "-0500", "+5328", "+005328", "+2400", "abc", "+0000"])
ZONE_RULES = st.sampled_from(
    [
        "",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "RRULE:FREQ=SECONDLY",
        "RRULE:FREQ=DAILY;INTERVAL=0",
    ]
)
DURATIONS = st.sampled_from(["PT1H", "PT-2H", "P99999999W", "-P1D", "P1D", "abc", "PT0S"])
TRIGGERS = st.sampled_from(["-PT15M", "PT-2H", ";RELATED=START:PT-2H", ";VALUE=DATE-TIME:abc"])
EXTRA = st.one_of(
    st.builds(lambda r: f"RRULE:{r}", RRULE),
    st.builds(lambda tz, s: f"RDATE{tz}:{s}", TZIDS, STAMP),
    st.builds(lambda tz, s: f"EXDATE{tz}:{s}", TZIDS, STAMP),
    st.builds(lambda tz, s: f"DTEND{tz}:{s}", TZIDS, STAMP),
    st.builds(lambda tz, s: f"RECURRENCE-ID{tz}:{s}", TZIDS, STAMP),
    DURATIONS.map(lambda d: f"DURATION:{d}"),
    TRIGGERS.map(lambda t: f"BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER{t}\nEND:VALARM"),
    st.sampled_from(
        [
            "STATUS:CANCELLED",
            "SEQUENCE:٣",
            "SEQUENCE:2",
            "X-FOO;VALUE=DATE:x",
            "DESCRIPTION:user: ²",
            "DESCRIPTION:lead: 99999999999999999999d",
            "DESCRIPTION:user: 2",
            "SUMMARY:\x1b[31mred",
            "BEGIN:VEVENT",
            "END:VALARM",
            'ATTENDEE;CN="a:b":mailto:x',
            "CATEGORIES:a\\,b,c",
        ]
    ),
)


def _event(uid: str, tz: str, start: str, extra: list[str]) -> str:
    return "\n".join(["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART{tz}:{start}", *extra, "END:VEVENT"])


EXTRAS = st.lists(EXTRA, max_size=5)
EVENT = st.builds(_event, st.sampled_from(["a", "b", ""]), TZIDS, STAMP, EXTRAS)
RIVAL = st.builds(_event, st.just("good-1"), TZIDS, STAMP, EXTRAS)  # the good event's UID
ZONE = st.builds(
    lambda offset, rule: "\n".join(
        filter(
            None,
            [
                "BEGIN:VTIMEZONE",
                "TZID:Custom Zone",
                "BEGIN:STANDARD",
                "DTSTART:19700101T000000",
                f"TZOFFSETFROM:{offset}",
                f"TZOFFSETTO:{offset}",
                rule,
                "END:STANDARD",
                "END:VTIMEZONE",
            ],
        )
    ),
    OFFSETS,
    ZONE_RULES,
)
HEADER = st.sampled_from(
    [
        "",
        "X-WR-TIMEZONE:Europe/Zurich",
        "X-WR-TIMEZONE:Mars/Olympus",
        "CALSCALE:JULIAN",
        "METHOD:PUBLISH",
    ]
)


@fuzz(150)
@given(st.lists(ZONE, max_size=2), st.lists(EVENT, min_size=1, max_size=4), HEADER)
def test_mutated_calendar_keeps_the_good_event(
    zones: list[str], events: list[str], header: str
) -> None:
    parsed = parse_calendar(
        calendar(*zones, *events, header=header), name="c", pools=["user"], window=WINDOW
    )
    occurrences = parsed.occurrences(*WINDOW)
    good = [o for o in occurrences if o.summary == "Lecture" and o.start <= GOOD_AT < o.end]
    assert good, parsed.problems()
    for occurrence in occurrences:
        assert occurrence.start.utcoffset() == timedelta(0) and occurrence.end >= occurrence.start
        assert occurrence.start < WINDOW[1] and occurrence.end > WINDOW[0]
    assert all(isinstance(p.kind, ProblemKind) for p in parsed.problems())
    assert pickle.loads(pickle.dumps(parsed)).occurrences(*WINDOW) == occurrences


@fuzz(100)
@given(RIVAL, HEADER)
def test_a_rival_of_the_good_uid_is_an_override_or_a_problem(rival: str, header: str) -> None:
    """An event reusing the good event's UID either overrides it (RECURRENCE-ID) or, when the
    good event no longer plans, a duplicate-uid problem or a problem naming the good event says
    so (an unreadable rival costs its whole UID series): it never disappears silently."""
    parsed = parse_calendar(calendar(rival, header=header), name="c", pools=["user"], window=WINDOW)
    good = [
        o
        for o in parsed.occurrences(*WINDOW)
        if o.summary == "Lecture" and o.start <= GOOD_AT < o.end
    ]
    problems = parsed.problems()
    told = {p.kind for p in problems} & {ProblemKind.DUPLICATE_UID} or {
        p.kind for p in problems if p.event == "Lecture"
    }
    assert good or "RECURRENCE-ID" in rival or told, (rival, problems)


# --- no silent loss: every mutated event occurs or is named by a problem ------------------

IN_WINDOW = st.sampled_from(["20260303T100000Z", "20260303T100000", "20260303", "20260308T233000Z"])
LOSSLESS_EXTRA = st.one_of(
    st.builds(lambda r: f"RRULE:{r}", RRULE),
    st.builds(lambda tz, s: f"RDATE{tz}:{s}", TZIDS, STAMP),
    st.builds(lambda tz, s: f"DTEND{tz}:{s}", TZIDS, STAMP),
    DURATIONS.map(lambda d: f"DURATION:{d}"),
    TRIGGERS.map(lambda t: f"BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER{t}\nEND:VALARM"),
    st.sampled_from(
        [
            "SEQUENCE:٣",
            "X-FOO;VALUE=DATE:x",
            "DESCRIPTION:user: ²",
            "DESCRIPTION:lead: 99999999999999999999d",
            "SUMMARY:ignored second",
        ]
    ),
)


def _lossless_event(index: int, tz: str, start: str, extra: list[str]) -> str:
    return "\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:m{index}",
            f"SUMMARY:M{index}",
            f"DTSTART{tz}:{start}",
            *extra,
            "END:VEVENT",
        ]
    )


LOSSLESS = st.lists(
    st.tuples(TZIDS, IN_WINDOW, st.lists(LOSSLESS_EXTRA, max_size=4)), min_size=1, max_size=4
)


@fuzz(150)
@given(st.lists(ZONE, max_size=1), LOSSLESS, HEADER)
def test_no_event_is_lost_silently(
    zones: list[str], specs: list[tuple[str, str, list[str]]], header: str
) -> None:
    events = [_lossless_event(i, *spec) for i, spec in enumerate(specs)]
    parsed = parse_calendar(
        calendar(*zones, *events, header=header), name="c", pools=["user"], window=WINDOW
    )
    occurring = {o.uid for o in parsed.occurrences(*WINDOW)}
    named = {p.event for p in parsed.problems()}
    for index in range(len(specs)):
        assert f"m{index}" in occurring or f"M{index}" in named, (
            f"event M{index} vanished without a problem: {events[index]!r}"
        )
