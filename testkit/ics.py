"""Calendar feeds for tests, benchmarks and the demo: events in, the bytes a calendar app serves.

Built with the icalendar library (escaping, folding, UTC stamps), so a test's feed is as a
real calendar app writes it. Hostile, hand-made text is testkit.hostile_calendars' job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar
from icalendar import Event as VEvent

PRODID = "-//node-placeholder-scaler//testkit//EN"


@dataclass(frozen=True)
class Event:
    """One event; ``description`` holds the request lines (``user: 2\\nlead: 15m``)."""

    summary: str
    start: datetime  # aware
    end: datetime
    description: str = ""
    uid: str = ""


def calendar(events: Iterable[Event], *, prodid: str = PRODID) -> bytes:
    """A VCALENDAR with these events, times in UTC; UIDs ``event-<n>@testkit`` unless given."""
    cal = Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    for index, event in enumerate(events):
        component = VEvent()
        component.add("uid", event.uid or f"event-{index}@testkit")
        component.add("dtstamp", event.start.astimezone(UTC))
        component.add("dtstart", event.start.astimezone(UTC))
        component.add("dtend", event.end.astimezone(UTC))
        component.add("summary", event.summary)
        if event.description:
            component.add("description", event.description)
        cal.add_component(component)
    return bytes(cal.to_ical())
