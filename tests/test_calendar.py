"""Calendar semantics, table-driven over Google, Outlook and Nextcloud shaped feeds."""

from __future__ import annotations

import pytest

from testkit.unit import book_for, utc

CONFIG = """
timezone: Europe/Zurich
leadTime: 10m
calendars:
  - {name: google, url: FIXTURES/google.ics}
  - {name: outlook, url: FIXTURES/outlook.ics}
  - {name: nextcloud, url: FIXTURES/nextcloud.ics}
pools:
  user: {maxReplicas: 10}
  gpu: {maxReplicas: 2, leadTime: 30m}
"""

# (instant in UTC, user target, gpu target, active event titles, problem kinds, why)
CASES = [
    ("2026-03-02T16:39", 0, 1, {"Data 8 lecture"}, set(), "gpu lead 30m opens before user"),
    ("2026-03-02T16:40", 3, 1, {"Data 8 lecture"}, set(), "Google HTML, TZID, lead 10m"),
    ("2026-03-02T17:09", 3, 1, {"Data 8 lecture"}, set(), "inside the event"),
    ("2026-03-02T17:10", 0, 0, set(), set(), "end is exclusive"),
    ("2026-03-04T16:45", 0, 0, set(), set(), "EXDATE removes an occurrence"),
    ("2026-03-09T15:45", 3, 1, {"Data 8 lecture"}, set(), "US DST: 08:50 PDT is 15:50Z"),
    ("2026-03-09T16:45", 0, 0, set(), set(), "not at the pre-DST UTC time"),
    ("2026-03-11T15:45", 0, 0, set(), set(), "moved occurrence: not at its old time"),
    ("2026-03-11T17:25", 3, 1, {"Data 8 lecture (moved)"}, set(), "moved: at its new time"),
    ("2026-03-18T15:45", 0, 0, set(), set(), "cancelled occurrence (RECURRENCE-ID)"),
    ("2026-03-30T15:45", 3, 1, {"Data 8 lecture"}, set(), "last occurrence before UNTIL"),
    ("2026-04-01T15:45", 0, 0, set(), set(), "UNTIL ends the series"),
    ("2026-03-10T15:59", 0, 0, set(), set(), "event lead 30m: not yet"),
    ("2026-03-10T16:00", 5, 0, {"Data 8 midterm"}, {"unknown-pool"}, "lead: 30m, typo gpuu"),
    ("2026-03-05T15:55", 2, 0, {"Lab (UTC-stamped series)"}, set(), "X-WR-TIMEZONE series"),
    ("2026-03-12T14:55", 2, 0, {"Lab (UTC-stamped series)"}, set(), "keeps local 08:00 over DST"),
    ("2026-03-20T06:55", 1, 0, {"Project day"}, set(), "all-day in X-WR zone (LA midnight)"),
    ("2026-03-21T06:59", 1, 0, {"Project day"}, set(), "all-day end exclusive, local"),
    ("2026-03-21T07:00", 0, 0, set(), set(), "next LA midnight ends it"),
    ("2026-03-03T06:40", 4, 0, {"Statistik I"}, set(), "Outlook Windows TZID, plain desc"),
    ("2026-03-17T06:45", 0, 0, set(), set(), "Outlook EXDATE"),
    ("2026-03-24T05:45", 0, 0, set(), set(), "EU DST not yet: CET"),
    ("2026-03-31T05:45", 4, 0, {"Statistik I"}, set(), "after EU DST: 07:50 CEST = 05:50Z"),
    ("2026-03-31T10:35", 0, 2, {"GPU-Praktikum"}, set(), "custom VTIMEZONE, X-ALT-DESC"),
    ("2026-03-31T10:55", 1, 2, {"GPU-Praktikum"}, set(), "pool lead vs global lead"),
    ("2026-03-05T06:55", 0, 0, set(), set(), "cancelled Outlook event"),
    ("2026-10-26T06:55", 2, 0, {"Prüfung Lineare Algebra"}, {"bad-value"}, "bad line, good one"),
    ("2026-03-23T07:25", 2, 0, {"Renku workshop"}, set(), "Nextcloud lead: 20m"),
    ("2026-03-25T07:30", 0, 0, set(), set(), "Nextcloud EXDATE"),
    ("2026-04-03T06:30", 2, 0, {"Renku workshop"}, set(), "COUNT=10 weekdays reaches Apr 3"),
    ("2026-04-06T06:30", 0, 0, set(), set(), "COUNT exhausted"),
    ("2026-04-04T06:30", 2, 0, {"Renku workshop"}, set(), "RDATE adds a Saturday"),
    ("2026-03-24T13:05", 1, 0, {"Floating hackathon"}, set(), "floating time in config zone"),
    ("2026-03-28T22:49", 0, 0, set(), set(), "before all-day (lead 10m)"),
    ("2026-03-28T23:00", 1, 0, {"Deadline day (DST change)"}, set(), "all-day with lead"),
    ("2026-03-29T21:59", 1, 0, {"Deadline day (DST change)"}, set(), "23h day"),
    ("2026-03-29T22:00", 0, 0, set(), set(), "ends at local midnight CEST"),
    ("2026-03-24T07:50", 2, 2, {"Cool-off", "Renku workshop"}, {"clamped"}, "sum, clamp, 0"),
    ("2026-03-24T08:05", 2, 0, {"Renku workshop"}, set(), "cool-off over"),
]


@pytest.fixture(scope="module")
def book():
    return book_for(CONFIG, utc("2026-03-01T00:00"))


@pytest.mark.parametrize(
    ("at", "user", "gpu", "events", "kinds", "why"), CASES, ids=[c[0] + " " + c[5] for c in CASES]
)
def test_targets(book, at, user, gpu, events, kinds, why):
    plan = book.plan(utc(at))
    assert (plan.pools["user"].target, plan.pools["gpu"].target) == (user, gpu), why
    assert {o.summary for o in plan.events} == events, why
    assert {p.kind for p in plan.problems} == kinds, why


COOL_OFF = r"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:cool-off-1
DTSTAMP:20260201T090000Z
DTSTART:20260324T080000Z
DTEND:20260324T090000Z
SUMMARY:Maintenance window
DESCRIPTION:Hold the pool empty\nuser: 0
END:VEVENT
END:VCALENDAR
"""


def test_cool_off_zero_holds_pool_at_zero_over_min(tmp_path):
    (tmp_path / "c.ics").write_text(COOL_OFF)
    book = book_for(
        f"""
calendars: [{{name: n, url: {tmp_path}/c.ics}}]
pools: {{user: {{minReplicas: 2}}, gpu: {{minReplicas: 1}}}}
""",
        utc("2026-03-01T00:00"),
    )
    during = book.plan(utc("2026-03-24T08:30"))
    assert (during.pools["user"].target, during.pools["gpu"].target) == (0, 1)
    after = book.plan(utc("2026-03-24T09:00"))
    assert (after.pools["user"].target, after.pools["gpu"].target) == (2, 1)


def test_overlap_max_takes_the_largest():
    book = book_for(
        """
overlap: max
timezone: Europe/Zurich
calendars: [{name: n, url: FIXTURES/nextcloud.ics}]
pools: {user: {}, gpu: {}}
""",
        utc("2026-03-01T00:00"),
    )
    plan = book.plan(utc("2026-03-24T07:50"))
    assert plan.pools["user"].target == 2
    assert plan.pools["gpu"].target == 3
    assert not plan.problems


def test_allow_list_ignores_and_reports_other_pools():
    book = book_for(
        """
timezone: Europe/Zurich
calendars: [{name: n, url: FIXTURES/nextcloud.ics, pools: [user]}]
pools: {user: {}, gpu: {}}
""",
        utc("2026-03-01T00:00"),
    )
    plan = book.plan(utc("2026-03-24T07:50"))
    assert plan.pools["gpu"].target == 0
    assert plan.pools["user"].target == 2
    assert [p.kind for p in plan.problems] == ["not-allowed"]


def test_source_timezone_beats_x_wr_timezone_and_global():
    # Google's all-day "Project day" read in Zurich instead of Los Angeles.
    book = book_for(
        """
timezone: America/New_York
calendars: [{name: g, url: FIXTURES/google.ics, timezone: Europe/Zurich}]
pools: {user: {}}
""",
        utc("2026-03-01T00:00"),
    )
    assert book.plan(utc("2026-03-19T23:00")).pools["user"].target == 1
    assert book.plan(utc("2026-03-20T23:00")).pools["user"].target == 0


def test_floating_time_without_any_zone_is_utc():
    book = book_for(
        """
calendars: [{name: n, url: FIXTURES/nextcloud.ics}]
pools: {user: {}}
""",
        utc("2026-03-01T00:00"),
    )
    assert book.plan(utc("2026-03-24T14:05")).pools["user"].target == 1
    assert book.plan(utc("2026-03-24T13:05")).pools["user"].target == 0


def test_next_start_per_pool():
    book = book_for(CONFIG, utc("2026-03-01T00:00"))
    plan = book.plan(utc("2026-03-02T12:00"))
    assert plan.next_start["user"] == utc("2026-03-02T16:40")
    assert plan.next_start["gpu"] == utc("2026-03-02T16:20")
