"""Time zones of one feed, and the tolerant component parser.

icalendar keeps the zones it builds from VTIMEZONE components in a process-wide cache
(``icalendar.timezone.tzp``) keyed by TZID, first one wins: Outlook's "Customized Time Zone"
of one feed would apply to every other feed, and a changed zone would keep its old rules
until restart. ``feed_scope()`` is the seam that defeats it: it empties that cache (through
the public ``tzp.use_zoneinfo()``) before and after each feed, and serialises feeds parsed in
one process, so a feed only ever sees its own zones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import ComponentFactory
from icalendar.cal.component import Component
from icalendar.parser.ical.component import ComponentIcalParser
from icalendar.prop import TypesFactory
from icalendar.timezone import tzp

from .bounds import SeriesTimeout, time_limit
from .icsplit import Block
from .mending import Mender, zone_tzid

UTC = ZoneInfo("UTC")
_FEED_LOCK = threading.Lock()
_FACTORY = ComponentFactory()


@contextmanager
def feed_scope() -> Iterator[None]:
    """Parse and expand one feed with no custom zone of any other feed visible."""
    with _FEED_LOCK:
        tzp.use_zoneinfo()
        try:
            yield
        finally:
            tzp.use_zoneinfo()


class _TolerantParser(ComponentIcalParser):
    """icalendar's parser, tolerant in every component (alarms and zones too).

    A value that cannot be read becomes a ``vBroken`` and an entry in the component's
    ``errors``; a VTIMEZONE whose rules cannot be built is noted in ``zone_errors``.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text, _FACTORY, TypesFactory.instance())
        self.zone_errors: list[str] = []

    def handle_begin_component(self, vals: str) -> None:
        super().handle_begin_component(vals)
        component: Any = self._stack[-1]
        component.ignore_exceptions = True  # an instance attribute: this component only

    def handle_end_component(self, vals: str) -> None:
        try:
            super().handle_end_component(vals)
        except Exception as error:  # building the zone's rules failed: the zone is unknown
            self.zone_errors.append(error_text(error))


def parse_block(block: Block, text: str | None = None) -> tuple[list[Any], list[str]]:
    """Parse one component block (or its mended ``text``) tolerantly: (components, zone
    errors). May raise."""
    parser = _TolerantParser(block.text() if text is None else text)
    components: list[Component] = parser.parse()
    return components, parser.zone_errors


def load_zones(zones: list[Block], mender: Mender, seconds: float) -> list[tuple[str, str]]:
    """Parse the feed's VTIMEZONEs (mended) into the (feed-scoped) cache; their problems as
    (TZID, text)."""
    problems: list[tuple[str, str]] = []
    for block in zones:
        tzid = (zone_tzid(block) or ["?"])[0].strip()[:100]
        text, mended = mender.zone(block)
        problems.extend((tzid, m) for m in mended)
        if text is None:
            continue
        try:
            with time_limit(seconds):
                _, errors = parse_block(block, text)
        except SeriesTimeout:
            errors = [f"building its rules takes longer than {seconds:g}s"]
        except MemoryError:
            raise
        except Exception as error:  # a zone that cannot be parsed at all
            errors = [error_text(error)]
        problems.extend(
            (
                tzid,
                f"time zone {tzid!r} cannot be read: {e}; its events are read in "
                "the calendar's zone (check its STANDARD and DAYLIGHT parts)",
            )
            for e in errors
        )
    return problems


def choose_zone(
    source_zone: ZoneInfo | None, feed_zone: str | None, default_zone: ZoneInfo | None
) -> tuple[ZoneInfo, str | None]:
    """The calendar's own zone: source setting, else X-WR-TIMEZONE, else global, else UTC.

    Returns the zone and, if X-WR-TIMEZONE named an unknown zone, a warning text.
    """
    if source_zone is not None:
        return source_zone, None
    if feed_zone:
        try:
            return ZoneInfo(feed_zone.strip()), None
        except (KeyError, ValueError, OSError):
            warning = f"X-WR-TIMEZONE {feed_zone[:100]!r} is not a known zone; ignored"
            return default_zone or UTC, warning
    return default_zone or UTC, None


_INTERNAL = (
    AttributeError,
    TypeError,
    KeyError,
    IndexError,
    NameError,
    AssertionError,
    ZeroDivisionError,
    RecursionError,
    UnboundLocalError,
    OSError,
)  # OSError: a zone file lookup, its text a local path


def error_text(error: BaseException) -> str:
    """The first line of an error, at most 200 characters; never a programming error's text
    (``'list' object has no attribute 'strip'`` says nothing to whoever writes the feed)."""
    if isinstance(error, _INTERNAL):
        return "a value is not as RFC 5545 requires"
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]
