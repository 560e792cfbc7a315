"""What calendar programs send, planned as they show it (fixtures in tests/fixtures/programs).

Each case: the instants a calendar program shows for the fixture, and the problem that says
what is malformed and what to fix (docs/concepts/calendar-programs.md has the table).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from node_placeholder_scaler import cli
from node_placeholder_scaler.ical.calendar import ParsedCalendar, parse_calendar
from node_placeholder_scaler.ical.timezones import error_text
from node_placeholder_scaler.ical.windowszones import zone_for_display_name

PROGRAMS = Path(__file__).parent / "fixtures" / "programs"
UTC = ZoneInfo("UTC")
MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
INTERNAL = re.compile(
    r"object has no attribute|object is not|NoneType|unsupported operand|"
    r"Traceback|KeyError|IndexError|takes \d+ positional"
)


def _parse(name: str) -> ParsedCalendar:
    return parse_calendar((PROGRAMS / name).read_bytes(), name="c", pools=["user"], window=MARCH)


def _times(parsed: ParsedCalendar) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for o in parsed.occurrences(*MARCH):
        found.setdefault(o.summary, []).append(
            (o.start.strftime("%m-%d %H:%M"), o.end.strftime("%m-%d %H:%M"))
        )
    return found


def _messages(parsed: ParsedCalendar) -> list[str]:
    return [p.message for p in parsed.problems()]


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
        ("(UTC-08:00) Pacific Time (US & Canada)", "America/Los_Angeles"),
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),
        ("(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata"),
        ("(UTC+00:00) Dublin, Edinburgh, Lisbon, London", "Europe/London"),
        ("(GMT+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
        ("Kuala Lumpur, Singapore", "Asia/Singapore"),
        ("(UTC) Coordinated Universal Time", "UTC"),
        ("(UTC+12:00) Coordinated Universal Time+12", "Etc/GMT-12"),
        ("(UTC-05:00) Haiti", "America/Port-au-Prince"),
        ("(UTC-03:00) City of Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("(UTC+10:30) Lord Howe Island", "Australia/Lord_Howe"),
        ("(UTC-05:00) Tokyo", None),  # the offset contradicts the place: not mapped
        ("Eastern", None),  # one bare word is too little
        ("Customized Time Zone", None),
    ],
)
def test_windows_display_names_map_by_the_documented_rule(name: str, zone: str | None) -> None:
    assert zone_for_display_name(name) == zone


def test_outlook_on_the_web_display_names_are_read_as_outlook_reads_them() -> None:
    parsed = _parse("owa-display-names.ics")
    times = _times(parsed)
    assert times["Lab New York"] == [("03-10 13:00", "03-10 15:00")]  # 09:00 EDT
    assert times["Weekly lab New York"] == [  # 09:00 EST, then EDT; the EXDATE excludes
        ("03-03 14:00", "03-03 15:00"),
        ("03-17 13:00", "03-17 14:00"),
    ]
    assert times["Lab Sydney"] == [("03-09 22:00", "03-09 23:00")]  # 09:00 AEDT
    assert times["Lab somewhere"] == [("03-10 09:00", "03-10 10:00")]  # unknown: UTC
    by_event = {p.event: p.message for p in parsed.problems()}
    assert "read as America/New_York" in by_event["Lab New York"]
    assert "read as Australia/Sydney" in by_event["Lab Sydney"]
    assert "names no known zone" in by_event["Lab somewhere"]


def test_a_tzid_with_a_trailing_space_finds_its_vtimezone() -> None:
    parsed = _parse("tzid-trailing-space.ics")
    assert [p.event for p in parsed.problems()] == ["Seminar"]  # the event the zone affects
    assert _times(parsed)["Seminar"] == [("03-10 09:00", "03-10 11:00")]  # 10:00 CET
    (message,) = _messages(parsed)
    assert "spaces around its TZID" in message and "remove the spaces" in message
    assert "no readable VTIMEZONE" not in message


def test_an_unreadable_dtend_keeps_the_series() -> None:
    parsed = _parse("unreadable-dtend.ics")
    assert _times(parsed)["Weekly lab day"] == [
        ("03-02 00:00", "03-03 00:00"),
        ("03-09 00:00", "03-10 00:00"),
        ("03-16 00:00", "03-17 00:00"),
    ]
    (problem,) = parsed.problems()
    assert problem.event == "Weekly lab day"
    assert problem.message == (
        "DTEND cannot be read; the event is read without an end (write "
        "a date YYYYMMDD or a date-time YYYYMMDDTHHMMSS)"
    )


def test_trailing_spaces_in_time_and_rule_values_are_dropped() -> None:
    parsed = _parse("trailing-spaces.ics")
    assert _times(parsed)["Monthly GPU check"] == [  # first Mondays, April excluded
        ("03-02 09:50", "03-02 10:00"),
        ("05-04 09:50", "05-04 10:00"),
        ("06-01 09:50", "06-01 10:00"),
    ]
    said = {m.split(" ", 1)[0] for m in _messages(parsed) if "ends in spaces" in m}
    assert said == {"DTSTART", "DURATION", "RRULE", "EXDATE"}
    assert all(p.event == "Monthly GPU check" for p in parsed.problems())


def test_a_zone_observance_with_an_unusable_rule_keeps_its_own_offset() -> None:
    parsed = _parse("zone-unusable-rule.ics")
    assert [p.event for p in parsed.problems()] == ["Lecture on campus"]  # the zone's event
    assert _times(parsed)["Lecture on campus"] == [("03-10 09:00", "03-10 10:00")]  # +0100
    (message,) = _messages(parsed)
    assert "'Campus Time'" in message and "FREQ=SECONDLY" in message
    assert "+0100 is used" in message


def test_a_zone_with_two_tzids_is_named_without_internal_error_text() -> None:
    parsed = _parse("zone-two-tzids.ics")
    assert [p.event for p in parsed.problems()] == ["Open lab day"]  # the event the zone affects
    assert _times(parsed)["Open lab day"] == [("03-10 09:00", "03-10 15:00")]  # IANA Vienna
    (message,) = _messages(parsed)
    assert "2 TZID lines ('Europe/Vienna', 'America/Chicago')" in message
    assert not INTERNAL.search(message)


def test_a_programming_error_never_becomes_problem_text() -> None:
    assert error_text(AttributeError("'list' object has no attribute 'strip'")) == (
        "a value is not as RFC 5545 requires"
    )
    assert error_text(ValueError("invalid offset: abc")) == "invalid offset: abc"


@pytest.mark.usefixtures("keep_root_logger")
def test_plan_of_a_past_window_expands_that_window_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An hourly series since 2024: a past morning plans 4 probes, and nothing reports the
    thousands of occurrences between that morning and now."""
    config = tmp_path / "c.yaml"
    config.write_text(
        f'calendars:\n  - name: c\n    url: "{PROGRAMS / "hourly-since-2024.ics"}"'
        "\npools:\n  user:\n    maxReplicas: 10\n"
    )
    code = cli.main(
        [
            "plan",
            "--from",
            "2025-03-03T00:00Z",
            "--to",
            "2025-03-03T03:30Z",
            "--config",
            str(config),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    probes = [line for line in out.splitlines() if line.endswith("Hourly probe")]
    assert [line[:16] for line in probes] == [f"2025-03-03 0{hour}:00" for hour in range(4)]
    assert "Problems" not in out and "more than" not in out


@pytest.mark.parametrize("tzid", ["A" * 5000, "Europe/Berlin\x01"])
def test_a_tzid_no_zone_can_have_keeps_the_event_in_the_calendars_zone(tzid: str) -> None:
    """A 5000-character TZID made the zone lookup fail with the zone file's path."""
    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:long\r\nSUMMARY:Lab\r\n"
        f"DTSTART;TZID={tzid}:20260303T100000\r\nDTEND;TZID={tzid}:20260303T110000\r\n"
        "DESCRIPTION:user: 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    parsed = parse_calendar(data, name="c", pools=["user"], window=MARCH)
    assert _times(parsed)["Lab"] == [("03-03 10:00", "03-03 11:00")]  # the calendar's UTC
    (problem,) = parsed.problems()
    assert problem.event == "Lab" and "use an IANA zone name" in problem.message
    assert "Errno" not in problem.message and "site-packages" not in problem.message
