"""The face: every command's flags, client loading, exit codes and printing.

``node-placeholder-scaler run | plan | validate | size``. The commands live in this package
(run.py, plan.py, size.py); the modules they call (loop, sizing, feeds, planning, report)
neither print nor exit. A command returns an Exit code or raises CommandError (a message for
stderr and its exit code); ``main`` prints it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..config.settings import ConfigError
from . import plan, report, run, size, validate_cluster
from .common import (
    CLUSTER_COMMANDS,
    CONFIG_ENV,
    DEFAULT_CONFIG,
    Arguments,
    Command,
    CommandError,
    Exit,
    cluster_arguments,
    load_config,
)

__all__ = ["CommandError", "Exit", "main"]

# name, help, its flags, the command (settings and flags in, exit code out)
COMMANDS: tuple[tuple[str, str, Arguments, Command], ...] = (
    ("run", "run the controller", run.arguments, run.command),
    ("plan", "calendar targets (no cluster needed)", plan.plan_arguments, plan.plan_command),
    (
        "validate",
        "fetch every feed and list problems (--cluster: and preflight the cluster)",
        validate_cluster.arguments,
        validate_cluster.command,
    ),
    ("size", "placeholder requests from a live node", size.arguments, size.command),
    (
        "report",
        "recent event reports: waits, warm capacity, advice",
        report.arguments,
        report.command,
    ),
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
QUIET = frozenset({"plan", "validate", "report"})  # INFO logs would mix with the output


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="node-placeholder-scaler",
        description="Pre-warm node pools from a course calendar with placeholder pods.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="name", required=True)
    for name, text, arguments, command in COMMANDS:
        sub = commands.add_parser(name, help=text)
        sub.add_argument(
            "--config",
            "-c",
            help=f"configuration file (default: ${CONFIG_ENV}, "
            f"else {DEFAULT_CONFIG}, else the installed release's)",
        )
        sub.add_argument("--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS)
        sub.add_argument("--log-format", choices=("text", "json"), default="text")
        arguments(sub)
        if name in CLUSTER_COMMANDS:
            cluster_arguments(sub)
        sub.set_defaults(command=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The console script; returns the exit code."""
    try:
        return _main(argv)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.code
    except BrokenPipeError:  # `... | head`: the reader went away
        sys.stderr.close()
        return Exit.OK
    except KeyboardInterrupt:
        return Exit.INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error argparse printed
        return Exit.OK if done.code in (0, None) else Exit.CONFIG
    _setup_logging(args.log_level, args.log_format, quiet=args.name in QUIET)
    try:
        settings = load_config(args)
    except ConfigError as error:
        raise CommandError(f"bad configuration: {error}", Exit.CONFIG) from None
    code: int = args.command(settings, args)
    return code


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


def _setup_logging(level: str, fmt: str, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet and level == "INFO" else level)
