"""``validate``: fetch every feed and judge what is coming.

By default the window is now minus a small grace to a horizon (problems/upcoming.py: 1 hour back,
14 days ahead); ``--from``/``--to`` choose another, ``--all`` judges every event of every
feed. Exit 1 for a problem in the window or a feed problem (an error, a feed-level warning
with no date or one in the window); 0 otherwise: a past event's typo no longer fails it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..config.settings import Settings
from ..durations import format_duration
from ..feeds.book import CalendarBook, expansion_window, load_once
from ..model import Problem
from ..plantext import problem_line
from ..problems.upcoming import GRACE, HORIZON, upcoming, window
from .common import CommandError, Exit, output_argument, structured
from .plan import UTC, parse_instant


def window_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="start",
        help="judge occurrences from this instant (ISO 8601; default: now - 1h)",
    )
    parser.add_argument(
        "--to", dest="end", help=f"... to this one (default: from + {HORIZON.days} days)"
    )
    parser.add_argument(
        "--all", action="store_true", help="judge every event of every feed, past ones too"
    )
    output_argument(parser)


@dataclass(frozen=True)
class Verdict:
    """What validate found: per calendar a line, the problems, the window (None: --all)."""

    calendars: tuple[dict[str, Any], ...]
    problems: tuple[Problem, ...]
    window: tuple[datetime, datetime] | None
    chosen: bool = False  # the window came from --from/--to


def judge(settings: Settings, args: argparse.Namespace, now: datetime) -> Verdict:
    span = None if args.all else _window(settings, args, now)
    book = load_once(settings, now, expansion_window(settings, *(span or (now, now))))
    problems: list[Problem] = []
    calendars = []
    for feed, view in zip(book.feeds(), book.views(now), strict=True):
        count = feed.copy.calendar.event_count if feed.copy else 0
        calendars.append(
            {"name": feed.source.name, "result": str(feed.last_result), "events": count}
        )
        problems.extend(p for p in view.problems if span is None or _dated_in(p, span))
    if span is None:
        problems.extend(_every_event(book))
    else:
        problems.extend(p.as_problem() for p in upcoming(book.views(now), *span, settings))
    return Verdict(
        tuple(calendars), tuple(dict.fromkeys(problems)), span, chosen=bool(args.start or args.end)
    )


def _window(
    settings: Settings, args: argparse.Namespace, now: datetime
) -> tuple[datetime, datetime]:
    zone = settings.default_zone
    try:
        start = parse_instant(args.start, zone, now) if args.start else window(now)[0]
        end = (
            parse_instant(args.end, zone, now)
            if args.end
            else start + (window(now)[1] - window(now)[0])
        )
    except ValueError as error:
        raise CommandError(
            f"bad time: {error} (use ISO 8601, e.g. 2026-03-10T09:00)", Exit.CONFIG
        ) from None
    if end <= start:
        raise CommandError("--to must be after --from", Exit.CONFIG)
    return start, end


def _dated_in(problem: Problem, span: tuple[datetime, datetime]) -> bool:
    """A feed's own problem counts unless it is dated outside the window."""
    return problem.start is None or span[0] <= problem.start < span[1]


def _every_event(book: CalendarBook) -> list[Problem]:
    found: list[Problem] = []
    for feed in book.feeds():
        if feed.copy is not None:
            found.extend(feed.copy.calendar.problems())
    return found


def command(settings: Settings, args: argparse.Namespace) -> int:
    verdict = judge(settings, args, datetime.now(UTC))
    if args.output != "table":
        print(structured(json.dumps(_document(verdict), indent=2, ensure_ascii=False), args.output))
    else:
        print("\n".join(_lines(verdict, settings)))
    return Exit.PROBLEMS if verdict.problems else Exit.OK


def _document(verdict: Verdict) -> dict[str, Any]:
    span = verdict.window
    return {
        "window": None
        if span is None
        else {"from": span[0].isoformat(), "to": span[1].isoformat()},
        "calendars": list(verdict.calendars),
        "problems": [p.as_dict() for p in verdict.problems],
    }


def _lines(verdict: Verdict, settings: Settings) -> list[str]:
    zone = settings.default_zone
    lines = [
        f"calendar {c['name']}: {c['result']} ({c['events']} events)" for c in verdict.calendars
    ]
    if verdict.window is not None and verdict.chosen:
        start, end = (t.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") for t in verdict.window)
        lines.append(f"judging occurrences from {start} to {end}")
    elif verdict.window is not None:
        lines.append(
            f"judging occurrences from now - {format_duration(GRACE)} to "
            f"{HORIZON.days} days ahead (--from/--to: another window, --all: every "
            "event)"
        )
    lines += [f"  {problem_line(p, zone)}" for p in verdict.problems]
    lines.append(
        f"{len(verdict.problems)} problem(s) in {len(settings.calendars)} "
        f"calendar(s), {len(settings.pools)} pool(s)"
    )
    return lines
