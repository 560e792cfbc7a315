"""``plan`` and ``validate``: the calendar side alone (no cluster needed)."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..feeds import expansion_window, load_once
from ..model import Problem
from ..planning import timeline
from ..report import plan_json, plan_table, problem_line, timeline_json, timeline_table
from ..settings import Settings
from .common import CommandError, Exit, output_argument, structured

UTC = ZoneInfo("UTC")


def plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--at", help="instant (ISO 8601; no offset = the config's timezone)")
    parser.add_argument("--from", dest="start", help="start of a timeline (ISO 8601)")
    parser.add_argument("--to", dest="end", help="end of the timeline (default: start + 7 days)")
    output_argument(parser)


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """``validate`` has only the common flags."""


def parse_instant(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """ISO 8601 (a trailing Z is UTC; no offset means ``zone``) or 'now'."""
    if text.strip().lower() == "now":
        return now
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _instants(
    args: argparse.Namespace, zone: ZoneInfo, now: datetime
) -> tuple[datetime | None, datetime | None, datetime | None]:
    try:
        at, start, end = (
            parse_instant(text, zone, now) if text else None
            for text in (args.at, args.start, args.end)
        )
    except ValueError as error:
        raise CommandError(
            f"bad time: {error} (use ISO 8601, e.g. 2026-03-10T09:00)", Exit.CONFIG
        ) from None
    return at, start, end


def plan_command(settings: Settings, args: argparse.Namespace) -> int:
    zone, now = settings.default_zone, datetime.now(UTC)
    at, start, end = _instants(args, zone, now)
    if at is not None or (start is None and args.output != "table"):
        when = at or now
        book = load_once(settings, now, expansion_window(settings, min(now, when), max(now, when)))
        plan = book.plan(when, now=now)
        print(structured(plan_json(plan), args.output) if args.output != "table"
              else plan_table(plan, zone))
        return Exit.OK
    start = start or now
    end = end or start + timedelta(days=7)
    if end <= start:  # a usage error: said before any feed is fetched
        raise CommandError("--to must be after --from", Exit.CONFIG)
    book = load_once(settings, now, expansion_window(settings, min(now, start), max(now, end)))
    plans = timeline(book.views(now), settings, start, end)
    print(structured(timeline_json(plans), args.output) if args.output != "table"
          else timeline_table(plans, zone))
    return Exit.OK


def validate_command(settings: Settings, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    book = load_once(settings, now, expansion_window(settings, now, now))
    problems: list[Problem] = []
    for feed, view in zip(book.feeds(), book.views(now), strict=True):
        problems.extend(view.problems)
        count = feed.copy.calendar.event_count if feed.copy else 0
        print(f"calendar {feed.source.name}: {feed.last_result} ({count} events)")
        if feed.copy is not None:
            problems.extend(p for p in feed.copy.calendar.problems() if p not in view.problems)
    for problem in problems:
        print(f"  {problem_line(problem, settings.default_zone)}")
    print(f"{len(problems)} problem(s) in {len(settings.calendars)} calendar(s), "
          f"{len(settings.pools)} pool(s)")
    return Exit.PROBLEMS if problems else Exit.OK
