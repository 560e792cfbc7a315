"""Hard limits of one feed's parse and expansion, and the per-series time limit.

dateutil walks a recurrence rule period by period until it finds a match or passes the year
9999, and a rule that never matches (``BYMONTH=2;BYMONTHDAY=30;FREQ=HOURLY``, or a
``BYSETPOS`` beyond its set) would hold the process for minutes. ``time_limit`` interrupts
such a walk: in the main thread (the CLI, the feed worker's child process) a SIGALRM timer
raises ``SeriesTimeout`` inside the loop, which the per-series seam turns into a problem.
In other threads the feed-wide budget and the worker's hard deadline remain the bound.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType


@dataclass(frozen=True)
class Limits:
    """Hard limits of one feed (published in docs/reliability/benchmarks.md)."""

    max_events: int = 50_000  # VEVENTs read per feed; the rest are one problem
    max_per_series: int = 1_000  # occurrences of one series in the window
    max_occurrences: int = 100_000  # occurrences of the whole feed in the window
    max_rule_steps: int = 200_000  # FREQ periods from DTSTART to the window's end
    series_seconds: float = 2.0  # parse + expansion of one series (or one VTIMEZONE)
    time_budget: float = 20.0  # seconds of parse + expansion per feed
    max_problems: int = 500  # problems kept per feed (then one "and N more")


class BudgetExhausted(Exception):
    """The feed's time budget or occurrence cap is used up: stop expanding."""


class SeriesTimeout(BaseException):
    """One series took longer than ``Limits.series_seconds`` (a BaseException, so that no
    library's ``except Exception`` swallows it)."""


_ARMED = {"on": False}
REPEAT = 0.05  # seconds between repeated alarms


def _interrupt(signum: int, frame: FrameType | None) -> None:
    if _ARMED["on"]:
        raise SeriesTimeout
    signal.setitimer(signal.ITIMER_REAL, 0)  # a late alarm after the body ended


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise SeriesTimeout in the body after ``seconds`` (main thread only, else no-op).

    The alarm repeats every REPEAT seconds until the body ends: a SeriesTimeout raised while
    a finaliser or a gc callback runs is swallowed by Python (found by the long fuzz run),
    and the next alarm raises it again.
    """
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _interrupt)
    _ARMED["on"] = True
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield
    finally:
        _ARMED["on"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
