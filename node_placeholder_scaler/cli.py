"""Command line: run | plan | validate | size."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from . import __version__
from .feeds import CalendarBook, environment
from .model import Problem
from .planning import timeline
from .report import plan_json, plan_table, problem_line, timeline_json, timeline_table
from .settings import ConfigError, Settings, load_settings

logger = logging.getLogger(__name__)
UTC = ZoneInfo("UTC")
EXIT_PROBLEMS, EXIT_CONFIG = 1, 2
DEFAULT_CONFIG = "/etc/node-placeholder-scaler/config.yaml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="node-placeholder-scaler",
        description="Pre-warm node pools from a course calendar with placeholder pods.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = _with_common(commands.add_parser("run", help="run the controller"))
    run.add_argument("--once", action="store_true", help="make one round and exit")
    run.add_argument("--dry-run", action="store_true", help="patch nothing; say what would change")
    run.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then KUBECONFIG)")
    plan = _with_common(commands.add_parser("plan", help="calendar targets (no cluster needed)"))
    plan.add_argument("--at", help="instant (ISO 8601; no offset = the config's timezone)")
    plan.add_argument("--from", dest="start", help="start of a timeline (ISO 8601)")
    plan.add_argument("--to", dest="end", help="end of the timeline (default: start + 7 days)")
    plan.add_argument("--output", choices=("table", "json"), default="table")
    _with_common(commands.add_parser("validate", help="fetch every feed and list problems"))
    size = _with_common(commands.add_parser("size", help="placeholder requests from a live node"))
    size.add_argument("--pool", required=True, help="the pool to size")
    size.add_argument("--node", help="the node to read (default: a Ready node of the pool)")
    size.add_argument("--margin", default="256Mi", help="memory left free (default 256Mi)")
    size.add_argument("--kubeconfig", help="kubeconfig file")
    return parser


def _with_common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--config", "-c", default=DEFAULT_CONFIG, help="configuration file")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `... | head`: the reader went away
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.log_level, args.log_format, quiet=args.command in ("plan", "validate"))
    try:
        settings = _load(args.config)
    except ConfigError as error:
        print(f"error: bad configuration: {error}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "plan":
        return _plan(settings, args)
    if args.command == "validate":
        return _validate(settings)
    if args.command == "run":
        from .loop import run_main

        return run_main(settings, once=args.once, dry_run=args.dry_run, kubeconfig=args.kubeconfig)
    from .sizing import size_main

    return size_main(settings, pool=args.pool, node=args.node, margin=args.margin,
                     kubeconfig=args.kubeconfig)


def _load(path: str) -> Settings:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(path, "", f"cannot read the file: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "", "the file is not UTF-8 text") from None
    return load_settings(text, path, environment())


def parse_instant(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """ISO 8601 (a trailing Z is UTC; no offset means ``zone``) or 'now'."""
    if text.strip().lower() == "now":
        return now
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _plan(settings: Settings, args: argparse.Namespace) -> int:
    zone, now = settings.default_zone, datetime.now(UTC)
    try:
        at = parse_instant(args.at, zone, now) if args.at else None
        start = parse_instant(args.start, zone, now) if args.start else None
        end = parse_instant(args.end, zone, now) if args.end else None
    except ValueError as error:
        print(f"error: bad time: {error} (use ISO 8601, e.g. 2026-03-10T09:00)", file=sys.stderr)
        return EXIT_CONFIG
    book = CalendarBook(settings)
    book.refresh(now, force=True)
    if at is not None or (start is None and args.output == "json"):
        plan = book.plan(at or now, now=now)
        print(plan_json(plan) if args.output == "json" else plan_table(plan, zone))
        return 0
    start = start or now
    end = end or start + timedelta(days=7)
    if end <= start:
        print("error: --to must be after --from", file=sys.stderr)
        return EXIT_CONFIG
    plans = timeline(book.views(now), settings, start, end)
    print(timeline_json(plans) if args.output == "json" else timeline_table(plans, zone))
    return 0


def _validate(settings: Settings) -> int:
    now = datetime.now(UTC)
    book = CalendarBook(settings)
    book.refresh(now, force=True)
    problems: list[Problem] = []
    for state, view in zip(book.states(), book.views(now), strict=True):
        problems.extend(view.problems)
        count = state.calendar.event_count if state.calendar else 0
        print(f"calendar {state.name}: {state.last_result} ({count} events)")
        if state.calendar is not None:
            problems.extend(p for p in state.calendar.problems() if p not in view.problems)
    for problem in problems:
        print(f"  {problem_line(problem, settings.default_zone)}")
    print(f"{len(problems)} problem(s) in {len(settings.calendars)} calendar(s), "
          f"{len(settings.pools)} pool(s)")
    return EXIT_PROBLEMS if problems else 0


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        import json

        return json.dumps({
            "time": self.formatTime(record), "level": record.levelname,
            "logger": record.name, "message": record.getMessage(),
        })


def _setup_logging(level: str, fmt: str, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet and level.upper() == "INFO" else level.upper())
