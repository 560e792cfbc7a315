"""Feed bytes -> a compact, picklable calendar expanded for a window.

Seams, from the outside in: the feed (``CalendarError`` only when no VCALENDAR can be
found), each component (``icsplit``, then ``mending``: its text mended as calendar programs
read it, each mend reported; then ``timezones.parse_block``: a broken event or zone costs
only itself), each series (``expansion``: an unreadable rule keeps its DTSTART occurrence)
and each occurrence. Custom time zones are scoped to the feed (``timezones.feed_scope``).
Nothing of icalendar is kept: the result holds occurrences, problems and counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from ..model import Occurrence, Problem, ProblemKind
from .bounds import BudgetExhausted, Limits, SeriesTimeout, time_limit
from .components import summary_text
from .expansion import Expander
from .icsplit import MAX_LINE, Block, SplitFeed, split_feed
from .mending import Mender
from .rawevents import far_from, start_of, text_of
from .timezones import choose_zone, error_text, feed_scope, load_zones, parse_block

__all__ = ["CalendarError", "Limits", "ParsedCalendar", "choose_zone", "parse_calendar"]

logger = logging.getLogger(__name__)
DEFAULT_LIMITS = Limits()


class CalendarError(Exception):
    """The feed is not an iCalendar we can read."""


class ParsedCalendar:
    """One feed's occurrences over ``window``, its problems and counts (plain, picklable).

    ``occurrences(start, end)`` within ``window`` only filters a list. Outside it, the feed
    is expanded again from its kept bytes (when ``keep_source``): over the window and the
    query when they meet, over the query alone when it lies apart (a past week is not
    expanded up to now). A slow path; the controller keeps its windows current instead.
    """

    def __init__(
        self,
        name: str,
        window: tuple[datetime, datetime],
        event_count: int,
        *,
        occurrences: tuple[Occurrence, ...],
        warnings: tuple[Problem, ...],
        described: tuple[Problem, ...],
        source: _Source | None,
        zone: ZoneInfo | None = None,
    ) -> None:
        self.name, self.window, self.event_count = name, window, event_count
        self.zone = zone or ZoneInfo("UTC")  # the feed's own zone (floating times, budgets)
        self.warnings = warnings
        self._occurrences = occurrences
        self._described = described
        self._source = source

    def occurrences(self, start: datetime, end: datetime) -> list[Occurrence]:
        """Occurrences overlapping [start, end), sorted by start (aware UTC datetimes)."""
        if self._source is not None and (start < self.window[0] or end > self.window[1]):
            apart = end < self.window[0] or start > self.window[1]
            wider = (
                (start, end) if apart else (min(start, self.window[0]), max(end, self.window[1]))
            )
            logger.debug("calendar=%s expands again for %s..%s", self.name, *wider)
            again = self._source.parse(wider)
            self.window, self._occurrences = again.window, again._occurrences
        return [o for o in self._occurrences if o.start < end and o.end > start]

    def problems(self) -> list[Problem]:
        """Every problem of the feed: its warnings and every event's description problems."""
        return [*self.warnings, *self._described]


class _Source:
    """What is needed to expand the feed again for another window (bytes and settings)."""

    def __init__(
        self,
        data: bytes,
        name: str,
        pools: tuple[str, ...],
        zones: tuple[ZoneInfo | None, ZoneInfo | None],
        limits: Limits,
    ) -> None:
        self.data, self.name, self.pools, self.zones, self.limits = (
            data,
            name,
            pools,
            zones,
            limits,
        )

    def parse(self, window: tuple[datetime, datetime]) -> ParsedCalendar:
        return parse_calendar(
            self.data,
            name=self.name,
            pools=self.pools,
            source_zone=self.zones[0],
            default_zone=self.zones[1],
            window=window,
            limits=self.limits,
        )


def parse_calendar(
    data: bytes,
    *,
    name: str,
    pools: Collection[str],
    source_zone: ZoneInfo | None = None,
    default_zone: ZoneInfo | None = None,
    window: tuple[datetime, datetime],
    limits: Limits = DEFAULT_LIMITS,
    keep_source: bool = True,
) -> ParsedCalendar:
    """Parse feed bytes and expand them for ``window`` (aware datetimes).

    Raise CalendarError only when nothing of the feed can be read.
    """
    feed = split_feed(data, limits.max_events)
    if not feed.calendars:
        raise CalendarError("not an iCalendar feed (no BEGIN:VCALENDAR)")
    if not feed.ended:
        raise CalendarError("the feed ends before END:VCALENDAR (cut off?)")
    feed_zone = _property(feed.properties, "X-WR-TIMEZONE")
    zone, warning = choose_zone(source_zone, feed_zone, default_zone)
    warnings = [Problem(ProblemKind.CALENDAR_ERROR, warning, name)] if warning else []
    warnings += _feed_problems(feed, name)
    expander = Expander(
        name,
        zone,
        pools,
        window=window,
        limits=limits,
        utc_to_zone=feed_zone is not None and warning is None,
    )
    mender = Mender(feed.zones)
    with feed_scope():
        mender.hold(load_zones(feed.zones, mender, limits.series_seconds))
        warnings += _expand_all(feed, expander, mender)
    warnings += [Problem(ProblemKind.BAD_COMPONENT, text, name) for text in mender.unclaimed()]
    occurrences = sorted(expander.occurrences, key=lambda o: (o.start, o.end, o.summary))
    source = _Source(data, name, tuple(pools), (source_zone, default_zone), limits)
    return ParsedCalendar(
        name,
        window,
        len(feed.events) + feed.skipped_events,
        occurrences=tuple(occurrences),
        warnings=_capped([*warnings, *expander.problems], limits.max_problems),
        described=_capped(expander.described, limits.max_problems),
        source=source if keep_source else None,
        zone=zone,
    )


def _expand_all(feed: SplitFeed, expander: Expander, mender: Mender) -> list[Problem]:
    """Parse and expand series by series (grouped by UID) until done or out of budget."""
    series = _by_uid(feed.events)
    done = 0
    try:
        for blocks in series:
            expander.check_budget()
            fields = blocks[0].fields if len(blocks) == 1 else None
            if fields is not None and far_from(fields, expander.window):
                _describe_raw(blocks[0], fields, expander)
            else:
                expander.series(_parse_blocks(blocks, expander, mender))
            done += 1
    except BudgetExhausted as error:
        left = len(series) - done
        logger.warning("calendar=%s %s; %d series not expanded", expander.name, error, left)
        return [
            Problem(
                ProblemKind.OVER_LIMIT,
                f"{error}; {left} of {len(series)} series are not planned",
                expander.name,
            )
        ]
    return []


def _describe_raw(block: Block, fields: dict[str, str], expander: Expander) -> None:
    """A lone event far from the window: only its description's problems are kept."""
    if fields.get("STATUS", "").upper() == "CANCELLED":
        return
    lines = block.lines
    text = text_of(lines, "DESCRIPTION") or text_of(lines, "X-ALT-DESC")
    expander.describe_raw(
        text,
        summary_text(text_of(lines, "SUMMARY")),
        start_of(fields.get("DTSTART", ""), expander.zone),
    )


def _by_uid(blocks: list[Block]) -> list[list[Block]]:
    groups: dict[str, list[Block]] = {}
    for index, block in enumerate(blocks):
        groups.setdefault(block.uid or f"\0{index}", []).append(block)
    return list(groups.values())


def _parse_blocks(blocks: list[Block], expander: Expander, mender: Mender) -> list[object]:
    """The per-component seam: each VEVENT is mended and parsed on its own."""
    components: list[object] = []
    for block in blocks:
        try:
            text, notes = mender.event(block)
            with time_limit(expander.series_seconds()):
                parsed, _ = parse_block(block, text)
            events = [c for c in parsed if getattr(c, "name", "") == "VEVENT"]
            components.extend(events)
            for note in notes:
                expander.note(
                    note.kind, note.message, events[0] if events else None, block.field("SUMMARY")
                )
        except (Exception, SeriesTimeout) as error:  # the library raises many kinds
            if isinstance(error, (BudgetExhausted, MemoryError)):
                raise
            reason = "it takes too long" if isinstance(error, SeriesTimeout) else error_text(error)
            expander.problems.append(
                Problem(
                    ProblemKind.BAD_COMPONENT,
                    f"the event cannot be read: {reason}",
                    expander.name,
                    block.field("SUMMARY")[:200] or "(no title)",
                    None,
                )
            )
    return components


def _feed_problems(feed: SplitFeed, name: str) -> Iterator[Problem]:
    if feed.cut_lines:
        yield Problem(
            ProblemKind.BAD_TEXT,
            (f"{feed.cut_lines} content line(s) longer than {MAX_LINE} characters were cut"),
            name,
        )
    if feed.skipped_events:
        yield Problem(
            ProblemKind.OVER_LIMIT,
            (
                f"the feed has {len(feed.events) + feed.skipped_events} events; only the first "
                f"{len(feed.events)} are read"
            ),
            name,
        )
    for block in feed.unclosed:
        yield Problem(
            ProblemKind.BAD_COMPONENT,
            (f"a {block.name} is not closed (no END:{block.name}); read up to the next component"),
            name,
            block.field("SUMMARY")[:200] or None,
        )


def _property(lines: list[str], name: str) -> str | None:
    for line in lines:
        head, _, value = line.partition(":")
        if head.split(";", 1)[0].strip().upper() == name:
            return value.strip()
    return None


def _capped(problems: list[Problem], limit: int) -> tuple[Problem, ...]:
    unique = list(dict.fromkeys(problems))
    if len(unique) <= limit:
        return tuple(unique)
    return (
        *unique[: limit - 1],
        Problem(
            ProblemKind.OVER_LIMIT,
            f"and {len(unique) - limit + 1} more problems",
            unique[0].calendar,
        ),
    )
