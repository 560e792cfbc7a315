"""The status page: a StatusView -> one HTML document (pure; Jinja2 with autoescape).

Every text from a calendar goes through the template's autoescape: nothing here builds markup
from strings. The timeline picture is inline SVG whose geometry (numbers only) is computed
below; the page needs no JavaScript and no other request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import jinja2

from .template import TEMPLATE
from .view import PoolView, StatusView

WIDTH, HEIGHT = 720.0, 150.0  # the SVG's viewBox
LEFT, RIGHT, TOP, BOTTOM = 34.0, 8.0, 10.0, 22.0  # plot margins inside it


@dataclass(frozen=True)
class Box:
    x: float
    width: float
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    """One pool's timeline picture: the requested nodes as a step line, leads shaded."""

    line: str  # SVG path data (numbers and commands only)
    area: str
    leads: tuple[Box, ...]
    events: tuple[Box, ...]
    days: tuple[Tick, ...]
    top: int  # the y axis' largest value
    y_top: float
    y_bottom: float
    x_now: float


def _x(t: datetime, view: StatusView) -> float:
    span = (view.until - view.now).total_seconds()
    where = min(max((t - view.now).total_seconds() / span, 0.0), 1.0)
    return round(LEFT + where * (WIDTH - LEFT - RIGHT), 1)


def chart(pool: PoolView, view: StatusView) -> Chart:
    top = max([1, *(s.nodes for s in pool.steps), *(e.request for e in pool.events)])
    bottom, plot = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP

    def y(nodes: int) -> float:
        return round(bottom - plot * min(nodes, top) / top, 1)

    steps = pool.steps or ()
    moves = [f"M{LEFT},{y(steps[0].nodes if steps else 0)}"]
    for step in steps[1:]:
        moves.append(f"H{_x(step.at, view)}V{y(step.nodes)}")
    moves.append(f"H{WIDTH - RIGHT}")
    line = "".join(moves)
    area = f"{line}V{bottom}H{LEFT}Z"
    leads = tuple(
        Box(_x(e.opens, view), _width(e.opens, e.start, view), f"lead of {e.title}")
        for e in pool.events
        if e.lead > timedelta(0)
    )
    events = tuple(
        Box(_x(e.start, view), _width(e.start, e.end, view), e.title) for e in pool.events
    )
    return Chart(line, area, leads, events, _days(view), top, TOP, bottom, _x(view.now, view))


def _width(start: datetime, end: datetime, view: StatusView) -> float:
    """At least 3 units: a 20-minute surge is still seen on a week's picture."""
    return round(max(_x(end, view) - _x(start, view), 3.0), 1)


def _days(view: StatusView) -> tuple[Tick, ...]:
    """A tick at each local midnight in the window, labelled with the day."""
    first = view.now.astimezone(view.zone).date()
    ticks = []
    for offset in range(1, view.until.toordinal() - view.now.toordinal() + 2):
        day = datetime.combine(first + timedelta(days=offset), time(0), tzinfo=view.zone)
        if day < view.until:
            ticks.append(Tick(_x(day, view), day.strftime("%a %d")))
    return tuple(ticks)


def when(t: datetime | None, zone: ZoneInfo) -> str:
    """A local time a person reads: ``Tue 08 Dec 09:00``."""
    return "-" if t is None else t.astimezone(zone).strftime("%a %d %b %H:%M")


def minutes(lead: timedelta) -> str:
    seconds = int(lead.total_seconds())
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def number(value: int | None) -> str:
    return "-" if value is None else str(value)


_ENVIRONMENT = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
)
_ENVIRONMENT.filters.update(minutes=minutes, seconds=seconds, number=number)
_PAGE = _ENVIRONMENT.from_string(TEMPLATE)


def render(view: StatusView) -> str:
    """The whole page."""
    charts = {pool.name: chart(pool, view) for pool in view.pools}
    return _PAGE.render(view=view, charts=charts, when=lambda t: when(t, view.zone))
