"""Every configured feed, refreshed off the reconcile round, and the plan they give.

A refresh (fetch + parse + expand) runs in a bounded worker process (feeds/worker.py); the book
keeps each feed's last good copy: the parsed calendar expanded over a window, and the feed's bytes
(zlib) to re-expand without a fetch when the window no longer covers the planning horizon.
``FeedRefresher`` drives the book from a background thread on calendarRefreshInterval; a round
only reads ``views``/``plan``/``statuses`` and never waits on a feed server. ``load_once`` is the
same bounded path for `plan` and `validate`. A feed URL is a secret: only ``redact(url)`` is
ever logged or printed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .. import planning
from ..config.settings import CalendarSource, Settings
from ..ical.calendar import ParsedCalendar
from ..model import Problem, ProblemKind
from ..planning import CalendarView
from ..problems.upcoming import HORIZON as PROBLEM_HORIZON
from ..urls import UrlError, classify, printable, redact
from .files import FileTooLarge, NotRegularFile, read_regular
from .types import FeedStatus, FetchResult, FetchSink
from .worker import Job, Outcome, Runner, run_bounded

logger = logging.getLogger(__name__)

PARSE_BUDGET = timedelta(seconds=40)  # parse + expand (the engine's own budget is 20 s)
# The worker's address-space cap (RLIMIT_AS) follows maxFeedBytes: a worker starts at about
# 45 MiB of address space and an ordinary feed needs about 9 MiB more per MB; 64 MiB + 10 per
# byte leaves room (164 MiB at the default 10 MiB), and raising maxFeedBytes raises the cap.
WORKER_BASE_BYTES = 64 * 1024 * 1024
WORKER_BYTES_PER_FEED_BYTE = 10
BEHIND = timedelta(days=1)  # an expansion starts this long before now
AHEAD = timedelta(days=3)  # ... and this long past the horizon (re-expanded about every 2 days)
TICK = 10.0  # the refresher looks at least this often (seconds) for due feeds


def horizon(settings: Settings) -> timedelta:
    """How far past ``now`` a feed's expansion must reach: the plan's horizon (planning.py),
    and at least the upcoming problems' (problems/upcoming.py)."""
    return max(planning.horizon(settings), PROBLEM_HORIZON)


def expansion_window(
    settings: Settings, first: datetime, last: datetime
) -> tuple[datetime, datetime]:
    """The window to expand so that plans at any instant in [first, last] are complete."""
    behind = max([BEHIND, *(s.limits.lookback() for s in settings.calendars)])
    return first - behind, last + horizon(settings) + AHEAD


def worker_memory(settings: Settings) -> int:
    """The worker's memory cap in bytes (164 MiB at the default maxFeedBytes of 10 MiB)."""
    return WORKER_BASE_BYTES + WORKER_BYTES_PER_FEED_BYTE * settings.max_feed_bytes


@dataclass(frozen=True)
class GoodCopy:
    """A feed's last good content: parsed, and its bytes (zlib) to re-expand."""

    calendar: ParsedCalendar
    packed: bytes
    etag: str | None
    last_modified: str | None
    digest: str | None
    success: datetime


@dataclass(frozen=True)
class Feed:
    """What the book knows of one feed (replaced whole on every change)."""

    source: CalendarSource
    copy: GoodCopy | None = None
    last_attempt: datetime | None = None
    last_result: str = "never"
    last_error: str | None = None
    seconds: float | None = None
    worker_peak: int = 0  # bytes: the worker's peak resident size in the last refresh

    def usable(self, now: datetime, max_staleness: timedelta) -> bool:
        return self.copy is not None and now - self.copy.success <= max_staleness

    def status(self, now: datetime, max_staleness: timedelta) -> FeedStatus:
        success = self.copy.success if self.copy else None
        return FeedStatus(
            name=self.source.name,
            ok=self.usable(now, max_staleness),
            last_success=success,
            staleness_seconds=None if success is None else (now - success).total_seconds(),
            last_result=self.last_result,
            last_attempt=self.last_attempt,
            last_error=self.last_error,
            event_count=self.copy.calendar.event_count if self.copy else 0,
            seconds=self.seconds,
        )


class CalendarBook:
    """The feeds' states; ``refresh`` runs the due refreshes one after another (one worker
    at a time, so the memory bound is the parent plus one worker)."""

    def __init__(
        self,
        settings: Settings,
        runner: Runner = run_bounded,
        window: tuple[datetime, datetime] | None = None,
        *,
        sink: FetchSink | None = None,
    ) -> None:
        """``sink``: told each fetch's result as it happens (the metrics)."""
        self.settings = settings
        self._run, self._sink = runner, sink
        self._window = window
        self._lock = threading.Lock()
        self._feeds = {s.name: Feed(s) for s in settings.calendars}

    def feeds(self) -> list[Feed]:
        with self._lock:
            return list(self._feeds.values())

    def statuses(self, now: datetime) -> list[FeedStatus]:
        return [f.status(now, self.settings.max_staleness) for f in self.feeds()]

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        return self._window or expansion_window(self.settings, now, now)

    def due(self, feed: Feed, now: datetime) -> bool:
        interval = self.settings.calendar_refresh_interval
        return feed.last_attempt is None or now - feed.last_attempt >= interval

    def copy_too_short(self, feed: Feed, now: datetime) -> bool:
        """The copy's expansion no longer covers [now - 1d, now + horizon + 1d]."""
        if feed.copy is None or self._window is not None:
            return False
        start, end = feed.copy.calendar.window
        return start > now - BEHIND or end < now + horizon(self.settings) + timedelta(days=1)

    def seconds_to_next(self, now: datetime) -> float:
        """Seconds until the next feed is due (at most TICK)."""
        interval = self.settings.calendar_refresh_interval
        waits = [
            ((f.last_attempt + interval) - now).total_seconds()
            for f in self.feeds()
            if f.last_attempt is not None
        ]
        return max(0.0, min([TICK, *waits]))

    def refresh(
        self, now: datetime, *, force: bool = False, cancel: threading.Event | None = None
    ) -> None:
        """Fetch every due feed (all if ``force``); re-expand those whose window is short."""
        for feed in self.feeds():
            if cancel is not None and cancel.is_set():
                return
            if force or self.due(feed, now):
                self._refresh(feed, now, cancel, expand_only=False)
            elif self.copy_too_short(feed, now):
                self._refresh(feed, now, cancel, expand_only=True)

    def _refresh(
        self, feed: Feed, now: datetime, cancel: threading.Event | None, expand_only: bool
    ) -> None:
        try:
            feed = with_current_address(feed)
            outcome = self._run(self._job(feed, now, expand_only), cancel)
        except AddressError as error:
            outcome = Outcome(error.result, str(error))
        except Exception as error:  # the worker could not even start: this feed, this time
            logger.exception("calendar=%s: the feed worker failed", printable(feed.source.name))
            outcome = Outcome(
                FetchResult.WORKER_ERROR, f"the feed worker could not run ({type(error).__name__})"
            )
        updated = _apply(feed, outcome, now, expand_only)
        with self._lock:
            self._feeds[feed.source.name] = updated
        _log(updated, outcome, expand_only)
        if self._sink is not None and not expand_only:
            self._sink.fetched(feed.source.name, FetchResult(updated.last_result))

    def _job(self, feed: Feed, now: datetime, expand_only: bool) -> Job:
        source, settings, copy = feed.source, self.settings, feed.copy
        return Job(
            name=source.name,
            url=source.url,
            base_dir=source.base_dir,
            pools=tuple(settings.pools),
            source_zone=source.timezone,
            default_zone=settings.timezone,
            window=self.window(now),
            max_bytes=settings.max_feed_bytes,
            fetch_seconds=settings.feed_timeout.total_seconds(),
            parse_seconds=PARSE_BUDGET.total_seconds(),
            memory_bytes=worker_memory(settings),
            etag=copy.etag if copy else None,
            last_modified=copy.last_modified if copy else None,
            digest=copy.digest if copy else None,
            packed=copy.packed if copy and expand_only else None,
        )

    def views(self, now: datetime) -> list[CalendarView]:
        return [self._view(feed, now) for feed in self.feeds()]

    def _view(self, feed: Feed, now: datetime) -> CalendarView:
        usable = feed.usable(now, self.settings.max_staleness)
        problems: list[Problem] = []
        if feed.last_error is not None:
            age = None if feed.copy is None else (now - feed.copy.success).total_seconds()
            kept = "" if age is None else f"; using the copy from {age:.0f}s ago"
            if not usable:
                kept = "; no usable copy, its pools are left as they are"
            problems.append(
                Problem(ProblemKind.FEED_ERROR, f"{feed.last_error}{kept}", feed.source.name)
            )
        elif feed.copy is not None and not usable:
            problems.append(
                Problem(
                    ProblemKind.FEED_STALE,
                    "last good copy is older than maxStaleness; its pools are left as they are",
                    feed.source.name,
                )
            )
        calendar = feed.copy.calendar if feed.copy is not None and usable else None
        if calendar is not None:
            problems.extend(calendar.warnings)
        return CalendarView(feed.source, calendar, tuple(problems))


def _apply(feed: Feed, outcome: Outcome, now: datetime, expand_only: bool) -> Feed:
    """The feed after one refresh: a new copy, a confirmed one, or the old one and an error."""
    copy, result = feed.copy, outcome.result
    if result is FetchResult.OK and outcome.calendar is not None and outcome.packed is not None:
        copy = GoodCopy(
            outcome.calendar,
            outcome.packed,
            outcome.etag,
            outcome.last_modified,
            outcome.digest,
            copy.success if expand_only and copy else now,
        )
    elif result in (FetchResult.UNCHANGED, FetchResult.NOT_MODIFIED) and copy is not None:
        copy = replace(
            copy,
            etag=outcome.etag or copy.etag,
            success=now,
            last_modified=outcome.last_modified or copy.last_modified,
        )
    elif result.good:  # a 304 or "unchanged" with no copy to confirm: not silence
        result = FetchResult.WORKER_ERROR
    error = None if result.good else (outcome.message or result.value)
    if expand_only:
        error = None if error is None else f"re-expanding the stored copy: {error}"
        return replace(
            feed,
            copy=copy,
            last_error=error or feed.last_error,
            last_result=result.value if error else feed.last_result,
        )
    return replace(
        feed,
        copy=copy,
        last_attempt=now,
        last_result=result.value,
        last_error=error,
        seconds=round(outcome.seconds, 3),
        worker_peak=outcome.peak_rss,
    )


def _log(feed: Feed, outcome: Outcome, expand_only: bool) -> None:
    name = printable(feed.source.name, 60)
    for line in outcome.logs:
        logger.warning("calendar=%s worker: %s", name, line)
    level = logging.INFO if outcome.result.good else logging.WARNING
    logger.log(
        level,
        "calendar=%s feed=%s %s=%s seconds=%.2f worker_peak_mib=%d%s",
        name,
        redact(feed.source.url),
        "expand" if expand_only else "result",
        outcome.result.value,
        outcome.seconds,
        outcome.peak_rss >> 20,
        f" error={printable(outcome.message or '')!r}" if not outcome.result.good else "",
    )


def load_once(
    settings: Settings,
    now: datetime,
    window: tuple[datetime, datetime],
    runner: Runner = run_bounded,
) -> CalendarBook:
    """Every feed refreshed once through the bounded worker, expanded over ``window`` alone
    (`plan`, `validate`)."""
    book = CalendarBook(settings, runner, window)
    book.refresh(now, force=True)
    return book


class FeedRefresher:
    """A background thread that keeps a CalendarBook fresh (what the pod cache does for pods)."""

    def __init__(self, book: CalendarBook, clock: Callable[[], datetime]) -> None:
        self.book, self._clock = book, clock
        self.loaded = threading.Event()  # every feed attempted once
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="feed-refresher", daemon=True)

    def start(self) -> FeedRefresher:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current refresh (its worker is killed at once)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.book.refresh(self._clock(), cancel=self._stop)
            except Exception:  # a bug must not end the refreshes
                logger.exception("feed refresher: unexpected error; going on")
            if not self._stop.is_set():
                self.loaded.set()
            self._stop.wait(self.book.seconds_to_next(self._clock()))


URL_FILE_LIMIT = 8192  # bytes: a feed address, not a feed


class AddressError(Exception):
    """The urlFromFile file cannot be read or holds no feed address (never says the address)."""

    def __init__(self, result: FetchResult, message: str) -> None:
        super().__init__(message)
        self.result = result


def with_current_address(feed: Feed) -> Feed:
    """The feed with its address as its urlFromFile file holds it now (a rotated Secret is
    used from the next refresh on); the validators of the old address are dropped when it
    changed. Feeds with url or urlFromEnv are returned as they are."""
    source = feed.source
    if source.url_from_file is None:
        return feed
    where = f"urlFromFile {printable(source.url_from_file, 120)}"
    try:
        url = read_regular(source.url_from_file, URL_FILE_LIMIT).decode("utf-8").strip()
    except (OSError, NotRegularFile, FileTooLarge, UnicodeDecodeError) as error:
        raise AddressError(
            FetchResult.FILE_ERROR,
            f"{where}: cannot read the feed address ({type(error).__name__})",
        ) from None
    try:
        classify(url)
    except UrlError:
        raise AddressError(
            FetchResult.BAD_URL,
            f"{where}: not a feed address (http(s)://, webcal://, file:// or a path)",
        ) from None
    if url == source.url:
        return feed
    copy = feed.copy and replace(feed.copy, etag=None, last_modified=None)
    return replace(feed, source=replace(source, url=url), copy=copy)


def environment() -> Mapping[str, str]:
    """The process environment (for urlFromEnv), kept here to keep settings pure."""
    return dict(os.environ)
