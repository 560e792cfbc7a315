"""Hostile calendar inputs from issue #9 (and the fuzz findings), shared by tests and bench.

Every case is one feed: a good event "Lecture" (``user: 3``, 2026-03-02 10:00-11:00 UTC)
beside the hostile part, so a test can check that the damage stays inside the hostile part
(the good event still plans) and that it is a reported problem of the expected kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
GOOD_AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)  # inside the good event
WINDOW = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC))

GOOD_EVENT = """BEGIN:VEVENT
UID:good-1
DTSTAMP:20260201T000000Z
DTSTART:20260302T100000Z
DTEND:20260302T110000Z
SUMMARY:Lecture
DESCRIPTION:user: 3
END:VEVENT"""


def event(
    *lines: str,
    uid: str = "bad-1",
    start: str = "DTSTART:20260303T100000Z",
    summary: str = "Hostile",
) -> str:
    """A VEVENT with the given extra lines (DTSTART and DTEND unless overridden)."""
    head = [f"UID:{uid}", "DTSTAMP:20260201T000000Z", start, f"SUMMARY:{summary}"]
    if not any(line.startswith(("DTEND", "DURATION")) for line in lines):
        head.append("DTEND:20260303T110000Z" if "T" in start else "")
    body = [line for line in (*head, *lines) if line]
    return "\n".join(["BEGIN:VEVENT", *body, "END:VEVENT"])


def calendar(*components: str, header: str = "") -> bytes:
    """A VCALENDAR with the good event and the given components (CRLF line ends)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//hostile//EN",
        *filter(None, [header]),
        GOOD_EVENT,
        *components,
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join("\n".join(lines).split("\n")).encode()


def zone(tzid: str, offset: str, rule: str = "") -> str:
    """A VTIMEZONE with one STANDARD part at ``offset`` (e.g. +0200)."""
    return "\n".join(
        filter(
            None,
            [
                "BEGIN:VTIMEZONE",
                f"TZID:{tzid}",
                "BEGIN:STANDARD",
                "DTSTART:19700101T000000",
                f"TZOFFSETFROM:{offset}",
                f"TZOFFSETTO:{offset}",
                rule,
                "END:STANDARD",
                "END:VTIMEZONE",
            ],
        )
    )


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    kinds: frozenset[str]  # the problem kinds the feed reports (exactly these)
    hostile_target: int | None = None  # user target at 2026-03-03 10:30 UTC (None: no check)


def _case(
    name: str, components: list[str], kinds: set[str], hostile: int | None = None, header: str = ""
) -> Case:
    return Case(name, calendar(*components, header=header), frozenset(kinds), hostile)


def cases() -> list[Case]:
    """Every hostile input, small enough for a unit test."""
    digits = "9" * 5000
    return [
        _case(
            "lead: ² (superscript digit)", [event("DESCRIPTION:user: 2\\nlead: ²")], {"bad-lead"}, 2
        ),
        _case("user: ² (superscript digit)", [event("DESCRIPTION:user: ²")], {"bad-value"}, 0),
        _case("user: ٣ (Arabic-Indic digit)", [event("DESCRIPTION:user: ٣")], {"bad-value"}, 0),
        _case("user: 5000 digits", [event(f"DESCRIPTION:user: {digits}")], {"bad-value"}, 0),
        _case(
            "lead: overflowing duration",
            [event("DESCRIPTION:user: 1\\nlead: 99999999999999999999d")],
            {"bad-lead"},
            1,
        ),
        _case("user\uff1a3 (full-width colon)", [event("DESCRIPTION:user\uff1a3")], set(), 3),
        _case("zero-width joiner in user", [event("DESCRIPTION:us\u200der: 2")], set(), 2),
        _case(
            "RRULE FREQ=SECONDLY",
            [event("RRULE:FREQ=SECONDLY", "DESCRIPTION:user: 1")],
            {"bad-rule"},
            1,
        ),
        _case(
            "RRULE FREQ=MINUTELY from 1970",
            [
                event(
                    "RRULE:FREQ=MINUTELY",
                    "DESCRIPTION:user: 1",
                    start="DTSTART:19700101T000000Z",
                ).replace("DTEND:20260303T110000Z", "DTEND:19700101T000100Z")
            ],
            {"bad-rule"},
        ),
        _case(
            "RRULE INTERVAL=0",
            [event("RRULE:FREQ=DAILY;INTERVAL=0", "DESCRIPTION:user: 1")],
            {"bad-rule"},
            1,
        ),
        _case(
            "RRULE INTERVAL=-1",
            [event("RRULE:FREQ=DAILY;INTERVAL=-1", "DESCRIPTION:user: 1")],
            {"bad-rule"},
            1,
        ),
        _case(
            "RRULE COUNT=abc",
            [event("RRULE:FREQ=DAILY;COUNT=abc", "DESCRIPTION:user: 1")],
            {"bad-rule"},
            1,
        ),
        _case(
            "RRULE BYDAY with spaces (CDO)",
            [event("RRULE:FREQ=WEEKLY;BYDAY=MO, TU, WE", "DESCRIPTION:user: 1")],
            {"bad-rule"},
            1,
        ),
        _case(
            "RDATE:20131210Z (Google birthday)",
            [event("RRULE:FREQ=YEARLY", "RDATE:20131210Z", "DESCRIPTION:user: 1")],
            {"bad-rule"},
            1,
        ),
        _case(
            "RRULE UNTIL before DTSTART",
            [event("RRULE:FREQ=DAILY;UNTIL=19000101T000000Z", "DESCRIPTION:user: 1")],
            {"bad-rule"},
            1,
        ),
        _case(
            "RRULE never matching (Feb 30)",
            [event("RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "DESCRIPTION:user: 1")],
            {"bad-rule"},
            1,
        ),
        _case(
            "RRULE hourly, BYSETPOS never matching",
            [event("RRULE:FREQ=HOURLY;BYHOUR=5;BYSETPOS=2", "DESCRIPTION:user: 1")],
            {"over-limit"},
            1,
        ),
        _case(
            "RRULE hourly from year 1900",
            [
                event(
                    "RRULE:FREQ=HOURLY", "DESCRIPTION:user: 1", start="DTSTART:19000101T100000Z"
                ).replace("DTEND:20260303T110000Z", "DTEND:19000101T103000Z")
            ],
            {"over-limit"},
        ),
        _case(
            "VTIMEZONE with FREQ=SECONDLY",
            [
                zone("Hostile Zone", "+0100", "RRULE:FREQ=SECONDLY"),
                event(
                    "DESCRIPTION:user: 1",
                    start="DTSTART;TZID=Hostile Zone:20260303T113000",
                ).replace("DTEND:20260303T110000Z", "DURATION:PT1H"),
            ],
            {"bad-component"},
            1,
        ),  # the observance's own +0100: 10:30 UTC
        _case(
            "TZOFFSETFROM:+5328 (Apple)",
            [zone("Apple Zone", "+5328"), event("DESCRIPTION:user: 1")],
            set(),
            1,
        ),
        _case(
            "VALARM TRIGGER;RELATED=START:PT-2H",
            [
                event(
                    "DESCRIPTION:user: 1",
                    "BEGIN:VALARM",
                    "ACTION:DISPLAY",
                    "TRIGGER;RELATED=START:PT-2H",
                    "END:VALARM",
                )
            ],
            set(),
            1,
        ),
        _case(
            "broken X- property",
            [event("DESCRIPTION:user: 1", "X-FOO;VALUE=DATE:notadate")],
            set(),
            1,
        ),
        _case(
            "DTEND before DTSTART",
            [event("DTEND:20260303T090000Z", "DESCRIPTION:user: 1")],
            {"bad-time"},
        ),
        _case(
            "DTEND far before DTSTART (fuzz finding)",
            [event("DTEND:19000101T000000Z", "DESCRIPTION:user: 1")],
            {"bad-time"},
        ),
        _case(
            "duplicate UID",
            [
                event("DESCRIPTION:user: 1"),
                event("DESCRIPTION:user: 2", start="DTSTART:20260303T100500Z"),
            ],
            {"duplicate-uid"},
            3,
        ),
        _case(
            "unknown TZID",
            [
                event(
                    "DESCRIPTION:user: 1",
                    start="DTSTART;TZID=Mars/Olympus:20260303T100000",
                ).replace("DTEND:20260303T110000Z", "DURATION:PT1H")
            ],
            {"unknown-zone"},
            1,
        ),
        _case(
            "DTSTART unreadable",
            [event("DESCRIPTION:user: 1", start="DTSTART:notadate")],
            {"bad-component"},
        ),
        _case(
            "DURATION overflowing",
            [event("DESCRIPTION:user: 1", "DURATION:P99999999W")],
            {"bad-time"},
        ),
        _case(
            "VEVENT not closed",
            [
                "BEGIN:VEVENT\nUID:open\nDTSTART:20260303T100000Z\nDTEND:20260303T110000Z\n"
                "DESCRIPTION:user: 1"
            ],
            {"bad-component"},
            1,
        ),
        _case(
            "nested VEVENTs",
            ["\n".join(["BEGIN:VEVENT"] * 300 + ["END:VEVENT"] * 300)],
            {"bad-component"},
        ),
        _case(
            "unknown X-WR-TIMEZONE",
            [event("DESCRIPTION:user: 1")],
            {"calendar-error"},
            1,
            header="X-WR-TIMEZONE:Mars/Olympus",
        ),
    ]


def large_cases() -> list[Case]:
    """Inputs too big for a unit test run of every commit (bench/hostile_calendar.py)."""
    spaces = "user" + " " * 2_000_000 + "x: 1"
    tags = "<b>" * 700_000 + "user: 1"
    many = [event(f"DESCRIPTION:user: {i % 3}", uid=f"e{i}") for i in range(35_000)]
    return [
        _case("description: 2 MB of spaces", [event(f"DESCRIPTION:{spaces}")], {"bad-text"}),
        _case("description: 2 MB of tags", [event(f"DESCRIPTION:{tags}")], {"bad-text"}),
        _case("35,000 events, all in the 15-day window", many, {"over-limit"}),
    ]
