"""``plan``: the calendar side alone (no cluster needed)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..config.settings import Settings
from ..feeds.book import expansion_window, load_once
from ..planning import held, timeline
from ..planning import plan as plan_at
from ..plantext import holdings_table, plan_json, plan_table, timeline_json, timeline_table
from ..problems.upcoming import upcoming, window
from .common import CommandError, Exit, output_argument, structured

UTC = ZoneInfo("UTC")


def plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--at", help="instant (ISO 8601; no offset = the config's timezone)")
    parser.add_argument("--from", dest="start", help="start of a timeline (ISO 8601)")
    parser.add_argument("--to", dest="end", help="end of the timeline (default: start + 7 days)")
    output_argument(parser)


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
        book = load_once(settings, now, expansion_window(settings, when, when))
        views = book.views(now)
        plan = plan_at(views, settings, when)
        ahead = (p.as_problem() for p in upcoming(views, *window(when), settings))
        plan = replace(plan, problems=tuple(dict.fromkeys((*plan.problems, *ahead))))
        print(
            structured(plan_json(plan), args.output)
            if args.output != "table"
            else plan_table(plan, zone)
        )
        return Exit.OK
    start = start or now
    end = end or start + timedelta(days=7)
    if end <= start:  # a usage error: said before any feed is fetched
        raise CommandError("--to must be after --from", Exit.CONFIG)
    book = load_once(settings, now, expansion_window(settings, start, end))  # that window only
    plans = timeline(book.views(now), settings, start, end)
    print(
        structured(timeline_json(plans), args.output)
        if args.output != "table"
        else timeline_table(plans, zone)
    )
    if args.output == "table":
        print("\nNode-hours each event will hold:")
        print(holdings_table(held(book.views(now), settings, start, end), zone))
    return Exit.OK
