"""A course calendar with the mistakes teaching staff make, dated around ``now``.

Six upcoming labs each carry one near miss (a typo or another shape of ``user: 3``); one
upcoming lecture carries free text that looks like a request (``Room: 101``) and a valid
request; one event last month carries a typo that no longer matters.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .ics import Event, calendar

NEAR_MISSES = ("usr: 3", "users: 3", "user 3", "user=3", "user: 3 nodes", "user: three")
FREE_TEXT = ("Room: 101", "Zoom: 123456789", "Capacity: 120", "Lecture 3: 10")


def events(now: datetime, *, fixed: bool = False) -> list[Event]:
    """The labs of the next days (``fixed``: their lines corrected to ``user: 3``)."""
    base = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    labs = [
        Event(
            f"Lab {index + 1}",
            base + timedelta(days=index),
            base + timedelta(days=index, hours=2),
            f"Bring your laptop\n{'user: 3' if fixed else line}",
            uid=f"lab-{index}",
        )
        for index, line in enumerate(NEAR_MISSES)
    ]
    lecture = Event(
        "Lecture",
        base + timedelta(hours=4),
        base + timedelta(hours=5),
        "\n".join((*FREE_TEXT, "user: 2")),
        uid="lecture",
    )
    past = Event(
        "Old exam",
        now - timedelta(days=30),
        now - timedelta(days=30, hours=-2),
        "usr: 4",
        uid="old-exam",
    )
    return [*labs, lecture, past]


def feed(now: datetime, *, fixed: bool = False) -> bytes:
    return calendar(events(now, fixed=fixed))
